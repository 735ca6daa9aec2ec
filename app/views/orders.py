"""Screens of the Orders menu: customer orders and supplier orders, with their lines."""
from __future__ import annotations

from .. import models as m
from ..rules.orders import orderable_customers_criterion
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


_CUSTOMER_HELP = "Orders are placed by customers and supplied by Oraseas EE."


class CustomerOrderModelView(ABPartsModelView):
    """Customer orders: placed by a customer organization, addressed to Oraseas EE.

    - The customer choice offers :func:`app.rules.orders.orderable_customers`:
      every customer organization to Oraseas EE's staff (who take orders on
      behalf of customers), only its own organization to a customer's user,
      never a supplier.  The rule hooks hold every other path to the same choice.
    - Lists and the show page name the parties through the order row
      (``customer_organization_name``, ``oraseas_organization_name``): each party
      sees the other's name on the orders it may see, though not the other
      organization itself (:mod:`app.scoping`).
    """

    datamodel = ABPartsInterface(m.CustomerOrder)
    class_permission_name = "CustomerOrder"
    list_title = "Customer orders"
    list_columns = ["order_date", "customer_organization_name", "status", "expected_delivery_date",
                    "actual_delivery_date", "ordered_by_user"]
    add_columns = ["customer_organization", *_ORDER_DATES, "status", "notes"]
    edit_columns = add_columns
    # The customers one may order for, looked up as one types (app.views.choices);
    # read across organizations for Oraseas EE's staff, who order on behalf of customers.
    unscoped_rel_fields = {"add": ["customer_organization"], "edit": ["customer_organization"]}
    rel_choice_criteria = {"customer_organization": orderable_customers_criterion}
    show_columns = ["customer_organization_name", "oraseas_organization_name", *_ORDER_DATES, "status", "notes",
                    "ordered_by_user", "created_at", "updated_at"]
    search_columns = ["customer_organization", "status", "order_date"]
    base_order = ("order_date", "desc")
    related_views = [CustomerOrderItemModelView]
    label_columns = {"customer_organization": "Customer", "customer_organization_name": "Customer",
                     "oraseas_organization_name": "Supplied by", "ordered_by_user": "Ordered by"}
    description_columns = {"customer_organization": _CUSTOMER_HELP}

    def prefill_form(self, form, pk):
        """Select the order's customer in the edit form, also for Oraseas EE's staff.

        FAB fills the field from the ``customer_organization`` relationship, which
        scoping leaves empty for them (the customer is not in their scope); an
        empty choice would show the first customer instead and save it unnoticed.
        """
        order = self.datamodel.get(pk, self._base_filters)
        if order is not None:
            source = self._choice_sources[("edit", "customer_organization")]
            form.customer_organization.data = source.get(order.customer_organization_id)


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
