"""The reorder point suggestions screen (issue 11): compute, review, accept."""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.filters import FilterEqual

from .. import models as m
from ..errors import DomainError
from ..extensions import db
from ..workflows import reorder
from .base import ABPartsModelView
from .interface import ABPartsInterface


class ReorderSuggestionModelView(ABPartsModelView):
    """Pending suggested reorder points of the stock lines the user sees
    (:mod:`app.workflows.reorder`): "Compute suggestions" replaces them from the usage
    of the last days, "Accept" writes the ticked ones (or all of them) into the lines'
    reorder points.  Read by Admins and Auditors, computed and accepted by Admins."""

    datamodel = ABPartsInterface(m.ReorderSuggestion)
    class_permission_name = "ReorderSuggestion"
    base_permissions = ["can_read", "can_edit"]
    exclude_route_methods = {"add", "edit", "delete"}
    list_title = lazy_gettext("Reorder point suggestions")
    list_template = "abparts/reorder_list.html"
    base_filters = [["accepted_at", FilterEqual, None]]
    list_columns = ["warehouse", "part", "stock_on_hand", "current_reorder_point", "suggested_reorder_point", "used",
                    "window_days", "lead_time_days", "safety_stock_days", "computed_at"]
    show_columns = [*list_columns, "computed_by"]
    search_columns = ["warehouse", "part", "suggested_point", "current_point", "computed_at"]
    base_order = ("suggested_point", "desc")
    label_columns = {"stock_on_hand": lazy_gettext("Stock on hand"),
                     "current_reorder_point": lazy_gettext("Reorder point now"),
                     "suggested_reorder_point": lazy_gettext("Suggested"), "used": lazy_gettext("Used in window"),
                     "window_days": lazy_gettext("Window (days)"), "lead_time_days": lazy_gettext("Lead time (days)"),
                     "safety_stock_days": lazy_gettext("Safety stock (days)"), "computed_at": lazy_gettext("Computed"),
                     "suggested_point": lazy_gettext("Suggested (number)"),
                     "current_point": lazy_gettext("Reorder point now (number)")}
    description_columns = {
        "suggested_reorder_point": lazy_gettext("Used in window / window days x (lead time + safety stock days), "
                                                "rounded up."),
    }

    @action("accept", lazy_gettext("Accept"), lazy_gettext("Write the suggested reorder points of the ticked lines?"),
            "fa-check", single=False)
    def accept(self, items):
        """Accept the ticked suggestions (all or nothing)."""
        items = items if isinstance(items, list) else [items]
        return self._accept([item.id for item in items if item is not None])

    @expose("/accept_all/", methods=["POST"])
    @has_access
    def accept_all(self):
        """Accept every pending suggestion the user sees."""
        return self._accept(reorder.pending_suggestion_ids(db.session))

    @expose("/compute/", methods=["POST"])
    @has_access
    def compute(self):
        """Replace the suggestions of the user's warehouses from their usage (``window_days``, optional)."""
        text = request.form.get("window_days", "").strip()
        try:
            window = int(text) if text else None
        except ValueError:
            flash(gettext("The window must be a whole number of days, not %(text)r.", text=text), "danger")
            return redirect(url_for(".list"))
        try:
            outcome = reorder.suggest_reorder_points(db.session, g.user.username, window)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            flash(gettext("%(suggestions)s of %(lines)s stock lines have a new suggested reorder point.",
                          suggestions=outcome.suggestions, lines=outcome.lines), "success")
        return redirect(url_for(".list"))

    def _accept(self, ids):
        if not ids:
            flash(gettext("There is no suggestion to accept."), "warning")
            return redirect(url_for(".list"))
        try:
            count = reorder.accept_suggestions(db.session, ids, g.user.username)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            flash(gettext("%(count)s reorder point(s) set.", count=count), "success")
        return redirect(url_for(".list"))
