"""Screens of the Orders menu: customer orders and supplier orders, with their lines."""
from __future__ import annotations

from .. import models as m
from .base import ABPartsModelView
from .interface import ABPartsInterface

_ITEM_LABELS = {"quantity_with_unit": "Quantity", "unit_price": "Unit price"}
_ITEM_DESCRIPTIONS = {
    "quantity": "In the part's unit of measure; whole units for consumables, up to 3 decimals for bulk.",
    "unit_price": "Leave empty for the part's unit price.",
}
_ORDER_DATES = ["order_date", "expected_delivery_date", "actual_delivery_date"]


class CustomerOrderItemModelView(ABPartsModelView):
    datamodel = ABPartsInterface(m.CustomerOrderItem)
    class_permission_name = "CustomerOrderItem"
    list_title = "Customer order lines"
    list_columns = ["customer_order", "part", "quantity_with_unit", "unit_price"]
    add_columns = ["customer_order", "part", "quantity", "unit_price"]
    edit_columns = add_columns
    show_columns = list_columns + ["created_at", "updated_at"]
    search_columns = ["customer_order", "part"]
    label_columns = _ITEM_LABELS
    description_columns = _ITEM_DESCRIPTIONS


class CustomerOrderModelView(ABPartsModelView):
    datamodel = ABPartsInterface(m.CustomerOrder)
    class_permission_name = "CustomerOrder"
    list_title = "Customer orders"
    list_columns = ["order_date", "customer_organization", "status", "expected_delivery_date",
                    "actual_delivery_date", "ordered_by_user"]
    add_columns = ["customer_organization", *_ORDER_DATES, "status", "notes"]
    edit_columns = add_columns
    show_columns = ["customer_organization", "oraseas_organization", *_ORDER_DATES, "status", "notes",
                    "ordered_by_user", "created_at", "updated_at"]
    search_columns = ["customer_organization", "status", "order_date"]
    base_order = ("order_date", "desc")
    related_views = [CustomerOrderItemModelView]
    label_columns = {"customer_organization": "Customer", "oraseas_organization": "Supplied by",
                     "ordered_by_user": "Ordered by"}
    description_columns = {"customer_organization": "Orders are placed by customers and supplied by Oraseas EE."}


class SupplierOrderItemModelView(ABPartsModelView):
    datamodel = ABPartsInterface(m.SupplierOrderItem)
    class_permission_name = "SupplierOrderItem"
    list_title = "Supplier order lines"
    list_columns = ["supplier_order", "part", "quantity_with_unit", "unit_price"]
    add_columns = ["supplier_order", "part", "quantity", "unit_price"]
    edit_columns = add_columns
    show_columns = list_columns + ["created_at", "updated_at"]
    search_columns = ["supplier_order", "part"]
    label_columns = _ITEM_LABELS
    description_columns = _ITEM_DESCRIPTIONS


class SupplierOrderModelView(ABPartsModelView):
    datamodel = ABPartsInterface(m.SupplierOrder)
    class_permission_name = "SupplierOrder"
    list_title = "Supplier orders"
    list_columns = ["order_date", "supplier_name", "ordering_organization", "status",
                    "expected_delivery_date", "actual_delivery_date"]
    add_columns = ["ordering_organization", "supplier_name", *_ORDER_DATES, "status", "notes"]
    edit_columns = add_columns
    show_columns = add_columns + ["created_at", "updated_at"]
    search_columns = ["supplier_name", "ordering_organization", "status", "order_date"]
    base_order = ("order_date", "desc")
    related_views = [SupplierOrderItemModelView]
    label_columns = {"ordering_organization": "Ordered by"}
