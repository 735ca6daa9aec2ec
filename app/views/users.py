"""The user screens: FAB's user view with the organization and status of each user."""
from __future__ import annotations

from flask import flash, g, redirect, request
from flask_appbuilder.actions import action
from flask_appbuilder.security.views import UserDBModelView
from wtforms.validators import DataRequired
from flask_babel import gettext, lazy_gettext

from ..extensions import db
from ..errors import DomainError
from ..security import accounts, sessions
from ..security.roles import METHOD_PERMISSIONS
from .base import ReadableValues
from .choices import OnDemandChoices
from .export import Exportable
from .interface import CheckedWrites, LoadsShownRelations


class PortalUserModelView(ReadableValues, OnDemandChoices, LoadsShownRelations, CheckedWrites, Exportable,
                          UserDBModelView):
    """Users of the portal.  An organization's admin manages its own users and
    grants only Admin and User (the rules refuse anything else)."""

    class_permission_name = "User"
    method_permission_name = {**METHOD_PERMISSIONS, "userinfo": "userinfo",
                              "resetpasswords": "edit", "resetmypassword": "userinfo",
                              "userinfoedit": "userinfo", "unlock": "edit",
                              "end_sessions": "edit", "resend_invitation": "edit",
                              "revoke_invitation": "edit"}
    list_title = lazy_gettext("Users")
    #: The portal's list page: its export buttons (CSV, XLSX).
    list_template = "abparts/list.html"
    list_columns = ["first_name", "last_name", "username", "email", "organization", "roles",
                    "user_status", "active"]
    search_columns = ["first_name", "last_name", "username", "email", "organization", "roles",
                      "user_status", "active", "last_login"]
    add_columns = ["first_name", "last_name", "username", "email", "organization", "roles",
                   "user_status", "active", "password", "conf_password"]
    edit_columns = ["first_name", "last_name", "username", "email", "organization", "roles",
                    "user_status", "active"]
    show_fieldsets = [
        ("User", {"fields": ["username", "organization", "roles", "user_status", "active"]}),
        ("Personal", {"fields": ["first_name", "last_name", "email"]}),
        ("Security", {"fields": ["last_login", "login_count", "failed_login_attempts", "locked_until",
                                 "created_on", "changed_on"], "expanded": False}),
    ]
    # FAB's user view requires "roles or groups" with a validator that reads the
    # form's ``groups`` field; the portal has no groups, so roles alone are required.
    validators_columns = {"roles": [DataRequired(message="A user needs at least one role.")]}
    label_columns = {"user_status": lazy_gettext("Status"), "active": lazy_gettext("Active")}
    description_columns = {
        "organization": lazy_gettext("An organization's admin always adds users to its own organization."),
        "roles": lazy_gettext("Admin manages the organization; User records usage. Super Admin only in Oraseas EE."),
    }
    base_order = ("username", "asc")

    @action("unlock", "Unlock", "Unlock the selected accounts (reset their failed sign-in count)?",
            "fa-unlock", multiple=True)
    def unlock(self, items):
        """Unlock the selected users (admins, issue 12); writes an ``account_unlocked`` event each.

        :param items: the selected users (FAB loads them through the scoped
            session: an organization's admin reaches only its own users).
        """
        items = items if isinstance(items, list) else [items]
        unlocked = [user for user in items if self.appbuilder.sm.unlock_user(user)]
        flash(gettext("Unlocked %(count)s of %(count2)s account(s).", count=len(unlocked), count2=len(items)), "info")
        return redirect(request.referrer or self.get_redirect())

    @action("end_sessions", "End sessions", "Sign the selected users out everywhere (browsers and API tokens)?",
            "fa-sign-out", multiple=True)
    def end_sessions(self, items):
        """End every session of the selected users (admins, issue 12)."""
        items = items if isinstance(items, list) else [items]
        ended = sum(sessions.end_all(user.id, "ended_by_admin", g.user.id) for user in items)
        db.session.commit()
        flash(gettext("Ended %(ended)s session(s) of %(count)s user(s).", ended=ended, count=len(items)), "info")
        return redirect(request.referrer or self.get_redirect())

    def _invitation_step(self, items, step, done: str):
        items = items if isinstance(items, list) else [items]
        for user in items:
            try:
                step(user)
                flash(gettext("%(done)s: %(username)s.", done=done, username=user.username), "info")
            except DomainError as exc:
                db.session.rollback()
                flash(gettext("%(username)s: %(exc)s", username=user.username, exc=exc), "warning")
        return redirect(request.referrer or self.get_redirect())

    @action("resend_invitation", "Resend invitation", "Send a new invitation link (the old one stops working)?",
            "fa-envelope", multiple=True)
    def resend_invitation(self, items):
        """Resend the selected users' pending invitations."""
        return self._invitation_step(items, accounts.resend, "Invitation sent again")

    @action("revoke_invitation", "Revoke invitation", "Withdraw the selected users' invitations?",
            "fa-ban", multiple=True)
    def revoke_invitation(self, items):
        """Withdraw the selected users' pending invitations."""
        return self._invitation_step(items, accounts.revoke, "Invitation withdrawn")
