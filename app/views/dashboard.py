"""The landing page after login: a dashboard of the user's organizations (issue 11).

FAB's documented hook (``FAB_INDEX_VIEW``) replaces its "Welcome" page.  Every
figure comes from :mod:`app.reports.dashboard` (GROUP BY queries, scoped) and
links to the list it summarizes, filtered the same way, so the two never
disagree (with a read replica, ``DATABASE_READ_URL``, the figures are read there
through :func:`app.database.read_session` and may trail the list by the
replica's delay).  Charts are SVG drawn on the server: no request leaves the portal.
"""
from __future__ import annotations

import datetime as dt

from flask import redirect, url_for
from flask_appbuilder import IndexView, expose
from flask_appbuilder.models.sqla.filters import FilterEqual, FilterGreater, FilterSmaller
from flask_login import current_user

from .. import models as m
from ..database import read_session
from ..reports import dashboard as figures
from ..security.roles import METHOD_PERMISSIONS

#: The lists a figure links to: (view class name, filtered column) per document.
_STATUS_LISTS = {
    m.CustomerOrder: "CustomerOrderModelView",
    m.SupplierOrder: "SupplierOrderModelView",
    m.StockTransfer: "StockTransferModelView",
    m.Stocktake: "StocktakeModelView",
}


def filtered_list(view_name: str, *filters) -> str | None:
    """The URL of ``view_name``'s list filtered by ``(column, filter class, value)``s,
    or ``None`` when the user may not open that list."""
    from ..extensions import appbuilder

    view = next((v for v in appbuilder.baseviews if type(v).__name__ == view_name), None)
    if view is None or not appbuilder.sm.has_access(f"can_{METHOD_PERMISSIONS['list']}", view.class_permission_name):
        return None
    args = {}
    for number, (column, kind, value) in enumerate(filters):
        offered = view.datamodel.filter_converter_class(view.datamodel).convert(column)
        index = next(i for i, f in enumerate(offered) if type(f) is kind)
        args[f"_flt_{index}_{column}"] = value
    return url_for(f"{view.endpoint}.list", **args)


class DashboardView(IndexView):
    """``/``: the dashboard for a signed-in user; the login page for anyone else."""

    index_template = "abparts/dashboard.html"

    @expose("/")
    def index(self):
        """Orders and transfers per state, approvals waiting, and the ledger's movements per month."""
        if not current_user.is_authenticated:
            return redirect(url_for(f"{self.appbuilder.sm.auth_view.endpoint}.login"))
        session = read_session()  # long reads: the read replica when one is configured
        boards = []
        for model, view_name in _STATUS_LISTS.items():
            link = filtered_list(view_name)
            if link is None:
                continue
            counts = figures.count_by_status(session, model)
            boards.append((view_name, [(state, n, filtered_list(view_name, ("status", FilterEqual, state.value)))
                                       for state, n in counts.items()]))
        ledger = filtered_list("TransactionModelView")
        pending = months = None
        if ledger is not None:
            pending = (figures.pending_approvals(session),
                       filtered_list("TransactionModelView", ("approval_status", FilterEqual, "pending")))
            months = [(start, counts, {kind: filtered_list(
                "TransactionModelView", ("transaction_type", FilterEqual, kind.value),
                ("transaction_date", FilterGreater, (start - dt.timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")),
                ("transaction_date", FilterSmaller, end.strftime("%Y-%m-%d %H:%M:%S"))) for kind in counts})
                for start, end, counts in figures.movements_per_month(session)]
        return self.render_template(self.index_template, appbuilder=self.appbuilder, boards=boards,
                                    pending=pending, months=months, kinds=list(m.TransactionType),
                                    top=max([sum(c.values()) for _s, c, _l in months or []] + [1]),
                                    titles=TITLES)


TITLES = {"CustomerOrderModelView": "Customer orders", "SupplierOrderModelView": "Supplier orders",
          "StockTransferModelView": "Stock transfers", "StocktakeModelView": "Stocktakes"}
