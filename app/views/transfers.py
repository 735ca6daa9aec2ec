"""Screens of stock transfers: list, a multi-line form, the document with its steps (issue 8).

Thin callers of :mod:`app.workflows.transfers`: a form is read, one command
runs, and a refusal is flashed with the rule's message (the form keeps what was
typed).  Which buttons a document shows comes from
:func:`app.workflows.transfers.allowed_actions`, so a screen never offers a
step the command would refuse for that user.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, jsonify, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_babel import gettext, lazy_gettext

from .. import models as m
from ..errors import DomainError
from ..extensions import csrf, db
from ..scoping import system
from ..workflows import transfers as tw
from ..workflows.base import acting_user
from .base import ABPartsModelView
from .interface import ABPartsInterface

#: How many choices a type-ahead lookup answers at a time.
CHOICES = 20


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class StockTransferModelView(ABPartsModelView):
    """Stock transfers between warehouses: draft, dispatch, receive, resolve a discrepancy."""

    datamodel = ABPartsInterface(m.StockTransfer)
    class_permission_name = "StockTransfer"
    base_permissions = ["can_read", "can_add", "can_edit"]
    exclude_route_methods = {"edit", "delete", "api", "api_read", "api_get", "api_create", "api_update",
                             "api_delete", "api_column_add", "api_column_edit", "api_readvalues"}
    list_title = lazy_gettext("Stock transfers")
    list_columns = ["reference_number", "status", "from_warehouse_name", "to_warehouse_name", "created_at",
                    "dispatched_at", "received_at"]
    search_columns = ["reference_number", "status", "from_warehouse", "to_warehouse", "destination_organization",
                      "created_at", "dispatched_at", "received_at"]
    base_order = ("created_at", "desc")
    label_columns = {"reference_number": lazy_gettext("Reference"), "from_warehouse_name": lazy_gettext("From"),
                     "to_warehouse_name": lazy_gettext("To"),
                     "from_warehouse": lazy_gettext("From"), "to_warehouse": lazy_gettext("To"),
                     "created_at": lazy_gettext("Created"),
                     "destination_organization": lazy_gettext("To organization"),
                     "dispatched_at": lazy_gettext("Dispatched"), "received_at": lazy_gettext("Received")}
    show_template = "abparts/transfer_show.html"

    # -- the form ---------------------------------------------------------------
    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        """The multi-line form: source, destination, lines (part lookup and quantity), notes.

        POST creates a draft (or, within one organization with "in one step"
        ticked, moves the stock at once) and shows the document; a refusal is
        flashed and the form shown again with what was typed.
        """
        session = db.session
        who = acting_user(session)
        form = {"from_warehouse": "", "to_warehouse": "", "notes": "", "in_one_step": False,
                "lines": [{"part": "", "quantity": ""}]}
        if request.method == "POST":
            csrf.protect()
            parts, quantities = request.form.getlist("part"), request.form.getlist("quantity")
            form = {"from_warehouse": request.form.get("from_warehouse", ""),
                    "to_warehouse": request.form.get("to_warehouse", ""), "notes": request.form.get("notes", ""),
                    "in_one_step": bool(request.form.get("in_one_step")),
                    "lines": [{"part": p, "quantity": q} for p, q in zip(parts, quantities) if p or q.strip()]}
            lines = [(line["part"], line["quantity"].strip()) for line in form["lines"]]
            make = tw.transfer_in_one_step if form["in_one_step"] else tw.create_transfer
            try:
                transfer = make(form["from_warehouse"], form["to_warehouse"], lines, form["notes"] or None)
            except DomainError as exc:
                flash(str(exc), "danger")
            else:
                flash(gettext("Transfer %(reference_number)s saved (%(status)s).",
                              reference_number=transfer.reference_number, status=str(transfer.status).lower()),
                      "success")
                return redirect(url_for(".show", pk=transfer.id))
            form["lines"] = form["lines"] or [{"part": "", "quantity": ""}]
        with system():
            names = self._names(session, [form["to_warehouse"]], [ln["part"] for ln in form["lines"]])
        return self.render_template(
            "abparts/transfer_form.html", title="New stock transfer", form=form, names=names,
            sources=self._sources(session, who), may_one_step=True)

    @staticmethod
    def _sources(session, who):
        """Active warehouses of the user's own organization (every one for a Super Admin)."""
        w = m.Warehouse
        stmt = sa.select(w).where(w.is_active.is_(True), w.is_transit.is_(False)).order_by(w.name)
        if not who.is_super_admin:
            stmt = stmt.where(w.organization_id == who.organization.id)
        return session.execute(stmt).scalars().all()

    @staticmethod
    def _names(session, warehouse_ids, part_ids) -> dict:
        """Labels of the already chosen destination and parts (to show a form again)."""
        names = {}
        for key in warehouse_ids:
            wh = session.get(m.Warehouse, m.parse_uuid(key)) if m.parse_uuid(key) else None
            if wh is not None:
                names[key] = f"{wh.name} ({wh.organization.name})"
        for key in part_ids:
            part = session.get(m.Part, m.parse_uuid(key)) if m.parse_uuid(key) else None
            if part is not None:
                names[key] = f"{part.part_number} {part.name} ({part.unit_of_measure})"
        return names

    @expose("/destinations")
    @has_access
    def destinations(self):
        """Type-ahead of the destinations the user may send to: ``?q=text`` -> Select2 JSON
        (``{"results": [{"id", "text"}], "pagination": {"more": bool}}``), at most 20."""
        session = db.session
        who = acting_user(session, reading=True)
        w, o = m.Warehouse, m.Organization
        stmt = (sa.select(w.id, w.name, o.name).join(o, o.id == w.organization_id)
                .where(w.is_active.is_(True), w.is_transit.is_(False)))
        text = request.args.get("q", "").strip()
        if text:
            stmt = stmt.where(sa.or_(w.name.ilike(_like(text), escape="\\"), o.name.ilike(_like(text), escape="\\")))
        stmt = stmt.where(tw.destination_criterion(who))
        with system():  # the rule is destination_criterion: where this user may send stock
            rows = session.execute(stmt.order_by(o.name, w.name).limit(CHOICES + 1)).all()
        return jsonify(results=[{"id": str(i), "text": f"{name} ({org})"} for i, name, org in rows[:CHOICES]],
                       pagination={"more": len(rows) > CHOICES})

    @expose("/parts")
    @has_access
    def parts(self):
        """Type-ahead of the parts catalog by number or name: ``?q=text`` -> Select2 JSON, at most 20."""
        p = m.Part
        stmt = sa.select(p.id, p.part_number, p.name, p.unit_of_measure)
        text = request.args.get("q", "").strip()
        if text:
            stmt = stmt.where(sa.or_(p.part_number.ilike(_like(text), escape="\\"),
                                     p.name.ilike(_like(text), escape="\\")))
        rows = db.session.execute(stmt.order_by(p.part_number).limit(CHOICES + 1)).all()
        return jsonify(results=[{"id": str(i), "text": f"{number} {name} ({unit})"}
                                for i, number, name, unit in rows[:CHOICES]],
                       pagination={"more": len(rows) > CHOICES})

    # -- the document ------------------------------------------------------------
    @expose("/show/<pk>")
    @has_access
    def show(self, pk):
        """The transfer with its lines, what the ledger says of each, and the steps the user may take.

        :raise 404: no such transfer for this user.
        """
        session = db.session
        try:
            transfer = tw.load_transfer(session, pk)
        except DomainError:
            abort(404)
        figures = tw.line_figures(session, transfer)
        with system():
            lines = [(line, session.get(m.Part, line.part_id), figures[line.part_id]) for line in transfer.lines]
            people = {key: str(session.get(m.PortalUser, getattr(transfer, f"{key}_by_user_id")))
                      for key in ("created", "dispatched", "received", "cancelled")
                      if getattr(transfer, f"{key}_by_user_id")}
        who = acting_user(session, reading=True)
        return self.render_template(
            self.show_template, title=f"Stock transfer {transfer.reference_number}", transfer=transfer,
            lines=lines, people=people, actions=tw.allowed_actions(who, transfer),
            list_url=url_for(".list"))

    def _step(self, pk, call, done: str):
        csrf.protect()
        try:
            call()
        except DomainError as exc:
            if exc.status == 404:
                abort(404)
            flash(str(exc), "danger")
        else:
            flash(str(done), "success")
        return redirect(url_for(".show", pk=pk))

    @expose("/dispatch/<pk>", methods=["POST"])
    @has_access
    def dispatch(self, pk):
        """Dispatch the draft ``pk``; :raise 404: not visible."""
        return self._step(pk, lambda: tw.dispatch_transfer(pk), lazy_gettext("Dispatched: the stock is in transit."))

    @expose("/cancel/<pk>", methods=["POST"])
    @has_access
    def cancel(self, pk):
        """Cancel the draft ``pk``; :raise 404: not visible."""
        return self._step(pk, lambda: tw.cancel_transfer(pk), lazy_gettext("Cancelled."))

    @expose("/receive/<pk>", methods=["POST"])
    @has_access
    def receive(self, pk):
        """Receive ``pk`` with the form's ``received_<part id>`` quantities; :raise 404: not visible."""
        received = {key[len("received_"):]: value.strip() for key, value in request.form.items()
                    if key.startswith("received_")}
        return self._step(pk, lambda: tw.receive_transfer(pk, received), lazy_gettext("Received."))

    @expose("/resolve/<pk>", methods=["POST"])
    @has_access
    def resolve(self, pk):
        """Return or write off the open discrepancy of one line (``part``, ``action``, ``notes``)."""
        form = request.form
        action = form.get("action", "")
        done = (lazy_gettext("Returned to the source warehouse.") if action == "return"
                else lazy_gettext("Written off as a transit loss, pending approval by another admin."))
        return self._step(pk, lambda: tw.resolve_discrepancy(pk, form.get("part"), action,
                                                              form.get("notes") or None), done)
