"""Screens of the Inventory menu: stock levels, the ledger, adjustments and approvals."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, request
from flask_babel import gettext, lazy_gettext
from flask_appbuilder.actions import action
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import FilterEqual, FilterNotEqual, FilterSmaller

from .. import models as m
from ..errors import DomainError
from ..workflows.ledger import reverse_transaction
from .base import ABPartsModelView
from .interface import ABPartsInterface, FilterHiddenFromBlindCounters, FilterWarehouseKind


class FilterStockOrganization(BaseFilter):
    """Stock lines of the warehouses of one organization, by its (unique) name, e.g.
    ``_flt_2_warehouse=Aegean Aquafarms``: the dashboard's per-organization figures link here."""

    name = lazy_gettext("Organization is")
    arg_name = "stock_organization"

    def checked_value(self, value):
        return value

    def apply(self, query, value):
        warehouses = sa.select(m.Warehouse.id).join(m.Organization, m.Organization.id == m.Warehouse.organization_id)
        return query.filter(m.Inventory.warehouse_id.in_(warehouses.where(m.Organization.name == value)))


#: The stock screens' datamodel: FAB's filters plus the organization of a line's warehouse.
STOCK_DATAMODEL = ABPartsInterface(m.Inventory, extra_filters={"warehouse": [FilterStockOrganization]})


class InventoryColumns(ABPartsModelView):
    """Stock balances per warehouse and part: the columns of every stock screen.

    Not registered itself.  The screens are siblings, not subclasses of
    :class:`InventoryModelView`, because FAB's ``related_views`` takes every
    registered instance of the class it names.
    """

    datamodel = STOCK_DATAMODEL
    class_permission_name = "Inventory"
    list_title = lazy_gettext("Stock levels")
    base_filters = [["warehouse_id", FilterWarehouseKind, False], ["warehouse_id", FilterHiddenFromBlindCounters, True]]
    list_columns = ["warehouse", "part", "stock_on_hand", "reorder_point", "status", "last_updated"]
    show_columns = ["warehouse", "part", "stock_on_hand", "reorder_point", "status", "unit_of_measure",
                    "reorder_threshold_set_by", "last_recommendation_update", "last_updated", "created_at"]
    add_columns = ["warehouse", "part", "minimum_stock_recommendation", "reorder_threshold_set_by"]
    edit_columns = ["minimum_stock_recommendation", "reorder_threshold_set_by"]
    #: ``status`` (:attr:`app.models.Inventory.status`): ``?_flt_0_status=low`` lists the low
    #: lines, ``_flt_1_status`` is "not equal"; sorted by severity (out, low, ok, excess).
    search_columns = ["warehouse", "part", "status", "current_stock", "minimum_stock_recommendation", "last_updated"]
    base_order = ("last_updated", "desc")
    label_columns = {"stock_on_hand": lazy_gettext("Stock on hand"), "reorder_point": lazy_gettext("Reorder point"),
                     "minimum_stock_recommendation": lazy_gettext("Reorder point"), "status": lazy_gettext("Status"),
                     "current_stock": lazy_gettext("Stock on hand (number)"),
                     "last_updated": lazy_gettext("Last posting")}
    description_columns = {
        "minimum_stock_recommendation": lazy_gettext("Reorder point, in the part's unit of measure."),
        "status": lazy_gettext("Out: nothing on hand; low: at or below the reorder point; excess: over "
                               "%(factor)s times the reorder point; a line without a reorder point is "
                               "never low or in excess.", factor=m.Inventory.EXCESS_FACTOR),
    }


class InventoryModelView(InventoryColumns):
    """Stock on hand per warehouse and part.  Balances change only through the
    ledger; here one sets the reorder point (``minimum_stock_recommendation``)."""


class InTransitView(InventoryColumns):
    """Stock in transit per organization and part: dispatched by stock transfers and not yet
    received, returned or written off.  The balances of the transit locations, read only."""

    list_title = lazy_gettext("Stock in transit")
    base_permissions = ["can_read"]
    base_filters = [["warehouse_id", FilterWarehouseKind, True], ["current_stock", FilterNotEqual, 0]]
    list_columns = ["warehouse.organization", "part", "stock_on_hand", "last_updated"]
    show_columns = ["warehouse", "part", "stock_on_hand", "unit_of_measure", "last_updated"]
    search_columns = ["part", "last_updated"]
    label_columns = {**InventoryColumns.label_columns, "stock_on_hand": lazy_gettext("In transit"),
                     "warehouse.organization": lazy_gettext("Sending organization")}


class InventoryNegativeView(InventoryColumns):
    """Negative balances (possible only with ALLOW_NEGATIVE_STOCK): the warning list."""

    list_title = lazy_gettext("Negative stock (warning)")
    base_filters = [["current_stock", FilterSmaller, 0]]


class TransactionModelView(ABPartsModelView):
    """The stock ledger.  Append-only: no edit, no delete; a mistake is reversed."""

    datamodel = ABPartsInterface(m.Transaction)
    class_permission_name = "Transaction"
    base_permissions = ["can_read", "can_add", "can_reverse"]
    exclude_route_methods = {"edit", "delete"}
    list_title = lazy_gettext("Stock ledger")
    text_search_columns = ["part.part_number", "part.name", "notes", "reference_number"]
    # The warehouses by name, for both parties of a movement (a receipt's source is the
    # sender's transit location, its destination the receiver's warehouse).
    list_columns = ["transaction_date", "transaction_type", "part", "quantity_with_unit", "from_warehouse_name",
                    "to_warehouse_name", "performed_by_user", "approval_status", "reference_number"]
    show_columns = ["transaction_date", "transaction_type", "part", "quantity_with_unit", "from_warehouse_name",
                    "to_warehouse_name", "machine", "performed_by_user", "requires_approval", "approval_status",
                    "reversal_of", "reference_number", "notes", "created_at"]
    add_columns = ["transaction_type", "part", "quantity", "from_warehouse", "to_warehouse", "machine",
                   "transaction_date", "reference_number", "requires_approval", "notes"]
    # A ledger row moves stock within the user's organization; stock for another
    # organization goes through Stock Transfers (dispatch and receipt, issue 8).
    # Transit locations are the transfers' own.
    add_form_query_rel_fields = {
        column: [["is_active", FilterEqual, True], ["is_transit", FilterEqual, False]]
        for column in ("from_warehouse", "to_warehouse")
    }
    search_columns = ["transaction_type", "part", "from_warehouse", "to_warehouse", "machine",
                      "performed_by_user", "transaction_date", "approval_status", "reference_number"]
    base_order = ("transaction_date", "desc")
    label_columns = {"quantity_with_unit": lazy_gettext("Quantity"), "from_warehouse": lazy_gettext("From"),
                     "to_warehouse": lazy_gettext("To"), "from_warehouse_name": lazy_gettext("From"),
                     "to_warehouse_name": lazy_gettext("To"), "performed_by_user": lazy_gettext("Performed by"),
                     "transaction_type": lazy_gettext("Type"), "transaction_date": lazy_gettext("Date"),
                     "reversal_of": lazy_gettext("Reverses")}
    description_columns = {
        "transaction_type": lazy_gettext("creation: into To; transfer: From -> To; consumption: out of From; "
                                         "adjustment: into To or out of From."),
        "quantity": lazy_gettext("In the part's unit of measure; whole units for consumables, up to 3 decimals "
                                 "for bulk."),
        "requires_approval": lazy_gettext("Posts nothing until an approval is recorded."),
        "to_warehouse": lazy_gettext("Destination: one of your organization's active warehouses. "
                                     "To send stock to another organization, use Stock Transfers."),
    }

    #: The ledger is append-only: an export holds the rows written at or before its "as of" time
    #: (by default its start; ``?as_of=`` re-runs a logged export).  Not ``transaction_date``,
    #: which may be entered in the past: a row recorded later would join an earlier export.
    export_as_of_column = "created_at"

    def export_values_as_of(self, session, as_of):
        """A ledger row's one changing cell, its approval status, as it was at ``as_of``:
        ``pending`` while its decision (a :class:`~app.models.TransactionApproval`) came later."""
        decided_later = set(session.execute(sa.select(m.TransactionApproval.transaction_id).where(
            m.TransactionApproval.created_at > as_of)).scalars())
        if not decided_later:
            return {}
        pending = m.ApprovalStatus.pending.value
        return {"approval_status": lambda txn: pending if txn.id in decided_later else txn.approval_status}

    @action("reverse", lazy_gettext("Reverse"), lazy_gettext("Post the opposite movement of this transaction?"),
            "fa-undo", multiple=False)
    def reverse(self, item):
        """Post the reversal of one transaction (at most once).

        :raise 404: when the transaction does not exist or is not the user's to see.
        """
        if isinstance(item, list):
            item = item[0] if len(item) == 1 else None
        if item is None:
            abort(404)
        try:
            reverse_transaction(item.id)
        except DomainError as exc:
            flash(str(exc), "danger")
        else:
            flash(gettext("Reversed: the opposite movement is posted."), "success")
            self.update_redirect()
        return redirect(request.referrer or self.get_redirect())


class StockAdjustmentModelView(ABPartsModelView):
    """Reason-coded corrections; each posts its own adjustment transaction."""

    datamodel = ABPartsInterface(m.StockAdjustment)
    class_permission_name = "StockAdjustment"
    base_permissions = ["can_read", "can_add"]
    exclude_route_methods = {"edit", "delete"}
    list_title = lazy_gettext("Stock adjustments")
    list_columns = ["adjustment_date", "inventory", "quantity_with_unit", "reason_code", "user"]
    show_columns = ["adjustment_date", "inventory", "quantity_with_unit", "reason_code", "notes", "user",
                    "transaction", "created_at"]
    add_columns = ["inventory", "quantity_adjusted", "reason_code", "notes"]
    search_columns = ["inventory", "reason_code", "user", "adjustment_date"]
    base_order = ("adjustment_date", "desc")
    label_columns = {"quantity_with_unit": lazy_gettext("Quantity"), "inventory": lazy_gettext("Stock record"),
                     "user": lazy_gettext("Adjusted by"), "quantity_adjusted": lazy_gettext("Quantity adjusted")}
    description_columns = {
        "quantity_adjusted": lazy_gettext("Positive adds stock, negative takes it away (part's unit of measure)."),
        "reason_code": lazy_gettext("Why: count difference, damage, expiry, found, ..."),
    }


class TransactionApprovalModelView(ABPartsModelView):
    """Decisions on transactions that require approval: approving posts them."""

    datamodel = ABPartsInterface(m.TransactionApproval)
    class_permission_name = "TransactionApproval"
    base_permissions = ["can_read", "can_add"]
    exclude_route_methods = {"edit", "delete"}
    list_title = lazy_gettext("Approvals")
    list_columns = ["created_at", "transaction", "status", "approver", "notes"]
    show_columns = ["created_at", "transaction", "status", "approver", "notes"]
    add_columns = ["transaction", "status", "notes"]
    search_columns = ["status", "approver", "created_at"]
    base_order = ("created_at", "desc")
    add_form_query_rel_fields = {"transaction": [["approval_status", FilterEqual, "pending"]]}
    label_columns = {"created_at": lazy_gettext("Decided at"), "approver": lazy_gettext("Decided by")}
    description_columns = {"transaction": lazy_gettext("Only transactions pending approval are listed.")}
