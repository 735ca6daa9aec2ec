"""Screens of the Orders menu: customer orders and supplier orders, with their lines.

An order's status is shown (as words) and never edited: its show page offers
buttons for the workflow steps the user may take (:mod:`app.workflows.orders`).
"""
from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_appbuilder import expose, has_access

from .. import models as m
from ..errors import DomainError
from ..extensions import csrf
from ..rules.orders import orderable_customers_criterion
from ..workflows import orders as ow
from ..workflows.base import acting_user
from .base import ABPartsModelView
from .interface import ABPartsInterface

_ITEM_LABELS = {"quantity_with_unit": "Quantity", "unit_price": "Unit price"}
_ITEM_DESCRIPTIONS = {
    "quantity": "In the part's unit of measure; whole units for consumables, up to 3 decimals for bulk.",
    "unit_price": "Leave empty for the part's unit price.",
}
_ORDER_DATES = ["order_date", "expected_delivery_date", "actual_delivery_date"]


class OrderSteps:
    """The workflow steps of an order on its show page: buttons posting (with CSRF) to one route a step.

    Which buttons: :func:`app.workflows.orders.allowed_actions`, so a page never
    offers a step the command would refuse for that user.  A refusal is flashed
    with the rule's message.
    """

    show_template = "abparts/order_show.html"
    #: step -> (button label, button style, message when done).
    step_buttons: dict[str, tuple[str, str, str]] = {}

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        """FAB's show page plus ``order_steps``: ``[(step, label, style)]`` the user may take.

        :raise 404: no such order for this user.
        """
        order = self.datamodel.get(pk, self._base_filters)
        if order is None:
            abort(404)
        allowed = ow.allowed_actions(acting_user(self.datamodel.session, reading=True), order)
        steps = [(step, label, style) for step, (label, style, _done) in self.step_buttons.items() if step in allowed]
        return self.render_template(self.show_template, pk=pk, title=self.show_title, widgets=self._show(pk),
                                    related_views=self._related_views, order_steps=steps)

    def _step(self, pk, step: str, call):
        csrf.protect()
        try:
            call(pk)
        except DomainError as exc:
            if exc.status == 404:
                abort(404)
            flash(str(exc), "danger")
        else:
            flash(self.step_buttons[step][2], "success")
        return redirect(url_for(".show", pk=pk))


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


class CustomerOrderModelView(OrderSteps, ABPartsModelView):
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
    add_columns = ["customer_organization", *_ORDER_DATES, "notes"]
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

    step_buttons = {"approve": ("Approve", "btn-primary", "Approved."),
                    "cancel": ("Cancel order", "btn-danger", "Cancelled.")}

    @expose("/approve/<pk>", methods=["POST"])
    @has_access
    def approve(self, pk):
        """Approve the requested order ``pk``; :raise 404: not visible."""
        return self._step(pk, "approve", ow.approve_customer_order)

    @expose("/cancel/<pk>", methods=["POST"])
    @has_access
    def cancel(self, pk):
        """Cancel the order ``pk``; :raise 404: not visible."""
        return self._step(pk, "cancel", ow.cancel_customer_order)


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


class SupplierOrderModelView(OrderSteps, ABPartsModelView):
    datamodel = ABPartsInterface(m.SupplierOrder)
    class_permission_name = "SupplierOrder"
    list_title = "Supplier orders"
    list_columns = ["order_date", "supplier_name", "ordering_organization", "status",
                    "expected_delivery_date", "actual_delivery_date"]
    add_columns = ["ordering_organization", "supplier_name", *_ORDER_DATES, "notes"]
    edit_columns = add_columns
    show_columns = ["ordering_organization", "supplier_name", *_ORDER_DATES, "status", "notes",
                    "created_at", "updated_at"]
    search_columns = ["supplier_name", "ordering_organization", "status", "order_date"]
    base_order = ("order_date", "desc")
    related_views = [SupplierOrderItemModelView]
    label_columns = {"ordering_organization": "Ordered by"}
    step_buttons = {"cancel": ("Cancel order", "btn-danger", "Cancelled.")}

    @expose("/cancel/<pk>", methods=["POST"])
    @has_access
    def cancel(self, pk):
        """Cancel the ordered supplier order ``pk``; :raise 404: not visible."""
        return self._step(pk, "cancel", ow.cancel_supplier_order)
