"""REST API of stocktakes (issue 9): ``/api/v1/stocktake/``.

Thin callers of :mod:`app.workflows.stocktake`, like the transfers' API: each
route reads its body, calls one command inside
:meth:`ABPartsRestApi.run_action` (one transaction; 403/404/409/422 mapped;
``Idempotency-Key`` honoured) and answers with the document as the acting
user may see it: in a blind stocktake a counter's answer has no book
quantities, variances or other counters' counts (:func:`stocktake_json`).
"""
from __future__ import annotations

import datetime as dt

from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import permission_name, protect

from .. import models as m
from ..errors import RuleViolation
from ..views.interface import ABPartsInterface
from ..workflows import stocktake as sw
from ..workflows.base import acting_user
from .base import ABPartsRestApi
from .docs import UUID, documented, json_lines, json_object
from . import payload


def _money(value) -> str | None:
    """Money as a decimal string with cents (``"-10.00"``), in the price currency."""
    return None if value is None else str(value.quantize(sw.CENT))


def stocktake_json(session, stocktake: m.Stocktake) -> dict:
    """The stocktake as the acting user may see it.

    Always: the document, the counters, the steps the user may take, progress,
    and per line the part, its state (``not counted``, ``counted``, ``recount``,
    ``resolved``) and the user's own count.  Only with
    :func:`~app.workflows.stocktake.may_see_book`: per line the snapshot, the
    movements during the count, every count with its book quantity, the agreed
    count, variance (units, value), whether it needs approval, and the totals.
    Quantities and money are decimal strings (part's unit; price currency).
    """
    who = acting_user(session, reading=True)
    report = sw.report(session, stocktake)
    book = sw.may_see_book(who, stocktake)
    out = {
        "id": str(stocktake.id), "reference_number": stocktake.reference_number, "status": stocktake.status.value,
        "warehouse_id": str(stocktake.warehouse_id), "warehouse": stocktake.warehouse_name,
        "organization_id": str(stocktake.organization_id), "planned_date": stocktake.planned_date.isoformat(),
        "is_blind": stocktake.is_blind, "scope": stocktake.scope, "notes": stocktake.notes,
        "counters": [{"id": uid, "name": name} for uid, name in report.counters.items()],
        "actions": sw.allowed_actions(who, stocktake), "book_visible": book,
        "progress": {"lines": len(report.lines), "agreed": report.agreed,
                     "counted_by_you": sum(1 for r in report.lines if who.user.id in r.counts)},
        "lines": [],
    }
    for step in ("created", "started", "completed", "approved", "cancelled"):
        out[f"{step}_by_user_id"] = getattr(stocktake, f"{step}_by_user_id")
        out[f"{step}_at"] = payload.text(getattr(stocktake, f"{step}_at", None) if step != "created" else stocktake.created_at)
    for row in report.lines:
        mine = row.counts.get(who.user.id)
        line = {"id": str(row.line.id), "line_number": row.line.line_number, "part_id": str(row.part.id),
                "part_number": row.part.part_number, "part_name": row.part.name,
                "unit_of_measure": row.part.unit_of_measure, "state": row.agreement.state,
                "your_count": payload.text(mine.counted_quantity) if mine else None}
        if book:
            line.update({
                "snapshot_quantity": payload.text(row.line.snapshot_quantity), "movements": payload.text(row.movements),
                "counts": [{"user_id": c.counted_by_user_id, "user": report.names.get(c.counted_by_user_id),
                            "counted_quantity": payload.text(c.counted_quantity), "book_quantity": payload.text(c.book_quantity),
                            "counted_at": payload.text(c.counted_at)} for c in row.counts.values()],
                "agreed_quantity": payload.text(row.agreement.agreed), "book_quantity": payload.text(row.agreement.book),
                "variance_quantity": payload.text(row.variance), "variance_value": _money(row.value),
                "needs_approval": row.line.needs_approval, "resolution_note": row.line.resolution_note,
                "stock_adjustment_id": str(row.line.stock_adjustment_id) if row.line.stock_adjustment_id else None,
            })
        out["lines"].append(line)
    if book:
        out["totals"] = {"variance_value": _money(report.total_value), "lines_with_variance": report.with_variance,
                         "lines_needing_approval": report.needing_approval}
        out["threshold_percent"] = payload.text(stocktake.threshold_percent)
        out["threshold_value"] = _money(stocktake.threshold_value)
    return out


def _date(value) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise RuleViolation('"planned_date" must be a date, YYYY-MM-DD.') from None


class StocktakeRestApi(ABPartsRestApi):
    """``/api/v1/stocktake/``: list and read stocktakes, plan them, and take their steps."""

    resource_name = "stocktake"
    class_permission_name = "Stocktake"
    datamodel = ABPartsInterface(m.Stocktake)
    include_route_methods = {"get", "get_list", "info", "post", "start", "count", "resolve", "complete",
                             "approve", "cancel"}
    list_columns = ["id", "reference_number", "status", "warehouse_id", "organization_id", "planned_date",
                    "is_blind", "created_at", "started_at", "completed_at", "approved_at"]
    show_columns = list_columns
    search_columns = ["status", "warehouse", "reference_number", "planned_date", "created_at"]
    base_order = ("created_at", "desc")

    def document_json(self, document) -> dict:
        return {"id": str(document.id), "result": stocktake_json(self.datamodel.session, document)}

    def get_headless(self, pk, **kwargs):
        """One stocktake with its lines, as the user may see it, and the steps the user may take."""
        return self._mapped(lambda: self.response(200, **self.document_json(
            sw.load_stocktake(self.datamodel.session, pk))))

    @expose("/", methods=["POST"])
    @protect()
    @safe
    @permission_name("post")
    @documented("Plan a stocktake", "The planned stocktake", 201, pk=None,
                body=json_object(["warehouse", "planned_date", "counters"], warehouse=UUID,
                                 planned_date={"type": "string", "format": "date"},
                                 counters={"type": "array", "items": {"type": "integer"},
                                           "description": "User ids of the warehouse's organization"},
                                 scope={"type": "string", "enum": list(sw.SCOPES)},
                                 parts={"type": "array", "items": UUID, "description": "With scope parts"},
                                 part_type={"type": "string", "enum": ["consumable", "bulk_material"]},
                                 blind={"type": "boolean", "default": True}, notes={"type": "string"}))
    def post(self):
        """Plan a stocktake of one warehouse.
        """

        def step():
            body = payload.body()
            blind = body.get("blind", True)
            if not isinstance(blind, bool):
                raise RuleViolation('"blind" is true or false.')
            counters = body.get("counters")
            if not isinstance(counters, list):
                raise RuleViolation('"counters" must be a list of user ids.')
            return sw.plan_stocktake(body.get("warehouse"), _date(body.get("planned_date")), counters,
                                     body.get("scope") or "all", body.get("parts"), body.get("part_type"),
                                     blind, body.get("notes"))

        return self.run_action(step, 201)

    @expose("/<pk>/start", methods=["POST"])
    @protect()
    @safe
    @permission_name("start")
    @documented("Start counting a stocktake (snapshot of the book quantities)", "The stocktake, counting")
    def start(self, pk):
        """Start counting: the book quantity of every line is taken now.
        """
        return self.run_action(lambda: sw.start_stocktake(pk))

    @expose("/<pk>/count", methods=["POST"])
    @protect()
    @safe
    @permission_name("count")
    @documented("Enter counts", "The stocktake as the counter may see it",
                body=json_object(["lines"], lines=json_lines(part=UUID, counted_quantity={
                    "type": "string", "example": "12", "description": "In the part's unit of measure, 0 or more"})))
    def count(self, pk):
        """Enter or correct the acting counter's counts, one line or many.
        """

        def call():
            sw.load_stocktake(self.datamodel.session, pk)  # another organization's: 404 whatever the body
            lines = payload.object_list(payload.body(), "lines")
            return sw.count_lines(pk, [(line.get("part"), payload.quantity(line.get("counted_quantity"), "counted_quantity"))
                                       for line in lines])

        return self.run_action(call)

    @expose("/<pk>/resolve", methods=["POST"])
    @protect()
    @safe
    @permission_name("resolve")
    @documented("Decide a line's count", "The stocktake",
                body=json_object(["line", "agreed_quantity", "note"], line={**UUID, "description": "The part's id"},
                                 agreed_quantity={"type": "string"}, note={"type": "string"}))
    def resolve(self, pk):
        """An admin's decision on a line's count (e.g. a recount that does not settle), with a note.
        """

        def call():
            sw.load_stocktake(self.datamodel.session, pk)  # another organization's: 404 whatever the body
            body = payload.body()
            sw.resolve_line(pk, body.get("line"), payload.quantity(body.get("agreed_quantity"), "agreed_quantity"),
                            body.get("note"))
            return sw.load_stocktake(self.datamodel.session, pk)

        return self.run_action(call)

    @expose("/<pk>/complete", methods=["POST"])
    @protect()
    @safe
    @permission_name("complete")
    @documented("Complete a stocktake", "The stocktake, completed or awaiting_approval")
    def complete(self, pk):
        """Compute the variances; post the corrections unless a line needs approval.
        """
        return self.run_action(lambda: sw.complete_stocktake(pk))

    @expose("/<pk>/approve", methods=["POST"])
    @protect()
    @safe
    @permission_name("approve")
    @documented("Approve a stocktake's variances", "The completed stocktake")
    def approve(self, pk):
        """Approve the variances over the threshold and post every correction (once).
        """
        return self.run_action(lambda: sw.approve_stocktake(pk))

    @expose("/<pk>/cancel", methods=["POST"])
    @protect()
    @safe
    @permission_name("cancel")
    @documented("Cancel a stocktake", "The cancelled stocktake")
    def cancel(self, pk):
        """Cancel a stocktake before completion; nothing is posted.
        """
        return self.run_action(lambda: sw.cancel_stocktake(pk))
