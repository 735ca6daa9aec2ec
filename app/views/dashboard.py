"""The landing page after login: a dashboard per role, of the user's organizations (issue 11).

FAB's documented hook (``FAB_INDEX_VIEW``) replaces its "Welcome" page.  Which
boards a user sees follows who they are (:class:`~app.scoping.Actor`):

- **Oraseas EE's staff** (and Super Admins): stock-outs and low stock per
  organization, stock value per organization and warehouse, documents per
  state, everything waiting for a decision, stock in transit, the ledger's
  movements per month and the parts consumed most;
- **customers' admins and users**: their stock-outs and low stock, transfers
  and orders on their way to them, their documents per state, part usage per
  machine and month;
- **Auditors**: the ledger check (its last result, and a button to run it),
  adjustments per reason and month, the export log, documents per state and movements.

Every figure comes from :mod:`app.reports.dashboard` (GROUP BY queries through
the ORM session, so scoped like the lists) and links to the list it
summarizes, filtered the same way: a count equals the link's "Record Count"
(with a read replica, ``DATABASE_READ_URL``, the figures are read there through
:func:`app.database.read_session` and may trail the list by the replica's
delay).  A list's own base filters narrow its figures too
(:func:`list_criteria`).  Charts are SVG drawn on the server: no request leaves the portal.
"""
from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from flask import abort, flash, g, redirect, url_for
from flask_appbuilder import BaseView, IndexView, expose, has_access
from flask_appbuilder.models.sqla.filters import (
    FilterEqual,
    FilterGreater,
    FilterRelationOneToManyEqual,
    FilterSmaller,
)
from flask_babel import format_decimal, gettext, lazy_gettext
from flask_login import current_user

from .. import models as m
from ..database import read_session
from ..extensions import db
from ..i18n import translating
from ..ledger_check import check_and_record
from ..models.base import format_quantity
from ..reports import dashboard as figures
from ..scoping import current_actor
from ..security import events
from ..security.roles import METHOD_PERMISSIONS, READ
from .inventory import FilterStockOrganization

#: The lists a figure links to: (view class name, filtered column) per document.
_STATUS_LISTS = {
    m.CustomerOrder: "CustomerOrderModelView",
    m.SupplierOrder: "SupplierOrderModelView",
    m.StockTransfer: "StockTransferModelView",
    m.Stocktake: "StocktakeModelView",
}
STOCK, LEDGER = "InventoryModelView", "TransactionModelView"
#: Organizations listed on the stock boards (the totals count every one).
TOP_ORGANIZATIONS = 12
#: Days of consumption behind "top consumed parts"; months of part usage and of adjustments shown.
CONSUMPTION_DAYS, USAGE_MONTHS, ADJUSTMENT_MONTHS, EXPORT_DAYS = 90, 6, 12, 30


def _view(view_name: str):
    """The registered view named ``view_name`` if the user may open its list, else ``None``
    (looked up once per request)."""
    from ..extensions import appbuilder

    found = g.setdefault("abparts_dashboard_views", {})
    if view_name not in found:
        view = next((v for v in appbuilder.baseviews if type(v).__name__ == view_name), None)
        allowed = view is not None and appbuilder.sm.has_access(f"can_{METHOD_PERMISSIONS['list']}",
                                                                view.class_permission_name)
        found[view_name] = view if allowed else None
    return found[view_name]


def _filter_index(view, column: str, kind) -> int:
    """The index of filter class ``kind`` among those ``view`` offers on ``column`` (``_flt_<index>_<column>``)."""
    indexes = g.setdefault("abparts_dashboard_filters", {})
    key = (type(view).__name__, column, kind)
    if key not in indexes:
        offered = view.datamodel.filter_converter_class(view.datamodel).convert(column)
        indexes[key] = next(i for i, f in enumerate(offered) if type(f) is kind)
    return indexes[key]


def filtered_list(view_name: str, *filters) -> str | None:
    """The URL of ``view_name``'s list filtered by ``(column, filter class, value)``s,
    or ``None`` when the user may not open that list."""
    view = _view(view_name)
    if view is None:
        return None
    args = {f"_flt_{_filter_index(view, column, kind)}_{column}": value for column, kind, value in filters}
    return url_for(f"{view.endpoint}.list", **args)


def list_criteria(view_name: str):
    """A function adding ``view_name``'s base filters to a ``SELECT`` of its model (e.g. the stock
    list's: real warehouses only, none a blind counter counts), so that a figure counts
    exactly the rows its list shows."""
    view = _view(view_name)
    if view is None:
        return lambda query: query
    return lambda query: view.datamodel.get_filters().add_filter_list(view.base_filters).apply_all(query)


def after(instant: dt.datetime) -> str:
    """A "greater than" filter value that keeps ``instant`` itself (the list's dates have microseconds)."""
    return (instant - dt.timedelta(microseconds=1)).strftime("%Y-%m-%d %H:%M:%S.%f")


def before(instant: dt.datetime) -> str:
    """A "smaller than" filter value: up to, not including, ``instant``."""
    return instant.strftime("%Y-%m-%d %H:%M:%S.%f")


def _between(column: str, start: dt.datetime, end: dt.datetime | None = None) -> list[tuple]:
    found = [(column, FilterGreater, after(start))]
    return found + [(column, FilterSmaller, before(end))] if end else found


def _money(value) -> str:
    """Money (price currency) with two decimals: ``1,234.50``; in Greek ``1.234,50``."""
    return format_decimal(value, format="#,##0.00") if translating() else f"{value:,.2f}"


class DashboardView(IndexView):
    """``/``: the dashboard of a signed-in user's role; the login page for anyone else."""

    index_template = "abparts/dashboard.html"

    @expose("/")
    def index(self):
        """The boards of the user's role (see the module's description)."""
        if not current_user.is_authenticated:
            return redirect(url_for(f"{self.appbuilder.sm.auth_view.endpoint}.login"))
        actor = current_actor()
        session = read_session()  # long reads: the read replica when one is configured
        statuses = {model: figures.count_by_status(session, model)
                    for model, view_name in _STATUS_LISTS.items() if _view(view_name)}
        if actor is not None and actor.is_read_only:
            role, boards = "auditor", self.auditor_boards(session)
        elif actor is not None and (actor.is_oraseas_staff or actor.sees_all_organizations):
            role, boards = "staff", self.staff_boards(session, statuses)
        else:
            role, boards = "customer", self.customer_boards(session, statuses, actor)
        boards["states"] = [(view_name, [(state, n, filtered_list(view_name, ("status", FilterEqual, state.value)))
                                         for state, n in statuses[model].items()])
                            for model, view_name in _STATUS_LISTS.items() if model in statuses]
        if role != "customer":
            boards["months"] = self.movements(session)
            boards["months_top"] = max([sum(c.values()) for _s, c, _l in boards["months"] or []] + [1])
        return self.render_template(self.index_template, appbuilder=self.appbuilder, role=role, b=boards,
                                    kinds=list(m.TransactionType), titles=TITLES, money=_money)

    # -- the boards of each role -------------------------------------------------------
    def staff_boards(self, session, statuses) -> dict:
        """Oraseas EE's staff: alerts, value, approvals waiting, stock in transit, top consumption."""
        stock = figures.stock_figures(session, list_criteria(STOCK)) if _view(STOCK) else None
        boards = {"alerts": self.stock_alerts(stock), "value": self.stock_value(stock)}
        waiting = [(lazy_gettext("Ledger rows awaiting approval"), LEDGER, None),
                   (lazy_gettext("Customer orders awaiting approval"), "CustomerOrderModelView",
                    m.CustomerOrderStatus.requested),
                   (lazy_gettext("Stocktakes awaiting approval"), "StocktakeModelView",
                    m.StocktakeStatus.awaiting_approval),
                   (lazy_gettext("Transfers drafted, not dispatched"), "StockTransferModelView",
                    m.TransferStatus.draft)]
        boards["waiting"] = [row for row in (self._waiting(session, statuses, *spec) for spec in waiting) if row]
        transit = []
        if m.StockTransfer in statuses:
            transit.append((lazy_gettext("Transfers dispatched, not received"),
                            statuses[m.StockTransfer][m.TransferStatus.dispatched],
                            filtered_list("StockTransferModelView", ("status", FilterEqual, "dispatched"))))
        if _view("InTransitView"):
            lines = session.execute(list_criteria("InTransitView")(
                sa.select(sa.func.count()).select_from(m.Inventory))).scalar_one()
            transit.append((lazy_gettext("Stock lines in transit (part, sender)"), lines,
                            filtered_list("InTransitView")))
        boards["transit"] = transit
        if _view(LEDGER):
            since = dt.datetime.combine(dt.date.today() - dt.timedelta(days=CONSUMPTION_DAYS), dt.time(),
                                        dt.timezone.utc)
            boards["consumed"] = [
                (part, n, format_quantity(quantity, part.unit_of_measure, whole=part.is_whole_units),
                 filtered_list(LEDGER, ("transaction_type", FilterEqual, "consumption"),
                               ("part", FilterRelationOneToManyEqual, str(part.id)),
                               *_between("transaction_date", since)))
                for part, n, quantity in figures.top_consumed_parts(session, since)]
            boards["consumed_days"] = CONSUMPTION_DAYS
        return boards

    def customer_boards(self, session, statuses, actor) -> dict:
        """A customer's admins and users: alerts, what is on its way to them, usage per machine."""
        stock = figures.stock_figures(session, list_criteria(STOCK)) if _view(STOCK) else None
        boards = {"alerts": self.stock_alerts(stock)}
        incoming = []
        own = actor.organization_id if actor else None
        if m.StockTransfer in statuses and own is not None:
            t = m.StockTransfer
            incoming.append((lazy_gettext("Transfers on their way to you"), figures.count_where(
                session, t, t.status == m.TransferStatus.dispatched, t.destination_organization_id == own),
                filtered_list("StockTransferModelView", ("status", FilterEqual, "dispatched"),
                              ("destination_organization", FilterRelationOneToManyEqual, str(own)))))
        if m.CustomerOrder in statuses:
            incoming.append((lazy_gettext("Orders shipped, awaiting your receipt"),
                             statuses[m.CustomerOrder][m.CustomerOrderStatus.shipped],
                             filtered_list("CustomerOrderModelView", ("status", FilterEqual, "shipped"))))
        boards["incoming"] = incoming
        if _view("PartUsageModelView"):
            windows = figures.month_windows(USAGE_MONTHS)
            boards["usage"] = (windows, [
                (machine, [(n, filtered_list("PartUsageModelView", ("machine", FilterRelationOneToManyEqual,
                                                                     str(machine.id)), *_between("usage_date", s, e)))
                           for n, (s, e) in zip(counts, windows)])
                for machine, counts in figures.usage_per_machine(session, windows)])
        return boards

    def auditor_boards(self, session) -> dict:
        """Auditors: the ledger check, adjustments by reason and month, the export log."""
        boards = {}
        if _view("SecurityEventModelView"):
            last = figures.last_event(session, events.LEDGER_CHECK)
            boards["check"] = {
                "last": last, "details": _details(last),
                "runs": figures.count_where(session, m.SecurityEvent,
                                            m.SecurityEvent.event_type == events.LEDGER_CHECK),
                "link": filtered_list("SecurityEventModelView", ("event_type", FilterEqual, events.LEDGER_CHECK)),
                "may_run": self.appbuilder.sm.has_access(f"can_{READ}", LedgerCheckView.class_permission_name)}
        if _view("StockAdjustmentModelView"):
            windows = figures.month_windows(ADJUSTMENT_MONTHS)
            boards["adjustments"] = (windows, [
                (reason, [(n, filtered_list("StockAdjustmentModelView", ("reason_code", FilterEqual, reason),
                                            *_between("adjustment_date", s, e)) if n else None)
                          for n, (s, e) in zip(counts, windows)])
                for reason, counts in figures.adjustments_by_reason(session, windows)])
        if _view("ExportLogModelView"):
            since = dt.datetime.combine(dt.date.today() - dt.timedelta(days=EXPORT_DAYS), dt.time(), dt.timezone.utc)
            rows = figures.exports_by_list(session, since)
            boards["exports"] = {
                "days": EXPORT_DAYS, "total": sum(n for _name, n in rows),
                "link": filtered_list("ExportLogModelView", *_between("started_at", since)),
                "lists": [(name, n, filtered_list("ExportLogModelView", ("list_name", FilterEqual, name),
                                                  *_between("started_at", since))) for name, n in rows]}
        return boards

    # -- boards shared by roles ---------------------------------------------------------
    @staticmethod
    def stock_alerts(stock) -> dict | None:
        """Stock-outs and low stock per organization (``stock``: :func:`~app.reports.dashboard.stock_figures`),
        each linking to its lines; the totals to all of them."""
        if stock is None:
            return None
        rows = stock.alerts
        statuses = figures.ALERTS

        def link(status, organization=None):
            found = [("status", FilterEqual, status.value)]
            return filtered_list(STOCK, *found, *([("warehouse", FilterStockOrganization, organization)]
                                                  if organization else []))

        return {"statuses": statuses, "organizations": len(rows),
                "totals": [(sum(counts[s] for _name, counts in rows), link(s)) for s in statuses],
                "rows": [(name, [(counts[s], link(s, name)) for s in statuses]) for name, counts in
                         rows[:TOP_ORGANIZATIONS]]}

    @staticmethod
    def stock_value(stock) -> dict | None:
        """Stock value per organization and warehouse, each linking to its stock lines."""
        if stock is None:
            return None
        rows = stock.value
        return {"total": sum(v for _name, warehouses in rows for _i, _w, v in warehouses), "link": filtered_list(STOCK),
                "organizations": len(rows),
                "rows": [(name, sum(v for _i, _w, v in warehouses),
                          filtered_list(STOCK, ("warehouse", FilterStockOrganization, name)),
                          [(warehouse, value, filtered_list(STOCK, ("warehouse", FilterRelationOneToManyEqual,
                                                                    str(warehouse_id))))
                           for warehouse_id, warehouse, value in warehouses])
                         for name, warehouses in rows[:TOP_ORGANIZATIONS]]}

    @staticmethod
    def _waiting(session, statuses, label, view_name, state):
        if state is None:  # the ledger's pending rows
            if not _view(view_name):
                return None
            return (label, figures.pending_approvals(session),
                    filtered_list(view_name, ("approval_status", FilterEqual, "pending")))
        model = next((model for model, name in _STATUS_LISTS.items() if name == view_name), None)
        if model not in statuses:
            return None
        return label, statuses[model][state], filtered_list(view_name, ("status", FilterEqual, state.value))

    @staticmethod
    def movements(session):
        """The ledger's rows per month and type over 12 months, each linking to its rows (or ``None``)."""
        if not _view(LEDGER):
            return None
        return [(start, counts, {kind: filtered_list(
            LEDGER, ("transaction_type", FilterEqual, kind.value), *_between("transaction_date", start, end))
            for kind in counts}) for start, end, counts in figures.movements_per_month(session)]


def _details(event) -> dict:
    try:
        return json.loads(event.details) if event is not None and event.details else {}
    except ValueError:
        return {}


class LedgerCheckView(BaseView):
    """``POST /ledger-check/verify``: the auditors' dashboard button that runs the ledger check
    (:func:`app.ledger_check.check_and_record`) and records who ran it, when, and what it found.

    The check reads every organization's books, so only roles that see every
    organization may run it (``read`` of ``LedgerCheck``: Auditors and Super Admins).
    """

    route_base = "/ledger-check"
    class_permission_name = "LedgerCheck"
    method_permission_name = {"verify_ledger": READ}
    default_view = "verify_ledger"

    @expose("/verify", methods=["POST"])
    @has_access
    def verify_ledger(self):
        """Run the check (a form post carrying its CSRF token) and go back to the dashboard.

        :raise 403: a user who does not see every organization.
        """
        actor = current_actor()
        if actor is None or not actor.sees_all_organizations:
            abort(403)
        result = check_and_record(db.session, g.user.id)
        db.session.commit()
        if result["agree"]:
            flash(gettext("Ledger check: every balance equals its ledger rows, and transit agrees with its "
                          "transfers."), "success")
        else:
            flash(gettext("Ledger check: %(balances)s balance(s) differ from the ledger, %(transit)s transit "
                          "problem(s). Run 'flask abparts verify-ledger' for the lines.",
                          balances=result["balance_mismatches"], transit=result["transit_problems"]), "danger")
        return redirect(self.appbuilder.get_url_for_index)


TITLES = {"CustomerOrderModelView": lazy_gettext("Customer orders"),
          "SupplierOrderModelView": lazy_gettext("Supplier orders"),
          "StockTransferModelView": lazy_gettext("Stock transfers"), "StocktakeModelView": lazy_gettext("Stocktakes")}
