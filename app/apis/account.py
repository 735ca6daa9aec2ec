"""Account security APIs (issue 12).

``/api/v1/account/`` (signed in): admins unlock a user, end its sessions,
invite users and resend or revoke invitations; every user lists and ends its
own sessions.  Permissions are the user screens' (``class_permission_name =
"User"``): an organization's admin acts on its own organization's users only
(the user is looked up through the scoped session, so another organization's
user is a 404).

``/api/v1/recovery/`` (no sign-in): password reset and invitation acceptance,
rate limited with the login paths.
"""
from __future__ import annotations

from typing import Callable

import sqlalchemy as sa
import yaml
from flask import g, request
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import permission_name, protect

from ..errors import DomainError
from ..extensions import db
from ..models import PortalUser
from ..security import accounts, sessions
from ..security.roles import METHOD_PERMISSIONS
from ..i18n import _
from .base import LocalizedAnswers
from .docs import json_object
from .guard import InputGuard

_USER_ID = {"in": "path", "name": "pk", "required": True, "schema": {"type": "integer"}, "description": "The user's id"}
_SESSION_ID = {"in": "path", "name": "session_id", "required": True, "schema": {"type": "string", "format": "uuid"}}
_ANSWERS = {
    "400": {"$ref": "#/components/responses/400"},
    "401": {"$ref": "#/components/responses/401"},
    "403": {"description": "A role, organization or user beyond the caller's reach"},
    "404": {"$ref": "#/components/responses/404"},
    "422": {"$ref": "#/components/responses/422"},
    "429": {"description": "Too many attempts (the routes without sign-in); see Retry-After"},
}
_TOKEN_AND_PASSWORD = json_object(["token", "password"], token={"type": "string"}, password={"type": "string"})


def documented(summary: str, ok: str, status: int = 200, method: str = "post", parameter: dict | None = None,
               body: dict | None = None):
    """Write a route's OpenAPI operation into its docstring (FAB reads it after ``---``)."""
    def wrap(func):
        operation = {"summary": summary, "responses": {str(status): {"description": ok}, **_ANSWERS}}
        if parameter:
            operation["parameters"] = [parameter]
        if body:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
        func.__doc__ = f"{func.__doc__.strip()}\n---\n{yaml.safe_dump({method: operation}, sort_keys=False)}"
        return func

    return wrap


def visible_user(pk: int) -> PortalUser | None:
    """The user ``pk`` if the acting user may see it (organization scoping), else ``None``."""
    return db.session.execute(sa.select(PortalUser).where(PortalUser.id == pk)).scalar_one_or_none()


def _json_object() -> dict | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


class _Answers(LocalizedAnswers):
    def _answer(self, call: Callable[[], dict], status: int = 200):
        """Run ``call`` (returning the answer's fields); a domain error answers its status and message."""
        try:
            return self.response(status, **call())
        except DomainError as exc:
            db.session.rollback()
            return self.response(exc.status, message=str(exc))


class AccountApi(_Answers, InputGuard, BaseApi):
    """Unlock a user, end its sessions, invite; list and end one's own sessions."""

    resource_name = "account"
    class_permission_name = "User"
    #: acting on another user: "edit" on users (admins), inviting: "add"; one's own
    #: sessions: FAB's ``can_userinfo``, which every role has.
    method_permission_name = {**METHOD_PERMISSIONS, "unlock": "edit", "end_sessions": "edit",
                              "my_sessions": "userinfo", "end_my_session": "userinfo",
                              "invite": "add", "resend_invitation": "edit", "revoke_invitation": "edit"}
    openapi_spec_tag = "Account security"
    allow_browser_login = True

    def _on_user(self, pk: int, step: Callable[[PortalUser], dict]):
        user = visible_user(pk)
        if user is None:
            return self.response_404()
        return self._answer(lambda: step(user))

    @expose("/<int:pk>/unlock", methods=["POST"])
    @protect()
    @safe
    @permission_name("unlock")
    @documented("Unlock an account (failed sign-in count to 0, lock cleared)",
                '{"unlocked": true} when it was locked or had failures counted', parameter=_USER_ID)
    def unlock(self, pk: int):
        """Unlock a user locked after too many failed sign-ins"""
        return self._on_user(pk, lambda user: {"unlocked": self.appbuilder.sm.unlock_user(user)})

    @expose("/<int:pk>/end-sessions", methods=["POST"])
    @protect()
    @safe
    @permission_name("end_sessions")
    @documented("End every session of a user (browsers and API tokens)", '{"ended": n}', parameter=_USER_ID)
    def end_sessions(self, pk: int):
        """End every session of a user: its browsers are signed out, its API tokens refused"""
        def end(user):
            ended = sessions.end_all(user.id, "ended_by_admin", g.user.id)
            db.session.commit()
            return {"ended": ended}

        return self._on_user(pk, end)

    @expose("/sessions", methods=["GET"])
    @protect()
    @safe
    @permission_name("my_sessions")
    @documented("List your own active sessions (this request's is marked current)",
                '{"result": [{"id", "created_at", "last_activity", "expires_at", "ip_address", "user_agent", '
                '"current"}]}', method="get")
    def my_sessions(self):
        """The signed-in user's active sessions"""
        rows = sessions.active_sessions(g.user.id)
        for row in rows:
            for key in ("created_at", "last_activity", "expires_at"):
                row[key] = row[key].isoformat()
        return self.response(200, result=rows)

    @expose("/sessions/<session_id>/end", methods=["POST"])
    @protect()
    @safe
    @permission_name("end_my_session")
    @documented("End one of your own sessions", '{"ended": true}', parameter=_SESSION_ID)
    def end_my_session(self, session_id: str):
        """End one of the signed-in user's sessions"""
        if not sessions.end_own(g.user.id, session_id, g.user.id):
            return self.response_404()
        return self.response(200, ended=True)

    @expose("/invite", methods=["POST"])
    @protect()
    @safe
    @permission_name("invite")
    @documented("Invite a user (an organization's admin: its own organization, Admin or User only)",
                '{"id", "username", "expires_at"}; the link is mailed', status=201, body=json_object(
                    ["email", "first_name", "last_name", "role"], email={"type": "string"},
                    first_name={"type": "string"}, last_name={"type": "string"}, role={"type": "string"},
                    organization_id={"type": "string", "format": "uuid"}, username={"type": "string"}))
    def invite(self):
        """Invite a user by e-mail"""
        body = _json_object()
        if body is None:
            return self.response_400(message=_("The request body must be a JSON object."))

        def call():
            user = accounts.invite(body.get("email"), body.get("first_name"), body.get("last_name"),
                                   body.get("role"), body.get("organization_id"), body.get("username"))
            return {"id": user.id, "username": user.username, "expires_at": user.invitation_expires_at.isoformat()}

        return self._answer(call, 201)

    @expose("/<int:pk>/invitation/resend", methods=["POST"])
    @protect()
    @safe
    @permission_name("resend_invitation")
    @documented("Resend a pending invitation (a new link; the old one stops working)", "Sent",
                parameter=_USER_ID)
    def resend_invitation(self, pk: int):
        """Send a new invitation link"""
        return self._on_user(pk, lambda user: accounts.resend(user) or {"id": pk})

    @expose("/<int:pk>/invitation/revoke", methods=["POST"])
    @protect()
    @safe
    @permission_name("revoke_invitation")
    @documented("Revoke a pending invitation (its link stops working)", "Revoked", parameter=_USER_ID)
    def revoke_invitation(self, pk: int):
        """Withdraw an invitation"""
        return self._on_user(pk, lambda user: accounts.revoke(user) or {"id": pk})


class AccountRecoveryApi(_Answers, InputGuard, BaseApi):
    """``/api/v1/recovery/``: password reset and invitation acceptance, without signing in.

    Rate limited with the login paths (by address, and by the e-mail address asked for).
    """

    resource_name = "recovery"
    openapi_spec_tag = "Account security"

    def _set_password(self, action):
        body = _json_object()
        if body is None or not isinstance(body.get("token"), str) or not isinstance(body.get("password"), str):
            return self.response_400(message=_('The body must be {"token": "...", "password": "..."}.'))
        return self._answer(lambda: action(body["token"], body["password"]) and {"message": _("The password is set.")})

    @expose("/password-reset", methods=["POST"])
    @safe
    @documented("Mail a reset link to the account with this e-mail, if any (the same answer either way)",
                '{"message"}, the same for every address', status=202,
                body=json_object(["email"], email={"type": "string"}))
    def password_reset(self):
        """Ask for a password-reset link"""
        body = _json_object()
        if body is None or not isinstance(body.get("email"), str):
            return self.response_400(message=_('The body must be {"email": "..."}.'))
        return self.response(202, message=accounts.request_reset(body["email"]))

    @expose("/password-reset/confirm", methods=["POST"])
    @safe
    @documented("Set a new password (the token works once, for an hour); ends every session",
                "The password is set", body=_TOKEN_AND_PASSWORD)
    def password_reset_confirm(self):
        """Set a new password with a reset link's token"""
        return self._set_password(accounts.confirm_reset)

    @expose("/invitation/accept", methods=["POST"])
    @safe
    @documented("Accept an invitation by setting a password (the token works once)", "The account is active",
                body=_TOKEN_AND_PASSWORD)
    def invitation_accept(self):
        """Accept an invitation"""
        return self._set_password(accounts.accept)
