"""REST actions of orders: the workflow steps of customer and supplier orders (issue 10).

Thin callers of :mod:`app.workflows.orders`, mixed into the order APIs of
:mod:`app.apis.domains`: each route reads its body, calls one command inside
:meth:`ABPartsRestApi.run_action` (one transaction, errors mapped to
403/404/409/422, ``Idempotency-Key`` honoured) and answers 200 with the order
as ``GET /<id>`` shows it, plus its lines with what was shipped and received,
its shipments, its history and the steps the user may take now.

The status itself is never written through the API: a POST's ``status`` is
ignored (a new order starts in its initial state) and a PUT naming one is refused.
"""
from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import permission_name, protect

from .. import models as m
from ..i18n import _
from ..rules.orders import STATUS_RULE
from ..scoping import system
from ..workflows import orders as ow
from ..workflows.base import acting_user, load_visible
from . import payload
from .docs import UUID, documented, json_lines, json_object

_QUANTITY = {"type": "string", "example": "2", "description": "In the part's unit of measure"}


def order_json(session, order) -> dict:
    """What the API adds to an order's record: ``value`` (money), ``lines`` per part
    (ordered, shipped, received; quantities as decimal strings), ``shipments``
    (customer orders), ``history`` (every step: who, when, from and to state) and
    ``actions`` (the steps the acting user may take now)."""
    customer = isinstance(order, m.CustomerOrder)
    figures = (ow.customer_order_figures if customer else ow.supplier_order_figures)(session, order)
    with system():  # parts are shared; the order's own events, whoever took them
        parts = {p.id: p for p in session.query(m.Part).filter(m.Part.id.in_(list(figures)))}
        events = session.query(m.OrderEvent).filter(
            (m.OrderEvent.customer_order_id if customer else m.OrderEvent.supplier_order_id) == order.id
        ).order_by(m.OrderEvent.occurred_at).all()
    out = {
        "value": payload.text(ow.order_value(order).quantize(ow.D("0.01"))),
        "actions": ow.allowed_actions(acting_user(session, reading=True), order),
        "lines": [{"part_id": str(part_id), "part_number": parts[part_id].part_number,
                   "unit_of_measure": parts[part_id].unit_of_measure, "ordered": payload.text(f.ordered),
                   "shipped": payload.text(f.shipped), "received": payload.text(f.received)}
                  for part_id, f in figures.items()],
        "history": [{"step": e.step, "from_status": e.from_status, "to_status": e.to_status,
                     "user_id": e.user_id, "occurred_at": payload.text(e.occurred_at), "note": e.note,
                     "stock_transfer_id": str(e.stock_transfer_id) if e.stock_transfer_id else None}
                    for e in events],
    }
    if customer:
        out["shipments"] = [{"id": str(s.id), "reference_number": s.reference_number, "status": s.status.value}
                            for s in order.shipments]
    return out


class OrderStatusByWorkflow:
    """The status of an order moves only through its steps, also over the API.

    A POST's ``status`` is dropped before FAB loads the payload (the rule hook
    gives a new order its initial state anyway); a PUT naming ``status`` answers
    422 with the rule's message instead of FAB's bare "Unknown field".
    ``GET /<id>`` and every step answer with :func:`order_json` added.
    """

    #: the model and its name in messages, for :meth:`get_headless`.
    order_model: type = None
    order_name = "order"

    def post_headless(self):
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            body.pop("status", None)  # the cached body FAB reads next
        return super().post_headless()

    def put_headless(self, pk):
        body = request.get_json(silent=True)
        if isinstance(body, dict) and "status" in body:
            return self.response(422, message=_("%(status_rule)s.", status_rule=STATUS_RULE))
        return super().put_headless(pk)

    def document_json(self, document) -> dict:
        answer = super().document_json(document)
        answer["result"].update(order_json(self.datamodel.session, document))
        return answer

    def get_headless(self, pk, **kwargs):
        """One order with its lines, shipments, history and the steps the user may take."""
        session = self.datamodel.session
        return self._mapped(lambda: self.response(200, **self.document_json(
            load_visible(session, self.order_model, pk, self.order_name))))


class CustomerOrderActions(OrderStatusByWorkflow):
    """``POST /api/v1/customer_order/<id>/submit``, ``/approve``, ``/ship``, ``/receive`` and ``/cancel``."""

    order_model, order_name = m.CustomerOrder, "customer order"

    @expose("/<pk>/submit", methods=["POST"])
    @protect()
    @safe
    @permission_name("submit")
    @documented("Submit a draft customer order",
                "The order: approved when its value is within the approval threshold, else requested",
                pk="The customer order's id")
    def submit(self, pk):
        """Submit a draft customer order (the customer, or Oraseas staff on its behalf).
        """
        return self.run_action(lambda: ow.submit_customer_order(pk))

    @expose("/<pk>/approve", methods=["POST"])
    @protect()
    @safe
    @permission_name("approve")
    @documented("Approve a requested customer order", "The approved order", pk="The customer order's id")
    def approve(self, pk):
        """Approve a requested customer order (an Admin of Oraseas EE or a Super Admin).
        """
        return self.run_action(lambda: ow.approve_customer_order(pk))

    @expose("/<pk>/ship", methods=["POST"])
    @protect()
    @safe
    @permission_name("ship")
    @documented("Ship (part of) an approved customer order", "The order, shipped; its new shipment listed",
                pk="The customer order's id",
                body=json_object(["warehouse", "lines"],
                                 warehouse={**UUID, "description": "An Oraseas EE warehouse"},
                                 lines=json_lines(part=UUID, quantity=_QUANTITY)))
    def ship(self, pk):
        """Ship quantities of the order's lines out of an Oraseas EE warehouse into transit (Oraseas staff).
        """
        def step():
            body = payload.body()
            shipment = ow.ship_customer_order(pk, body.get("warehouse"),
                                              payload.quantities_by_part(body, "quantity"))
            return shipment.customer_order
        return self.run_action(step)

    @expose("/<pk>/receive", methods=["POST"])
    @protect()
    @safe
    @permission_name("receive")
    @documented("Receive a shipment of a customer order", "The order, received or still shipped",
                pk="The customer order's id",
                body=json_object(["warehouse", "lines"],
                                 warehouse={**UUID, "description": "One of the customer's warehouses"},
                                 shipment={**UUID, "description": "Which shipment, when several are in transit"},
                                 lines=json_lines(part=UUID, received_quantity={
                                     **_QUANTITY, "description": "0 to the quantity shipped"})))
    def receive(self, pk):
        """Receive a shipment in transit into one of the customer's warehouses (the customer).
        """
        def step():
            body = payload.body()
            shipment = ow.receive_customer_order(pk, body.get("warehouse"),
                                                 payload.quantities_by_part(body, "received_quantity"),
                                                 body.get("shipment"))
            return shipment.customer_order
        return self.run_action(step)

    @expose("/<pk>/cancel", methods=["POST"])
    @protect()
    @safe
    @permission_name("cancel")
    @documented("Cancel a customer order", "The cancelled order", pk="The customer order's id")
    def cancel(self, pk):
        """Cancel a draft, requested or approved customer order (the customer or Oraseas staff).
        """
        return self.run_action(lambda: ow.cancel_customer_order(pk))


class SupplierOrderActions(OrderStatusByWorkflow):
    """``POST /api/v1/supplier_order/<id>/receive`` and ``/cancel``."""

    order_model, order_name = m.SupplierOrder, "supplier order"

    @expose("/<pk>/receive", methods=["POST"])
    @protect()
    @safe
    @permission_name("receive")
    @documented("Receive (part of) a supplier order", "The order, partially received or received",
                pk="The supplier order's id",
                body=json_object(["warehouse", "lines"],
                                 warehouse={**UUID, "description": "A warehouse of the ordering organization"},
                                 lines=json_lines(part=UUID, received_quantity=_QUANTITY)))
    def receive(self, pk):
        """Receive quantities of the order's lines into a warehouse: stock enters from outside (creation).
        """
        def step():
            body = payload.body()
            return ow.receive_supplier_order(pk, body.get("warehouse"),
                                             payload.quantities_by_part(body, "received_quantity"))
        return self.run_action(step)

    @expose("/<pk>/cancel", methods=["POST"])
    @protect()
    @safe
    @permission_name("cancel")
    @documented("Cancel a supplier order", "The cancelled order", pk="The supplier order's id")
    def cancel(self, pk):
        """Cancel an ordered supplier order (the ordering organization's admins or a Super Admin).
        """
        return self.run_action(lambda: ow.cancel_supplier_order(pk))
