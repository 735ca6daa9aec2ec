"""REST actions of orders: the workflow steps of customer and supplier orders (issues 8 and 10).

Thin callers of :mod:`app.workflows.orders`, mixed into the order APIs of
:mod:`app.apis.domains`: each route calls one command inside
:meth:`ABPartsRestApi.run_action` (one transaction, errors mapped to
403/404/409/422, ``Idempotency-Key`` honoured) and answers 200 with the order
as ``GET /<id>`` shows it.

The status itself is never written through the API: a POST's ``status`` is
ignored (a new order starts in its initial state) and a PUT naming one is refused.
"""
from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import permission_name, protect

from ..rules.orders import STATUS_RULE
from ..workflows import orders as ow
from .docs import documented


class OrderStatusByWorkflow:
    """The status of an order moves only through its steps, also over the API.

    A POST's ``status`` is dropped before FAB loads the payload (the rule hook
    gives a new order its initial state anyway); a PUT naming ``status`` answers
    422 with the rule's message instead of FAB's bare "Unknown field".
    """

    def post_headless(self):
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            body.pop("status", None)  # the cached body FAB reads next
        return super().post_headless()

    def put_headless(self, pk):
        body = request.get_json(silent=True)
        if isinstance(body, dict) and "status" in body:
            return self.response(422, message=f"{STATUS_RULE}.")
        return super().put_headless(pk)


class CustomerOrderActions(OrderStatusByWorkflow):
    """``POST /api/v1/customer_order/<id>/approve`` and ``/cancel``."""

    @expose("/<pk>/approve", methods=["POST"])
    @protect()
    @safe
    @permission_name("approve")
    @documented("Approve a requested customer order", "The approved order", pk="The customer order's id")
    def approve(self, pk):
        """Approve a requested customer order (an Admin of Oraseas EE or a Super Admin).
        """
        return self.run_action(lambda: ow.approve_customer_order(pk))

    @expose("/<pk>/cancel", methods=["POST"])
    @protect()
    @safe
    @permission_name("cancel")
    @documented("Cancel a customer order", "The cancelled order", pk="The customer order's id")
    def cancel(self, pk):
        """Cancel a requested or approved customer order (the customer or Oraseas staff).
        """
        return self.run_action(lambda: ow.cancel_customer_order(pk))


class SupplierOrderActions(OrderStatusByWorkflow):
    """``POST /api/v1/supplier_order/<id>/cancel``."""

    @expose("/<pk>/cancel", methods=["POST"])
    @protect()
    @safe
    @permission_name("cancel")
    @documented("Cancel a supplier order", "The cancelled order", pk="The supplier order's id")
    def cancel(self, pk):
        """Cancel an ordered supplier order (the ordering organization's admins or a Super Admin).
        """
        return self.run_action(lambda: ow.cancel_supplier_order(pk))
