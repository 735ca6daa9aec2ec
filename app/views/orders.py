"""Screens of the Orders menu: customer orders and supplier orders, with their lines.

An order's status is shown (as words) and never edited: its show page offers
buttons for the workflow steps the user may take (:mod:`app.workflows.orders`).
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_babel import lazy_gettext

from .. import models as m
from ..errors import DomainError
from ..extensions import csrf
from ..rules.orders import OPEN_FOR_LINES, orderable_customers_criterion
from ..scoping import system
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
    """The workflow of an order on its show page (:mod:`app.workflows.orders`).

    Below FAB's fields: the lines with what was ordered, shipped and received
    (from the ledger), the forms of the steps the user may take now (buttons
    for submit, approve and cancel; quantity forms for ship and receive), the
    shipments, and the history (who took which step, when).  Which steps:
    :func:`app.workflows.orders.allowed_actions`, so a page never offers a step
    the command would refuse for that user.  A refusal is flashed with the rule's message.
    """

    show_template = "abparts/order_show.html"
    #: step -> (button label, button style, message when done), for the steps without a form.
    step_buttons: dict[str, tuple[str, str, str]] = {}

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        """FAB's show page plus the order's workflow (see the class).

        :raise 404: no such order for this user.
        """
        return self.show_page(pk, self._workflow)

    def _workflow(self, order) -> dict:
        session = self.datamodel.session
        allowed = ow.allowed_actions(acting_user(session, reading=True), order)
        steps = [(step, label, style) for step, (label, style, _done) in self.step_buttons.items() if step in allowed]
        return {"order_steps": steps, "actions": allowed, "line_add_url": self._line_add_url(order),
                **order_page(session, order, allowed)}

    #: The lines' model, screen endpoint and permission name, for the "Add a line" button.
    line_model: type = None
    line_endpoint = line_permission = ""

    def _line_add_url(self, order) -> str | None:
        """The lines' add form for ``order``, while its lines may change and the user may add lines."""
        relation, _model, states = OPEN_FOR_LINES[self.line_model]
        if order.status not in states or not self.appbuilder.sm.has_access("can_add", self.line_permission):
            return None
        return url_for(f"{self.line_endpoint}.add", **{f"_flt_0_{relation}": str(order.id)})

    def post_add_redirect(self):
        """After adding an order, its page: the user adds the lines there."""
        added = g.pop("abparts_added_order", None)
        return redirect(url_for(".show", pk=added) if added else url_for(".list"))

    def post_add(self, item):
        super().post_add(item)
        g.abparts_added_order = str(item.id)

    def _step(self, pk, step: str, call, done: str | None = None):
        csrf.protect()
        try:
            call(pk)
        except DomainError as exc:
            if exc.status == 404:
                abort(404)
            flash(str(exc), "danger")
        else:
            flash(str(done or self.step_buttons[step][2]), "success")
        return redirect(url_for(".show", pk=pk))


def _form_quantities(prefix: str) -> dict:
    """``{part id: quantity text}`` from the posted fields ``<prefix><part id>``."""
    return {key[len(prefix):]: value.strip() for key, value in request.form.items() if key.startswith(prefix)}


def order_page(session, order, allowed: list[str]) -> dict:
    """What the order page shows below FAB's fields: ``lines`` [(part, figures)], ``history``
    [(event, who)], ``shipments``, and the warehouses a ship or receive form offers
    (the few of one organization: Oraseas EE's to ship from, the receiving organization's to receive into)."""
    customer = isinstance(order, m.CustomerOrder)
    figures = (ow.customer_order_figures if customer else ow.supplier_order_figures)(session, order)
    with system():  # parts are shared; names of both parties' users, as on a transfer's page
        lines = [(session.get(m.Part, part_id), f) for part_id, f in figures.items()]
        events = session.query(m.OrderEvent).filter(
            (m.OrderEvent.customer_order_id if customer else m.OrderEvent.supplier_order_id) == order.id
        ).order_by(m.OrderEvent.occurred_at).all()
        history = [(e, str(session.get(m.PortalUser, e.user_id)) if e.user_id else "\u2014") for e in events]

        def warehouses(organization_id):
            return session.query(m.Warehouse).filter(
                m.Warehouse.organization_id == organization_id, m.Warehouse.is_active.is_(True),
                m.Warehouse.is_transit.is_(False)).order_by(m.Warehouse.name).all()

        page = {"lines": sorted(lines, key=lambda pf: pf[0].part_number), "history": history,
                "value": ow.order_value(order), "customer": customer, "order": order, "shipments": [], "receipts": [],
                "ship_from": warehouses(order.oraseas_organization_id) if "ship" in allowed else [],
                "receive_into": []}
        if customer:
            page["shipments"] = list(order.shipments)
            if "receive" in allowed:
                page["receive_into"] = warehouses(order.customer_organization_id)
                page["receipts"] = [(s, [(line, session.get(m.Part, line.part_id)) for line in s.lines])
                                    for s in ow.open_shipments(order)]
        elif "receive" in allowed:
            page["receive_into"] = warehouses(order.ordering_organization_id)
    return page


class BackToTheOrder:
    """After a line is added or edited, the order's page again (where the user submits it)."""

    #: the order's relation on the line and the order screen's endpoint.
    order_relation = order_endpoint = ""

    def post_add(self, item):
        super().post_add(item)
        g.abparts_line_order = str(getattr(item, f"{self.order_relation}_id"))

    def post_update(self, item):
        super().post_update(item)
        g.abparts_line_order = str(getattr(item, f"{self.order_relation}_id"))

    def _back(self, fallback):
        order = g.pop("abparts_line_order", None)
        return redirect(url_for(f"{self.order_endpoint}.show", pk=order)) if order else fallback()

    def post_add_redirect(self):
        return self._back(super().post_add_redirect)

    def post_edit_redirect(self):
        return self._back(super().post_edit_redirect)


class CustomerOrderItemModelView(BackToTheOrder, ABPartsModelView):
    datamodel = ABPartsInterface(m.CustomerOrderItem)
    class_permission_name = "CustomerOrderItem"
    order_relation, order_endpoint = "customer_order", "CustomerOrderModelView"
    list_title = lazy_gettext("Customer order lines")
    list_columns = ["customer_order", "part", "quantity_with_unit", "unit_price"]
    add_columns = ["customer_order", "part", "quantity", "unit_price"]
    edit_columns = add_columns
    show_columns = list_columns + ["created_at", "updated_at"]
    search_columns = ["customer_order", "part"]
    label_columns = _ITEM_LABELS
    description_columns = _ITEM_DESCRIPTIONS


_CUSTOMER_HELP = lazy_gettext("Orders are placed by customers and supplied by Oraseas EE.")


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
    list_title = lazy_gettext("Customer orders")
    list_columns = ["order_date", "customer_organization_name", "status", "expected_delivery_date",
                    "actual_delivery_date", "ordered_by_user"]
    # the delivery date is the receipt's (app.workflows.orders), never typed in
    add_columns = ["customer_organization", "order_date", "expected_delivery_date", "notes"]
    edit_columns = add_columns
    # The customers one may order for, looked up as one types (app.views.choices);
    # read across organizations for Oraseas EE's staff, who order on behalf of customers.
    unscoped_rel_fields = {"add": ["customer_organization"], "edit": ["customer_organization"],
                           "search": ["customer_organization"]}
    rel_choice_criteria = {"customer_organization": orderable_customers_criterion}
    show_columns = ["customer_organization_name", "oraseas_organization_name", *_ORDER_DATES, "status", "notes",
                    "ordered_by_user", "created_at", "updated_at"]
    search_columns = ["customer_organization", "status", "order_date"]
    base_order = ("order_date", "desc")
    related_views = [CustomerOrderItemModelView]
    line_model, line_endpoint, line_permission = m.CustomerOrderItem, "CustomerOrderItemModelView", "CustomerOrderItem"
    label_columns = {"customer_organization": lazy_gettext("Customer"),
                     "customer_organization_name": lazy_gettext("Customer"),
                     "oraseas_organization_name": lazy_gettext("Supplied by"),
                     "ordered_by_user": lazy_gettext("Ordered by")}
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

    step_buttons = {"submit": (lazy_gettext("Submit order"), "btn-primary", lazy_gettext("Submitted.")),
                    "approve": (lazy_gettext("Approve"), "btn-primary", lazy_gettext("Approved.")),
                    "cancel": (lazy_gettext("Cancel order"), "btn-danger", lazy_gettext("Cancelled."))}

    @expose("/submit/<pk>", methods=["POST"])
    @has_access
    def submit(self, pk):
        """Submit the draft ``pk`` (approved at once within the approval threshold); :raise 404: not visible."""
        return self._step(pk, "submit", ow.submit_customer_order)

    @expose("/ship/<pk>", methods=["POST"])
    @has_access
    def ship(self, pk):
        """Ship the form's ``ship_<part id>`` quantities from its ``warehouse``; :raise 404: not visible."""
        lines = _form_quantities("ship_")
        return self._step(pk, "ship", lambda key: ow.ship_customer_order(key, request.form.get("warehouse"), lines),
                          lazy_gettext("Shipped: the stock is in transit to the customer."))

    @expose("/receive/<pk>", methods=["POST"])
    @has_access
    def receive(self, pk):
        """Receive the form's ``shipment`` into its ``warehouse`` with the ``received_<part id>``
        quantities; :raise 404: not visible."""
        lines = _form_quantities("received_")
        return self._step(pk, "receive", lambda key: ow.receive_customer_order(
            key, request.form.get("warehouse"), lines, request.form.get("shipment")), lazy_gettext("Received."))

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


class SupplierOrderItemModelView(BackToTheOrder, ABPartsModelView):
    datamodel = ABPartsInterface(m.SupplierOrderItem)
    class_permission_name = "SupplierOrderItem"
    order_relation, order_endpoint = "supplier_order", "SupplierOrderModelView"
    list_title = lazy_gettext("Supplier order lines")
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
    list_title = lazy_gettext("Supplier orders")
    list_columns = ["order_date", "supplier_name", "ordering_organization", "status",
                    "expected_delivery_date", "actual_delivery_date"]
    add_columns = ["ordering_organization", "supplier_name", "order_date", "expected_delivery_date", "notes"]
    edit_columns = add_columns
    show_columns = ["ordering_organization", "supplier_name", *_ORDER_DATES, "status", "notes",
                    "created_at", "updated_at"]
    search_columns = ["supplier_name", "ordering_organization", "status", "order_date"]
    base_order = ("order_date", "desc")
    related_views = [SupplierOrderItemModelView]
    line_model, line_endpoint, line_permission = m.SupplierOrderItem, "SupplierOrderItemModelView", "SupplierOrderItem"
    label_columns = {"ordering_organization": lazy_gettext("Ordered by"), "supplier_name": lazy_gettext("Supplier")}
    description_columns = {"supplier_name": lazy_gettext("One of the ordering organization's suppliers "
                                                         "(Organizations); Oraseas EE also orders from BossAqua.")}
    step_buttons = {"cancel": (lazy_gettext("Cancel order"), "btn-danger", lazy_gettext("Cancelled."))}

    @expose("/receive/<pk>", methods=["POST"])
    @has_access
    def receive(self, pk):
        """Receive the form's ``received_<part id>`` quantities into its ``warehouse``
        (stock enters from outside); :raise 404: not visible."""
        lines = _form_quantities("received_")
        return self._step(pk, "receive", lambda key: ow.receive_supplier_order(
            key, request.form.get("warehouse"), lines), lazy_gettext("Received into stock."))

    @expose("/cancel/<pk>", methods=["POST"])
    @has_access
    def cancel(self, pk):
        """Cancel the ordered supplier order ``pk``; :raise 404: not visible."""
        return self._step(pk, "cancel", ow.cancel_supplier_order)
