"""Screens of stocktakes (issue 9): list, plan form, count screen, review and report.

Thin callers of :mod:`app.workflows.stocktake`, like the transfers' screens:
a form is read, one command runs, a refusal is flashed with the rule's
message.  The buttons a page shows come from
:func:`~app.workflows.stocktake.allowed_actions`, and every book quantity or
variance is printed only when :func:`~app.workflows.stocktake.may_see_book`
allows it (a blind count's counters never see them, nor the report).

- ``/stocktakemodelview/list/``: the list, filtered by state (FAB's search), CSV export.
- ``/add``: the plan form; counters are chosen by type-ahead (``/counters``).
- ``/show/<id>``: the review: lines, counts, variances (over the threshold
  highlighted), decisions, and the steps; printable.
- ``/count/<id>``: the count screen for a phone: a part number (typed or
  scanned) and a big quantity field, progress "37 of 120 lines counted",
  and every line of the stocktake to count in a batch.
- ``/report/<id>`` (CSV) and ``/report_xlsx/<id>``: the report as a download
  (:func:`app.views.export.download`: formula-safe, typed, logged in the export log).
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import abort, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_babel import gettext, lazy_gettext, ngettext

from .. import models as m
from ..errors import DomainError
from ..exports import log
from ..extensions import csrf, db
from ..models.part import normalise_code
from ..scoping import current_actor, system
from ..workflows import stocktake as sw
from ..workflows.base import acting_user
from .base import ABPartsModelView
from .export import download
from .interface import ABPartsInterface
from .transfers import CHOICES, StockTransferModelView, _like


class StocktakeModelView(ABPartsModelView):
    """Stocktakes: plan, count (blind by default), review the variances, approve, report."""

    datamodel = ABPartsInterface(m.Stocktake)
    class_permission_name = "Stocktake"
    base_permissions = ["can_read", "can_add", "can_edit"]
    exclude_route_methods = {"edit", "delete", "api", "api_read", "api_get", "api_create", "api_update",
                             "api_delete", "api_column_add", "api_column_edit", "api_readvalues"}
    list_title = lazy_gettext("Stocktakes")
    list_columns = ["reference_number", "status", "warehouse_name", "planned_date", "is_blind", "started_at",
                    "completed_at"]
    search_columns = ["status", "reference_number", "warehouse", "planned_date", "is_blind", "created_at"]
    base_order = ("created_at", "desc")
    label_columns = {"reference_number": lazy_gettext("Reference"), "warehouse_name": lazy_gettext("Warehouse"),
                     "warehouse": lazy_gettext("Warehouse"),
                     "planned_date": lazy_gettext("Planned for"), "is_blind": lazy_gettext("Blind"),
                     "started_at": lazy_gettext("Started"),
                     "completed_at": lazy_gettext("Completed"), "created_at": lazy_gettext("Created"),
                     "status": lazy_gettext("State")}
    show_template = "abparts/stocktake_show.html"

    #: A step of the document, like the transfers' (flash the result, back to the review).
    _step = StockTransferModelView._step

    # -- the plan form -------------------------------------------------------------
    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        """The plan form: warehouse, date, which parts, counters, blind or not, notes.

        POST plans the stocktake and shows it; a refusal is flashed and the form
        shown again with what was chosen.
        """
        session = db.session
        who = acting_user(session)
        form = {"warehouse": "", "planned_date": dt.date.today().isoformat(), "scope": "all", "part_type": "",
                "parts": [], "counters": [], "blind": True, "notes": ""}
        if request.method == "POST":
            csrf.protect()
            f = request.form
            form = {"warehouse": f.get("warehouse", ""), "planned_date": f.get("planned_date", "").strip(),
                    "scope": f.get("scope", "all"), "part_type": f.get("part_type", ""),
                    "parts": f.getlist("parts"), "counters": f.getlist("counters"),
                    "blind": bool(f.get("blind")), "notes": f.get("notes", "")}
            try:
                planned = dt.date.fromisoformat(form["planned_date"])
            except ValueError:
                flash(gettext("The planned date is a date, YYYY-MM-DD."), "danger")
            else:
                try:
                    stocktake = sw.plan_stocktake(form["warehouse"], planned, form["counters"], form["scope"],
                                                  form["parts"], form["part_type"] or None, form["blind"],
                                                  form["notes"] or None)
                except DomainError as exc:
                    flash(str(exc), "danger")
                else:
                    flash(gettext("Stocktake %(reference_number)s planned: %(count)s lines.",
                            reference_number=stocktake.reference_number, count=len(stocktake.lines)),
                          "success")
                    return redirect(url_for(".show", pk=stocktake.id))
        with system():
            names = StockTransferModelView._names(session, [], form["parts"])
            users = session.execute(sa.select(m.PortalUser).where(m.PortalUser.id.in_(
                [int(u) for u in form["counters"] if str(u).isdigit()]))).scalars().all()
        names.update({str(u.id): _person(u) for u in users})
        return self.render_template(
            "abparts/stocktake_form.html", title="Plan a stocktake", form=form, names=names,
            warehouses=StockTransferModelView._sources(session, who), part_types=list(m.PartType),
            parts_url=url_for("StockTransferModelView.parts"))

    @expose("/counters")
    @has_access
    def counters(self):
        """Type-ahead of the users who may count a warehouse's stock: ``?warehouse=<id>&q=text``
        -> Select2 JSON, at most 20 active users of the warehouse's organization."""
        session = db.session
        key = m.parse_uuid(request.args.get("warehouse"))
        warehouse = session.get(m.Warehouse, key) if key else None
        if warehouse is None:
            return jsonify(results=[], pagination={"more": False})
        u = m.PortalUser
        stmt = sa.select(u).where(u.organization_id == warehouse.organization_id, u.active.is_(True))
        text = request.args.get("q", "").strip()
        if text:
            like = _like(text)
            stmt = stmt.where(sa.or_(u.username.ilike(like, escape="\\"), u.first_name.ilike(like, escape="\\"),
                                     u.last_name.ilike(like, escape="\\")))
        rows = session.execute(stmt.order_by(u.username).limit(CHOICES + 1)).scalars().all()
        return jsonify(results=[{"id": str(row.id), "text": _person(row)} for row in rows[:CHOICES]],
                       pagination={"more": len(rows) > CHOICES})

    # -- the review and report ---------------------------------------------------------
    def _load(self, pk) -> m.Stocktake:
        try:
            return sw.load_stocktake(db.session, pk)
        except DomainError:
            abort(404)

    @expose("/show/<pk>")
    @has_access
    def show(self, pk):
        """The stocktake: lines, counts and variances as the user may see them, and the steps.

        :raise 404: no such stocktake for this user.
        """
        session = db.session
        stocktake = self._load(pk)
        who = acting_user(session, reading=True)
        with system():
            people = {key: _person(session.get(m.PortalUser, uid)) for key in
                      ("created", "started", "completed", "approved", "cancelled")
                      if (uid := getattr(stocktake, f"{key}_by_user_id"))}
        return self.render_template(
            self.show_template, title=f"Stocktake {stocktake.reference_number}", stocktake=stocktake,
            report=sw.report(session, stocktake), book=sw.may_see_book(who, stocktake), people=people,
            actions=sw.allowed_actions(who, stocktake), me=who.user.id, list_url=url_for(".list"))

    def _report_rows(self, pk) -> tuple[m.Stocktake, list[list]]:
        """The report as rows (a header first) for CSV and XLSX; only for who may see the book figures.

        :raise 404: not visible; :raise 403: a counter of a blind stocktake.
        """
        session = db.session
        stocktake = self._load(pk)
        if not sw.may_see_book(acting_user(session, reading=True), stocktake):
            abort(403)
        report = sw.report(session, stocktake)
        counters = list(report.counters)
        header = ["Line", "Part number", "Part", "Unit", "Snapshot", "Movements during the count",
                  "Book at count", *[f"Count: {report.counters[c]}" for c in counters], "Agreed count",
                  "Variance", "Unit price", "Variance value", "Needs approval", "Accepted by", "Decision note"]
        rows = [header]
        for r in report.lines:
            rows.append([r.line.line_number, r.part.part_number, r.part.name, r.part.unit_of_measure,
                         r.line.snapshot_quantity, r.movements, r.agreement.book,
                         *[r.counts[c].counted_quantity if c in r.counts else None for c in counters],
                         r.agreement.agreed, r.variance, r.line.unit_price or r.part.unit_price, r.value,
                         "yes" if r.line.needs_approval else "no", r.accepted_by, r.line.resolution_note])
        approved = ""
        if stocktake.approved_by_user_id:
            with system():
                approved = f"approved by {_person(session.get(m.PortalUser, stocktake.approved_by_user_id))}"
        rows.append(["Total", "", "", "", "", "", "", *["" for _ in counters], "", "", "", report.total_value,
                     report.needing_approval, approved])
        return stocktake, rows

    @expose("/report/<pk>")
    @has_access
    def report(self, pk):
        """The report as CSV: per line snapshot, movements, counts, agreed count, variance; totals.

        Logged in the export log, like every export.
        :raise 404: not visible; :raise 403: a counter of a blind stocktake.
        """
        return self._report_download(pk, "csv")

    @expose("/report_xlsx/<pk>")
    @has_access
    def report_xlsx(self, pk):
        """The report as an XLSX workbook (the same rows as the CSV; numbers as numbers).

        :raise 404: not visible; :raise 403: a counter of a blind stocktake.
        """
        return self._report_download(pk, "xlsx")

    def _report_download(self, pk, fmt: str):
        stocktake, (header, *rows) = self._report_rows(pk)
        reference = stocktake.reference_number
        log_id = log.start(g.user, current_actor(), list_name=f"Stocktake report {reference}",
                           view_name=self.__class__.__name__, query=request.query_string.decode("utf-8", "replace"),
                           filters={"stocktake": str(stocktake.id)}, fmt=fmt)
        return download(fmt, header, rows, log_id, filename=f"stocktake-{reference}", sheet_name=reference)

    # -- counting ----------------------------------------------------------------
    @expose("/count/<pk>", methods=["GET"])
    @has_access
    def count_screen(self, pk):
        """The count screen (made for a phone): part number and quantity, progress, the lines.

        :raise 404: not visible.
        """
        session = db.session
        stocktake = self._load(pk)
        who = acting_user(session, reading=True)
        report = sw.report(session, stocktake)
        mine = sum(1 for r in report.lines if who.user.id in r.counts)
        return self.render_template(
            "abparts/stocktake_count.html", title=f"Count {stocktake.reference_number}", stocktake=stocktake,
            report=report, me=who.user.id, counted=mine, may_count="count" in sw.allowed_actions(who, stocktake),
            last=request.args.get("part", ""))

    @expose("/count/<pk>", methods=["POST"])
    @has_access
    def count(self, pk):
        """Enter counts: ``part_number`` + ``quantity`` (one line), or ``count_<part id>`` fields (a batch).

        Empty fields are skipped; a count equal to the counter's previous one changes nothing.
        :raise 404: not visible.
        """
        csrf.protect()
        stocktake = self._load(pk)
        form = request.form
        counts = [(key[len("count_"):], value.strip()) for key, value in form.items()
                  if key.startswith("count_") and value.strip()]
        number = normalise_code(form.get("part_number") or "")
        if number:
            part = db.session.execute(sa.select(m.Part).join(m.StocktakeLine, m.StocktakeLine.part_id == m.Part.id)
                                      .where(m.StocktakeLine.stocktake_id == stocktake.id,
                                             m.Part.part_number == number)).scalar_one_or_none()
            if part is None:
                flash(gettext("%(number)s is not on stocktake %(reference_number)s.",
                        number=number, reference_number=stocktake.reference_number), "danger")
                return redirect(url_for(".count_screen", pk=pk))
            counts.append((str(part.id), (form.get("quantity") or "").strip()))
        if not counts:
            flash(gettext("Enter a part number and the quantity counted."), "warning")
            return redirect(url_for(".count_screen", pk=pk))
        try:
            sw.count_lines(pk, counts)
        except DomainError as exc:
            if exc.status == 404:
                abort(404)
            flash(str(exc), "danger")
        else:
            flash(gettext("%(part_number)s: counted.", part_number=number) if number and len(counts) == 1
                  else ngettext("%(num)s count saved.", "%(num)s counts saved.", len(counts)), "success")
        return redirect(url_for(".count_screen", pk=pk))

    # -- the steps ------------------------------------------------------------------
    @expose("/start/<pk>", methods=["POST"])
    @has_access
    def start(self, pk):
        """Start counting ``pk`` (the snapshot is taken now); :raise 404: not visible."""
        return self._step(pk, lambda: sw.start_stocktake(pk),
                          lazy_gettext("Counting started: the book quantities are taken."))

    @expose("/complete/<pk>", methods=["POST"])
    @has_access
    def complete(self, pk):
        """Complete ``pk``: variances computed; posted unless approval is needed; :raise 404: not visible."""
        return self._step(pk, lambda: sw.complete_stocktake(pk), lazy_gettext("Completed."))

    @expose("/approve/<pk>", methods=["POST"])
    @has_access
    def approve(self, pk):
        """Approve ``pk``'s variances and post the corrections; :raise 404: not visible."""
        return self._step(pk, lambda: sw.approve_stocktake(pk), lazy_gettext("Approved: the corrections are posted."))

    @expose("/cancel/<pk>", methods=["POST"])
    @has_access
    def cancel(self, pk):
        """Cancel ``pk``; nothing is posted; :raise 404: not visible."""
        return self._step(pk, lambda: sw.cancel_stocktake(pk), lazy_gettext("Cancelled."))

    @expose("/resolve/<pk>", methods=["POST"])
    @has_access
    def resolve(self, pk):
        """An admin's decision on one line's count (``part``, ``agreed_quantity``, ``note``)."""
        form = request.form
        return self._step(pk, lambda: sw.resolve_line(pk, form.get("part"), form.get("agreed_quantity", ""),
                                                      form.get("note", "")), lazy_gettext("Count decided."))


def _person(user) -> str:
    """A user as pages name them: ``First Last (username)``."""
    if user is None:
        return ""
    name = f"{user.first_name or ''} {user.last_name or ''}".strip()
    return f"{name} ({user.username})" if name else user.username
