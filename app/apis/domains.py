"""The REST API of every domain table: thin classes over :class:`ABPartsRestApi`.

Resource names are snake_case singular (``/api/v1/warehouse/``); permissions
are shared with the screens of the same domain (``class_permission_name``).
"""
from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import permission_name, protect

from .. import models as m
from ..i18n import _
from ..models.types import parse_timestamp
from ..reports.usage import machine_usage
from ..rules.orders import orderable_customers
from ..views.interface import ABPartsInterface, FilterHiddenFromBlindCounters, FilterWarehouseKind
from ..views.organizations import REAL_WAREHOUSES
from . import payload
from .base import ABPartsRestApi
from .orders import CustomerOrderActions, SupplierOrderActions
from .stocktake import StocktakeRestApi
from .transfers import ApprovalActions, LedgerActions, StockTransferRestApi

#: The ledger and its derived records are append-only: no PUT, no DELETE (405).
APPEND_ONLY = {"get", "get_list", "info", "post"}
READ_ONLY = {"get", "get_list", "info"}


class OrganizationRestApi(ABPartsRestApi):
    resource_name = "organization"
    class_permission_name = "Organization"
    datamodel = ABPartsInterface(m.Organization)
    list_columns = ["id", "name", "organization_type", "parent_organization_id", "is_active"]
    show_columns = list_columns + ["address", "contact_info", "order_approval_threshold", "created_at", "updated_at"]
    add_columns = ["name", "organization_type", "parent_organization", "address", "contact_info", "is_active",
                   "order_approval_threshold"]
    edit_columns = add_columns
    search_columns = ["name", "organization_type", "parent_organization", "is_active"]


class WarehouseRestApi(ABPartsRestApi):
    resource_name = "warehouse"
    class_permission_name = "Warehouse"
    datamodel = ABPartsInterface(m.Warehouse)
    base_filters = REAL_WAREHOUSES
    list_columns = ["id", "name", "organization_id", "location", "is_active"]
    show_columns = list_columns + ["description", "created_at", "updated_at"]
    add_columns = ["organization", "name", "location", "description", "is_active"]
    edit_columns = add_columns
    search_columns = ["name", "organization", "location", "is_active"]


class PartRestApi(ABPartsRestApi):
    resource_name = "part"
    class_permission_name = "Part"
    datamodel = ABPartsInterface(m.Part)
    list_columns = ["id", "part_number", "name", "part_type", "unit_of_measure", "is_proprietary", "unit_price"]
    show_columns = list_columns + ["description", "manufacturer_part_number", "manufacturer_delivery_time_days",
                                   "local_supplier_delivery_time_days", "created_at", "updated_at"]
    add_columns = ["part_number", "name", "description", "part_type", "unit_of_measure", "is_proprietary",
                   "unit_price", "manufacturer_part_number", "manufacturer_delivery_time_days",
                   "local_supplier_delivery_time_days"]
    edit_columns = add_columns
    search_columns = ["part_number", "name", "part_type", "is_proprietary"]


class MachineUsageAction:
    """``GET /api/v1/machine/<id>/usage?from=2026-01-01&to=2026-07-01``: the machine's part usage."""

    @expose("/<pk>/usage", methods=["GET"])
    @protect()
    @safe
    @permission_name("usage")
    def usage(self, pk):
        """The part usage of one machine: records (newest first, at most 500) and totals per part.
        ---
        get:
          summary: Part usage of a machine, with totals per part and the last usage date
          parameters:
          - {in: path, name: pk, required: true, schema: {type: string, format: uuid}}
          - {in: query, name: from, schema: {type: string}, description: "From this date (inclusive), e.g. 2026-01-01"}
          - {in: query, name: to, schema: {type: string}, description: "Before this date"}
          responses:
            200: {description: "records, totals and last_used"}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        session = self.datamodel.session
        machine = self.datamodel.get(pk)
        if machine is None:
            return self.response_404()
        try:
            since, until = (parse_timestamp(request.args[k]) if request.args.get(k) else None for k in ("from", "to"))
        except ValueError as exc:
            return self.response_400(message=_('"from" and "to": %(error)s', error=str(exc)))
        found = machine_usage(session, machine.id, since, until)
        return self.response(200, id=str(machine.id), result={
            "last_used": payload.text(found.last_used),
            "totals": [{"part_id": str(t.part.id), "part_number": t.part.part_number,
                        "unit_of_measure": t.part.unit_of_measure, "quantity": payload.text(t.quantity),
                        "times": t.times, "last_used": payload.text(t.last_used)} for t in found.totals],
            "records": [{"id": str(r.id), "usage_date": payload.text(r.usage_date), "part_id": str(r.part_id),
                         "quantity": payload.text(r.quantity), "warehouse_id": str(r.warehouse_id),
                         "recorded_by_user_id": r.recorded_by_user_id, "notes": r.notes}
                        for r in found.records],
        })


class MachineRestApi(MachineUsageAction, ABPartsRestApi):
    resource_name = "machine"
    class_permission_name = "Machine"
    datamodel = ABPartsInterface(m.Machine)
    list_columns = ["id", "name", "serial_number", "model_type", "customer_organization_id", "status"]
    show_columns = list_columns + ["location", "purchase_date", "warranty_expiry_date", "last_maintenance_date",
                                   "next_maintenance_date", "notes", "created_at", "updated_at"]
    add_columns = ["customer_organization", "name", "serial_number", "model_type", "status", "location",
                   "purchase_date", "warranty_expiry_date", "last_maintenance_date", "next_maintenance_date",
                   "notes"]
    edit_columns = add_columns
    search_columns = ["name", "serial_number", "model_type", "customer_organization", "status"]


class InventoryRestApi(ABPartsRestApi):
    resource_name = "inventory"
    class_permission_name = "Inventory"
    datamodel = ABPartsInterface(m.Inventory)
    #: Stock on hand, as the stock levels screen: transit is read per transfer (stock_transfer).
    base_filters = [["warehouse_id", FilterWarehouseKind, False], ["warehouse_id", FilterHiddenFromBlindCounters, True]]
    #: ``status``: out, low, ok or excess (:attr:`app.models.Inventory.status`); filter with
    #: ``(col:status,opr:eq,value:low)``, sort by severity with ``order_column:status``.
    list_columns = ["id", "warehouse_id", "part_id", "current_stock", "minimum_stock_recommendation",
                    "unit_of_measure", "status", "last_updated"]
    show_columns = list_columns + ["reorder_threshold_set_by", "last_recommendation_update", "created_at"]
    add_columns = ["warehouse", "part", "minimum_stock_recommendation", "reorder_threshold_set_by"]
    edit_columns = ["minimum_stock_recommendation", "reorder_threshold_set_by"]
    search_columns = ["warehouse", "part", "status", "current_stock", "minimum_stock_recommendation"]


class TransactionRestApi(LedgerActions, ABPartsRestApi):
    resource_name = "transaction"
    class_permission_name = "Transaction"
    datamodel = ABPartsInterface(m.Transaction)
    include_route_methods = APPEND_ONLY | {"reverse"}
    list_columns = ["id", "transaction_type", "part_id", "quantity", "unit_of_measure", "from_warehouse_id",
                    "to_warehouse_id", "machine_id", "performed_by_user_id", "transaction_date",
                    "requires_approval", "approval_status", "reversal_of_id", "reference_number"]
    show_columns = list_columns + ["notes", "created_at"]
    add_columns = ["transaction_type", "part", "quantity", "unit_of_measure", "from_warehouse", "to_warehouse",
                   "machine", "transaction_date", "reference_number", "requires_approval", "notes"]
    search_columns = ["transaction_type", "part", "from_warehouse", "to_warehouse", "machine",
                      "transaction_date", "approval_status", "reference_number"]


class StockAdjustmentRestApi(ABPartsRestApi):
    resource_name = "stock_adjustment"
    class_permission_name = "StockAdjustment"
    datamodel = ABPartsInterface(m.StockAdjustment)
    include_route_methods = APPEND_ONLY
    list_columns = ["id", "inventory_id", "quantity_adjusted", "reason_code", "user_id", "adjustment_date",
                    "transaction_id"]
    show_columns = list_columns + ["notes", "created_at"]
    add_columns = ["inventory", "quantity_adjusted", "reason_code", "notes", "adjustment_date"]
    search_columns = ["inventory", "reason_code", "adjustment_date"]


class TransactionApprovalRestApi(ApprovalActions, ABPartsRestApi):
    resource_name = "transaction_approval"
    class_permission_name = "TransactionApproval"
    datamodel = ABPartsInterface(m.TransactionApproval)
    include_route_methods = APPEND_ONLY | {"approve", "reject"}
    list_columns = ["id", "transaction_id", "approver_id", "status", "notes", "created_at"]
    show_columns = list_columns
    add_columns = ["transaction", "status", "notes"]
    search_columns = ["status", "created_at"]


class CustomerOrderRestApi(CustomerOrderActions, ABPartsRestApi):
    """Customer orders; the customer is one of ``orderable_customers`` (as on the screen).
    The status moves only by ``/<id>/approve`` and ``/<id>/cancel`` (:mod:`app.apis.orders`)."""

    resource_name = "customer_order"
    class_permission_name = "CustomerOrder"
    datamodel = ABPartsInterface(m.CustomerOrder)
    related_choices = {"customer_organization": orderable_customers}
    list_columns = ["id", "customer_organization_id", "oraseas_organization_id", "order_date", "status",
                    "expected_delivery_date", "actual_delivery_date", "ordered_by_user_id"]
    show_columns = list_columns + ["notes", "created_at", "updated_at"]
    # the delivery date is set by the receipt (app.workflows.orders)
    add_columns = ["customer_organization", "order_date", "expected_delivery_date", "notes"]
    edit_columns = add_columns
    search_columns = ["customer_organization", "status", "order_date"]


class CustomerOrderItemRestApi(ABPartsRestApi):
    resource_name = "customer_order_item"
    class_permission_name = "CustomerOrderItem"
    datamodel = ABPartsInterface(m.CustomerOrderItem)
    list_columns = ["id", "customer_order_id", "part_id", "quantity", "unit_price"]
    show_columns = list_columns + ["created_at", "updated_at"]
    add_columns = ["customer_order", "part", "quantity", "unit_price"]
    edit_columns = add_columns
    search_columns = ["customer_order", "part"]


class SupplierOrderRestApi(SupplierOrderActions, ABPartsRestApi):
    """Supplier orders; the status moves only by ``/<id>/cancel`` (:mod:`app.apis.orders`)."""

    resource_name = "supplier_order"
    class_permission_name = "SupplierOrder"
    datamodel = ABPartsInterface(m.SupplierOrder)
    list_columns = ["id", "ordering_organization_id", "supplier_name", "order_date", "status",
                    "expected_delivery_date", "actual_delivery_date"]
    show_columns = list_columns + ["notes", "created_at", "updated_at"]
    add_columns = ["ordering_organization", "supplier_name", "order_date", "expected_delivery_date", "notes"]
    edit_columns = add_columns
    search_columns = ["supplier_name", "ordering_organization", "status", "order_date"]


class SupplierOrderItemRestApi(ABPartsRestApi):
    resource_name = "supplier_order_item"
    class_permission_name = "SupplierOrderItem"
    datamodel = ABPartsInterface(m.SupplierOrderItem)
    list_columns = ["id", "supplier_order_id", "part_id", "quantity", "unit_price"]
    show_columns = list_columns + ["created_at", "updated_at"]
    add_columns = ["supplier_order", "part", "quantity", "unit_price"]
    edit_columns = add_columns
    search_columns = ["supplier_order", "part"]


class PartUsageRestApi(ABPartsRestApi):
    resource_name = "part_usage"
    class_permission_name = "PartUsage"
    datamodel = ABPartsInterface(m.PartUsage)
    include_route_methods = APPEND_ONLY
    list_columns = ["id", "customer_organization_id", "part_id", "machine_id", "warehouse_id", "quantity",
                    "usage_date", "recorded_by_user_id", "transaction_id"]
    show_columns = list_columns + ["notes", "created_at"]
    add_columns = ["warehouse", "machine", "part", "quantity", "usage_date", "notes"]
    search_columns = ["customer_organization", "machine", "part", "warehouse", "usage_date"]


class SecurityEventRestApi(ABPartsRestApi):
    resource_name = "security_event"
    class_permission_name = "SecurityEvent"
    datamodel = ABPartsInterface(m.SecurityEvent)
    include_route_methods = READ_ONLY
    list_columns = ["id", "timestamp", "event_type", "user_id", "risk_level", "ip_address"]
    show_columns = list_columns + ["user_agent", "session_id", "details"]
    search_columns = ["event_type", "risk_level", "timestamp"]


class UserSessionRestApi(ABPartsRestApi):
    resource_name = "user_session"
    class_permission_name = "UserSession"
    datamodel = ABPartsInterface(m.UserSession)
    include_route_methods = READ_ONLY
    list_columns = ["id", "user_id", "created_at", "last_activity", "expires_at", "is_active", "ip_address"]
    show_columns = list_columns + ["user_agent"]
    search_columns = ["is_active", "created_at", "expires_at"]


ALL_APIS = [
    OrganizationRestApi, WarehouseRestApi, PartRestApi, MachineRestApi, InventoryRestApi,
    TransactionRestApi, StockAdjustmentRestApi, TransactionApprovalRestApi, CustomerOrderRestApi,
    CustomerOrderItemRestApi, SupplierOrderRestApi, SupplierOrderItemRestApi, PartUsageRestApi,
    SecurityEventRestApi, UserSessionRestApi, StockTransferRestApi, StocktakeRestApi,
]


def register_apis(appbuilder) -> None:
    """Add every domain API to ``appbuilder``."""
    for api in ALL_APIS:
        appbuilder.add_api(api)
