"""REST API of stock transfers and of the ledger's workflow steps (issue 8).

Thin callers of :mod:`app.workflows`: each route reads its body, calls one
command inside :meth:`ABPartsRestApi.run_action` (one transaction, errors
mapped to 403/404/409/422, ``Idempotency-Key`` honoured) and answers with the
document.  Ids are UUID strings; quantities are decimal strings in the part's
unit of measure.
"""
from __future__ import annotations


from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import permission_name, protect

from .. import models as m
from ..scoping import system
from ..views.interface import ABPartsInterface
from ..workflows import transfers as tw
from ..workflows.base import acting_user
from ..workflows.ledger import decide_transaction, reverse_transaction
from . import payload
from .base import ABPartsRestApi
from .docs import NOTES, UUID, documented, json_lines, json_object

def transfer_json(session, transfer: m.StockTransfer) -> dict:
    """The transfer as the API shows it: the document, its lines with what the ledger
    says of each (dispatched, received, returned, written off, in transit) and the
    steps the acting user may take now.  Quantities are decimal strings."""
    figures = tw.line_figures(session, transfer)
    with system():  # the other party's warehouse and the parts: named for both parties
        # by id: a relationship loaded earlier under the actor's scope may hold None
        source = session.get(m.Warehouse, transfer.from_warehouse_id)
        dest = session.get(m.Warehouse, transfer.to_warehouse_id) if transfer.to_warehouse_id else None
        lines = [(line, session.get(m.Part, line.part_id)) for line in transfer.lines]
        names = {wh.id: f"{wh.name} ({session.get(m.Organization, wh.organization_id).name})"
                 for wh in (source, dest) if wh is not None}
    who = acting_user(session, reading=True)
    out = {
        "id": str(transfer.id), "reference_number": transfer.reference_number, "status": transfer.status.value,
        "from_warehouse_id": str(source.id), "from_warehouse": names[source.id],
        # empty on a customer order's shipment until the customer receives it
        "to_warehouse_id": str(dest.id) if dest else None, "to_warehouse": names[dest.id] if dest else None,
        "customer_order_id": str(transfer.customer_order_id) if transfer.customer_order_id else None,
        "source_organization_id": str(transfer.source_organization_id),
        "destination_organization_id": str(transfer.destination_organization_id),
        "notes": transfer.notes, "actions": tw.allowed_actions(who, transfer), "lines": [],
    }
    for step in ("created", "dispatched", "received", "cancelled"):
        out[f"{step}_by_user_id"] = getattr(transfer, f"{step}_by_user_id")
        out[f"{step}_at"] = payload.text(getattr(transfer, f"{step}_at"))
    for line, part in lines:
        f = figures[line.part_id]
        out["lines"].append({
            "id": str(line.id), "line_number": line.line_number, "part_id": str(part.id),
            "part_number": part.part_number, "unit_of_measure": part.unit_of_measure,
            "quantity": payload.text(line.quantity), "received_quantity": payload.text(line.received_quantity),
            "dispatched": payload.text(f.dispatched), "received": payload.text(f.received), "returned": payload.text(f.returned),
            "written_off": payload.text(f.written_off), "pending_write_off": payload.text(f.pending_write_off),
            "in_transit": payload.text(f.in_transit),
        })
    return out


class StockTransferRestApi(ABPartsRestApi):
    """``/api/v1/stock_transfer/``: list and read transfers, create drafts, and take their steps."""

    resource_name = "stock_transfer"
    class_permission_name = "StockTransfer"
    datamodel = ABPartsInterface(m.StockTransfer)
    include_route_methods = {"get", "get_list", "info", "post", "dispatch", "receive", "cancel", "resolve"}
    list_columns = ["id", "reference_number", "status", "from_warehouse_id", "to_warehouse_id",
                    "source_organization_id", "destination_organization_id", "created_at", "dispatched_at",
                    "received_at"]
    show_columns = list_columns
    search_columns = ["status", "from_warehouse", "to_warehouse", "reference_number", "created_at"]
    base_order = ("created_at", "desc")

    def document_json(self, document) -> dict:
        return {"id": str(document.id), "result": transfer_json(self.datamodel.session, document)}

    def get_headless(self, pk, **kwargs):
        """One transfer with its lines, figures and the steps the user may take."""
        return self._mapped(lambda: self.response(200, id=pk, result=transfer_json(
            self.datamodel.session, tw.load_transfer(self.datamodel.session, pk))))

    @expose("/", methods=["POST"])
    @protect()
    @safe
    @permission_name("post")
    @documented("Create a stock transfer", "The transfer (draft, or received when in one step)", 201, pk=None,
                body=json_object(["from_warehouse", "to_warehouse", "lines"],
                             from_warehouse={**UUID, "description": "One of your organization's warehouses"},
                             to_warehouse=UUID, notes={"type": "string"},
                             in_one_step={"type": "boolean",
                                          "description": "Within one organization: dispatch and receive now"},
                             lines=json_lines(part=UUID, quantity={"type": "string", "example": "2.5",
                                                               "description": "In the part's unit of measure"})))
    def post(self):
        """Create a draft transfer (or, within one organization, transfer in one step).
        """

        def step():
            body = payload.body()
            lines = [(line.get("part"), payload.quantity(line.get("quantity"), "quantity"))
                     for line in payload.object_list(body, "lines")]
            make = tw.transfer_in_one_step if body.get("in_one_step") is True else tw.create_transfer
            return make(body.get("from_warehouse"), body.get("to_warehouse"), lines, body.get("notes"))

        return self.run_action(step, 201)

    @expose("/<pk>/dispatch", methods=["POST"])
    @protect()
    @safe
    @permission_name("dispatch")
    @documented("Dispatch a stock transfer", "The dispatched transfer")
    def dispatch(self, pk):
        """Dispatch a draft: its lines leave the source warehouse for transit.
        """
        return self.run_action(lambda: tw.dispatch_transfer(pk))

    @expose("/<pk>/receive", methods=["POST"])
    @protect()
    @safe
    @permission_name("receive")
    @documented("Receive a stock transfer", "The transfer, received or received_with_discrepancy",
                body=json_object(["lines"], lines=json_lines(part=UUID, received_quantity={
                    "type": "string", "example": "3", "description": "0 to the quantity dispatched"})))
    def receive(self, pk):
        """Receive a dispatched transfer, with the quantity that arrived of every line.
        """

        return self.run_action(lambda: tw.receive_transfer(
            pk, payload.quantities_by_part(payload.body(), "received_quantity")))

    @expose("/<pk>/cancel", methods=["POST"])
    @protect()
    @safe
    @permission_name("cancel")
    @documented("Cancel a draft stock transfer", "The cancelled transfer")
    def cancel(self, pk):
        """Cancel a draft transfer.
        """
        return self.run_action(lambda: tw.cancel_transfer(pk))

    @expose("/<pk>/resolve", methods=["POST"])
    @protect()
    @safe
    @permission_name("resolve")
    @documented("Resolve a discrepancy of a received stock transfer",
                "The transfer; a write-off waits for approval",
                body=json_object(["line", "action"], line={**UUID, "description": "The line's part id"},
                             action={"type": "string", "enum": ["return", "write_off"]}, notes={"type": "string"}))
    def resolve(self, pk):
        """Resolve a line's discrepancy: return it to the source, or write it off (needs approval).
        """

        def call():
            body = payload.body()
            tw.resolve_discrepancy(pk, body.get("line"), body.get("action"), body.get("notes"))
            return tw.load_transfer(self.datamodel.session, pk)

        return self.run_action(call)


class LedgerActions:
    """``POST /api/v1/transaction/<id>/reverse`` (mixed into the transaction API)."""

    @expose("/<pk>/reverse", methods=["POST"])
    @protect()
    @safe
    @permission_name("reverse")
    @documented("Reverse a transaction", "The reversal transaction", 201, body=NOTES, body_required=False,
                pk="The transaction's id")
    def reverse(self, pk):
        """Post the reversal of a transaction (at most once).
        """
        return self.run_action(lambda: reverse_transaction(pk, payload.body().get("notes")), 201)


class ApprovalActions:
    """``POST /api/v1/transaction_approval/<transaction id>/approve`` and ``/reject``."""

    def _decide(self, pk, status):
        return self.run_action(lambda: decide_transaction(pk, status, payload.body().get("notes")), 201)

    @expose("/<pk>/approve", methods=["POST"])
    @protect()
    @safe
    @permission_name("approve")
    @documented("Approve a pending transaction", "The approval recorded", 201, body=NOTES,
                body_required=False, pk="The transaction's id")
    def approve(self, pk):
        """Approve a transaction pending approval (it posts now).  ``pk`` is the transaction's id.
        """
        return self._decide(pk, m.ApprovalStatus.approved)

    @expose("/<pk>/reject", methods=["POST"])
    @protect()
    @safe
    @permission_name("reject")
    @documented("Reject a pending transaction", "The rejection recorded", 201, body=NOTES,
                body_required=False, pk="The transaction's id")
    def reject(self, pk):
        """Reject a transaction pending approval (it never posts).  ``pk`` is the transaction's id.
        """
        return self._decide(pk, m.ApprovalStatus.rejected)
