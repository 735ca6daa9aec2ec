"""Enumerations of the ABParts schema (seed 001 and seed 000, "New Enum Types").

Member names equal their stored values so that forms, the REST API and the
database all speak the same words.
"""
import enum


class _Labelled(str, enum.Enum):
    """A string enum that prints as a readable label ("Oraseas EE", "bulk material")."""

    def __str__(self) -> str:
        return _LABELS.get(self.value, self.value.replace("_", " ").capitalize())


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


_LABELS = {"oraseas_ee": "Oraseas EE", "bossaqua": "BossAqua",
           # StockStatus (no other enum has these values)
           "out": "Out of stock", "low": "Low stock", "ok": "OK", "excess": "Excess stock"}
