"""Enumerations of the ABParts schema (seed 001 and seed 000, "New Enum Types").

Member names equal their stored values so that forms, the REST API and the
database all speak the same words.
"""
import enum

from ..i18n import _, localize


class _Labelled(str, enum.Enum):
    """A string enum that prints as a readable label ("Oraseas EE", "Bulk material"),
    in the current request's language (English without a request)."""

    @property
    def label(self):
        """The member's label, a :class:`~app.i18n.Message` (English)."""
        return _LABELS.get(self.value) or _(self.value.replace("_", " ").capitalize())

    def english(self) -> str:
        """The English label (what a rule's English message prints)."""
        return str.__str__(self.label)

    def localized(self) -> str:
        """The label in the current request's language."""
        return localize(self.label)

    def __str__(self) -> str:
        return self.localized()


class OrganizationType(_Labelled):
    oraseas_ee = "oraseas_ee"
    bossaqua = "bossaqua"
    customer = "customer"
    supplier = "supplier"


class UserStatus(_Labelled):
    active = "active"
    inactive = "inactive"
    pending_invitation = "pending_invitation"
    locked = "locked"


class PartType(_Labelled):
    consumable = "consumable"
    bulk_material = "bulk_material"


class MachineStatus(_Labelled):
    active = "active"
    inactive = "inactive"
    maintenance = "maintenance"
    decommissioned = "decommissioned"


class TransactionType(_Labelled):
    creation = "creation"
    transfer = "transfer"
    consumption = "consumption"
    adjustment = "adjustment"


class ApprovalStatus(_Labelled):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class TransferStatus(_Labelled):
    """States of a stock transfer (issue 8); transitions in ``app.workflows.transfers``."""

    draft = "draft"
    dispatched = "dispatched"
    received = "received"
    received_with_discrepancy = "received_with_discrepancy"
    cancelled = "cancelled"


class CustomerOrderStatus(_Labelled):
    """States of a customer order (issues 8 and 10); transitions in ``app.workflows.orders``."""

    draft = "draft"
    requested = "requested"
    approved = "approved"
    shipped = "shipped"
    received = "received"
    cancelled = "cancelled"


class SupplierOrderStatus(_Labelled):
    """States of a supplier order (issues 8 and 10); transitions in ``app.workflows.orders``."""

    ordered = "ordered"
    partially_received = "partially_received"
    received = "received"
    cancelled = "cancelled"


class StocktakeStatus(_Labelled):
    """States of a stocktake (issue 9); transitions in ``app.workflows.stocktake``."""

    planned = "planned"
    counting = "counting"
    awaiting_approval = "awaiting_approval"
    completed = "completed"
    cancelled = "cancelled"


class StockStatus(_Labelled):
    """The status of one stock line against its reorder point (issue 11), worst first.

    ``out``: nothing on hand (or a negative balance); ``low``: on hand but at or
    below the reorder point; ``excess``: more than
    ``Inventory.EXCESS_FACTOR`` times the reorder point; ``ok``: otherwise.  A
    line without a reorder point (0) is never low or in excess.
    """

    out = "out"
    low = "low"
    ok = "ok"
    excess = "excess"


#: Every member's label, one msgid each (the same words as the value, capitalized).
_LABELS = {
    "oraseas_ee": _("Oraseas EE"), "bossaqua": _("BossAqua"), "customer": _("Customer"), "supplier": _("Supplier"),
    "active": _("Active"), "inactive": _("Inactive"), "pending_invitation": _("Pending invitation"),
    "locked": _("Locked"), "consumable": _("Consumable"), "bulk_material": _("Bulk material"),
    "maintenance": _("Maintenance"), "decommissioned": _("Decommissioned"), "creation": _("Creation"),
    "transfer": _("Transfer"), "consumption": _("Consumption"), "adjustment": _("Adjustment"),
    "pending": _("Pending"), "approved": _("Approved"), "rejected": _("Rejected"), "draft": _("Draft"),
    "dispatched": _("Dispatched"), "received": _("Received"),
    "received_with_discrepancy": _("Received with discrepancy"), "cancelled": _("Cancelled"),
    "requested": _("Requested"), "shipped": _("Shipped"), "ordered": _("Ordered"),
    "partially_received": _("Partially received"), "planned": _("Planned"), "counting": _("Counting"),
    "awaiting_approval": _("Awaiting approval"), "completed": _("Completed"),
    # StockStatus (no other enum has these values)
    "out": _("Out of stock"), "low": _("Low stock"), "ok": _("OK"), "excess": _("Excess stock"),
}
