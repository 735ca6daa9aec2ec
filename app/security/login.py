"""The login paths, as FAB builds them, with the lockout's answer.

FAB's form login (:class:`~flask_appbuilder.security.views.AuthDBView`) and
its REST login (:class:`~flask_appbuilder.security.api.SecurityApi`) both call
``SecurityManager.auth_user_db``; the manager records there why a login was
refused (:func:`refusal`).  These subclasses only change what a refused user
is told, and refuse a locked user's token refresh.
"""
from __future__ import annotations

from flask import Response, g
from flask_appbuilder.api import safe
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.views import AuthDBView
from flask_appbuilder.views import expose
from flask_appbuilder.const import API_SECURITY_ACCESS_TOKEN_KEY
from flask_jwt_extended import create_access_token, get_jwt_identity, jwt_required

from ..apis.guard import InputGuard
from . import lockout

_REFUSAL = "abparts_login_refusal"


def refuse(message: str) -> None:
    """Remember, for this request, why the login was refused (the message users see)."""
    setattr(g, _REFUSAL, message)


def refusal() -> str | None:
    """The message of this request's refused login, when it is more than "invalid login"."""
    return getattr(g, _REFUSAL, None)


class ABPartsAuthDBView(AuthDBView):
    """FAB's login form, with a "Forgot your password?" link; a locked account is told so,
    and until when."""

    login_template = "abparts/login_db.html"

    @property
    def invalid_login_message(self):
        return refusal() or AuthDBView.invalid_login_message


class ABPartsSecurityApi(InputGuard, SecurityApi):
    """``POST /api/v1/security/login`` and ``/refresh``, FAB's, with the lockout's answer.

    - A refused login answers 401 ``{"message": ...}``: "Not authorized", or
      the lockout message with its end time.
    - A refresh token of a locked, inactive or deleted user answers 401.
    """

    @expose("/login", methods=["POST"])
    @safe
    def login(self) -> Response:
        response = super().login()
        message = refusal()
        if response.status_code == 401 and message:
            return self.response(401, message=message)
        return response

    login.__doc__ = SecurityApi.login.__doc__

    @expose("/refresh", methods=["POST"])
    @jwt_required(refresh=True)
    @safe
    def refresh(self) -> Response:
        user = self.appbuilder.sm.get_user_by_id(int(get_jwt_identity()))
        if user is None or not user.is_active:
            return self.response_401()
        until = lockout.locked_until(user)
        if until is not None:
            return self.response(401, message=lockout.locked_message(until))
        return self.response(200, **{API_SECURITY_ACCESS_TOKEN_KEY: create_access_token(
            identity=get_jwt_identity(), fresh=False)})

    refresh.__doc__ = SecurityApi.refresh.__doc__
