"""The Audit menu: security events, sessions, user audit logs and the export log (read-only)."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import url_for
from flask_appbuilder import expose, has_access
from werkzeug.routing import BuildError
from flask_babel import lazy_gettext

from .. import models as m
from .base import ReadOnlyModelView
from .export import AS_OF_ARG
from .interface import ABPartsInterface


class SecurityEventModelView(ReadOnlyModelView):
    datamodel = ABPartsInterface(m.SecurityEvent)
    class_permission_name = "SecurityEvent"
    list_title = lazy_gettext("Security events")
    list_columns = ["timestamp", "event_type", "user", "risk_level", "ip_address"]
    show_columns = list_columns + ["user_agent", "session_id", "details"]
    search_columns = ["event_type", "user", "risk_level", "timestamp", "ip_address"]
    base_order = ("timestamp", "desc")


class UserSessionModelView(ReadOnlyModelView):
    datamodel = ABPartsInterface(m.UserSession)
    class_permission_name = "UserSession"
    list_title = lazy_gettext("User sessions")
    list_columns = ["user", "created_at", "last_activity", "expires_at", "is_active", "ip_address"]
    show_columns = list_columns + ["user_agent"]
    search_columns = ["user", "is_active", "created_at", "expires_at"]
    base_order = ("last_activity", "desc")


class InvitationAuditLogModelView(ReadOnlyModelView):
    datamodel = ABPartsInterface(m.InvitationAuditLog)
    class_permission_name = "InvitationAuditLog"
    list_title = lazy_gettext("Invitation log")
    list_columns = ["timestamp", "user", "action", "performed_by_user"]
    show_columns = list_columns + ["details"]
    search_columns = ["user", "action", "timestamp"]
    base_order = ("timestamp", "desc")


class UserManagementAuditLogModelView(ReadOnlyModelView):
    datamodel = ABPartsInterface(m.UserManagementAuditLog)
    class_permission_name = "UserManagementAuditLog"
    list_title = lazy_gettext("User management log")
    list_columns = ["timestamp", "user", "action", "performed_by_user"]
    show_columns = list_columns + ["details"]
    search_columns = ["user", "action", "timestamp"]
    base_order = ("timestamp", "desc")


class ExportLogModelView(ReadOnlyModelView):
    """Every export of a list or report (issue 11): who, which list, filters and sort,
    the organization scope, format, rows, times; the stock ledger's "as of" time.

    A logged ledger export's page offers to run it again as of its time (the same rows).
    """

    datamodel = ABPartsInterface(m.ExportLog)
    class_permission_name = "ExportLog"
    list_title = lazy_gettext("Export log")
    list_columns = ["started_at", "username", "list_name", "format", "row_count", "organization_scope", "as_of"]
    show_columns = ["started_at", "finished_at", "username", "list_name", "view_name", "format", "row_count",
                    "organization_scope", "query", "filters", "as_of"]
    search_columns = ["started_at", "user", "username", "list_name", "view_name", "format", "as_of"]
    base_order = ("started_at", "desc")
    label_columns = {"started_at": lazy_gettext("Started"), "finished_at": lazy_gettext("Finished"),
                     "username": lazy_gettext("User"), "list_name": lazy_gettext("List"),
                     "view_name": lazy_gettext("Screen"), "row_count": lazy_gettext("Rows"),
                     "organization_scope": lazy_gettext("Organizations"),
                     "query": lazy_gettext("Query string"), "filters": lazy_gettext("Filters and sort"),
                     "as_of": lazy_gettext("As of")}
    description_columns = {
        "organization_scope": lazy_gettext("'all', or the ids of the organizations whose rows the user saw."),
        "row_count": lazy_gettext("Empty when the download was broken off."),
        "as_of": lazy_gettext("Stock ledger exports: the ledger rows written at or before this time."),
    }
    show_template = "abparts/export_log_show.html"

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        """FAB's show page plus, for a stock ledger export, a link re-running it as of its time.

        :raise 404: no such export for this user.
        """
        return self.show_page(pk, lambda entry: {
            "rerun_url": rerun_url(entry),
            "rerun_as_of": entry.as_of and entry.as_of.strftime("%Y-%m-%d %H:%M:%S UTC")})


def rerun_url(entry) -> str | None:
    """The address of ``entry``'s export (an :class:`~app.models.ExportLog`) run again as of its
    ``as_of`` time, or ``None`` when it has none or its screen is gone."""
    if entry.as_of is None:
        return None
    args = [(k, v) for k, v in parse_qsl(entry.query, keep_blank_values=True) if k != AS_OF_ARG]
    args.append((AS_OF_ARG, entry.as_of.isoformat()))
    try:
        return url_for(f"{entry.view_name}.export") + "?" + urlencode(args)
    except BuildError:
        return None
