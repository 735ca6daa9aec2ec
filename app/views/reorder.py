"""The reorder point suggestions screen (issue 11): compute, review, accept."""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for
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
    list_title = "Reorder point suggestions"
    list_template = "abparts/reorder_list.html"
    base_filters = [["accepted_at", FilterEqual, None]]
    list_columns = ["warehouse", "part", "stock_on_hand", "current_reorder_point", "suggested_reorder_point", "used",
                    "window_days", "lead_time_days", "safety_stock_days", "computed_at"]
    show_columns = [*list_columns, "computed_by"]
    search_columns = ["warehouse", "part", "suggested_point", "current_point", "computed_at"]
    base_order = ("suggested_point", "desc")
    label_columns = {"stock_on_hand": "Stock on hand", "current_reorder_point": "Reorder point now",
                     "suggested_reorder_point": "Suggested", "used": "Used in window", "window_days": "Window (days)",
                     "lead_time_days": "Lead time (days)", "safety_stock_days": "Safety stock (days)",
                     "computed_at": "Computed", "suggested_point": "Suggested (number)",
                     "current_point": "Reorder point now (number)"}
    description_columns = {
        "suggested_reorder_point": "Used in window / window days x (lead time + safety stock days), rounded up.",
    }

    @action("accept", "Accept", "Write the suggested reorder points of the ticked lines?", "fa-check",
            single=False)
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
            flash(f"The window must be a whole number of days, not {text!r}.", "danger")
            return redirect(url_for(".list"))
        try:
            outcome = reorder.suggest_reorder_points(db.session, g.user.username, window)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            flash(f"{outcome.suggestions} of {outcome.lines} stock lines have a new suggested reorder point.",
                  "success")
        return redirect(url_for(".list"))

    def _accept(self, ids):
        if not ids:
            flash("There is no suggestion to accept.", "warning")
            return redirect(url_for(".list"))
        try:
            count = reorder.accept_suggestions(db.session, ids, g.user.username)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            flash(f"{count} reorder point(s) set.", "success")
        return redirect(url_for(".list"))
