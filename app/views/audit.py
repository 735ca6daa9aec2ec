"""The Audit menu: security events, sessions and user audit logs (read-only)."""
from __future__ import annotations

from .. import models as m
from .base import ReadOnlyModelView
from .interface import ABPartsInterface


class SecurityEventModelView(ReadOnlyModelView):
    datamodel = ABPartsInterface(m.SecurityEvent)
    class_permission_name = "SecurityEvent"
    list_title = "Security events"
    list_columns = ["timestamp", "event_type", "user", "risk_level", "ip_address"]
    show_columns = list_columns + ["user_agent", "session_id", "details"]
    search_columns = ["event_type", "user", "risk_level", "timestamp", "ip_address"]
    base_order = ("timestamp", "desc")


class UserSessionModelView(ReadOnlyModelView):
    datamodel = ABPartsInterface(m.UserSession)
    class_permission_name = "UserSession"
    list_title = "User sessions"
    list_columns = ["user", "created_at", "last_activity", "expires_at", "is_active", "ip_address"]
    show_columns = list_columns + ["user_agent"]
    search_columns = ["user", "is_active", "created_at", "expires_at"]
    base_order = ("last_activity", "desc")


class InvitationAuditLogModelView(ReadOnlyModelView):
    datamodel = ABPartsInterface(m.InvitationAuditLog)
    class_permission_name = "InvitationAuditLog"
    list_title = "Invitation log"
    list_columns = ["timestamp", "user", "action", "performed_by_user"]
    show_columns = list_columns + ["details"]
    search_columns = ["user", "action", "timestamp"]
    base_order = ("timestamp", "desc")


class UserManagementAuditLogModelView(ReadOnlyModelView):
    datamodel = ABPartsInterface(m.UserManagementAuditLog)
    class_permission_name = "UserManagementAuditLog"
    list_title = "User management log"
    list_columns = ["timestamp", "user", "action", "performed_by_user"]
    show_columns = list_columns + ["details"]
    search_columns = ["user", "action", "timestamp"]
    base_order = ("timestamp", "desc")
