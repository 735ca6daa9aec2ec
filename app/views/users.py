"""The user screens: FAB's user view with the organization and status of each user."""
from __future__ import annotations

from flask import flash, redirect, request
from flask_appbuilder.actions import action
from flask_appbuilder.security.views import UserDBModelView
from wtforms.validators import DataRequired

from ..security.roles import METHOD_PERMISSIONS
from .base import ReadableValues
from .choices import OnDemandChoices
from .interface import CheckedWrites, LoadsShownRelations


class PortalUserModelView(ReadableValues, OnDemandChoices, LoadsShownRelations, CheckedWrites, UserDBModelView):
    """Users of the portal.  An organization's admin manages its own users and
    grants only Admin and User (the rules refuse anything else)."""

    class_permission_name = "User"
    method_permission_name = {**METHOD_PERMISSIONS, "userinfo": "userinfo",
                              "resetpasswords": "edit", "resetmypassword": "userinfo",
                              "userinfoedit": "userinfo", "unlock": "edit"}
    list_title = "Users"
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
    label_columns = {"user_status": "Status", "active": "Active"}
    description_columns = {
        "organization": "An organization's admin always adds users to its own organization.",
        "roles": "Admin manages the organization; User records usage. Super Admin only in Oraseas EE.",
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
        flash(f"Unlocked {len(unlocked)} of {len(items)} account(s).", "info")
        return redirect(request.referrer or self.get_redirect())
