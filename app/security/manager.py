"""The portal's FAB security manager: our user model, user screens and scoping hook."""
from __future__ import annotations

from flask import current_app, g, has_request_context, request
from flask import session as cookie_session
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_login import current_user
from werkzeug.security import check_password_hash

from .. import scoping
from ..extensions import db, limiter
from ..models import PortalUser
from ..views.interface import ABPartsInterface
from . import audit, events, limits, lockout, passwords, sessions  # noqa: F401 (audit: its hook)
from .login import ABPartsAuthDBView, ABPartsSecurityApi, refuse, refusal


def acting_user_id() -> int | None:
    """The signed-in user of this request, if any (``None`` on the command line)."""
    if has_request_context() and current_user.is_authenticated:
        return current_user.id
    return None


class ABPartsSecurityManager(SecurityManager):
    """FAB's SQLAlchemy security manager with the ABParts user.

    - ``user_model`` is :class:`~app.models.PortalUser` (``ab_user`` + the seed's columns).
    - Loading the user of a request (session cookie or JWT) establishes the
      acting user for :mod:`app.scoping`, before any view or API query runs.
    - The rate limiter is the portal's own (:data:`app.extensions.limiter`).
    - Logins on every path (form, REST) go through :meth:`auth_user_db`, which
      adds the account lockout (:mod:`app.security.lockout`) and writes the
      security events (:mod:`app.security.events`).
    """

    user_model = PortalUser
    authdbview = ABPartsAuthDBView
    security_api = ABPartsSecurityApi

    def __init__(self, appbuilder):
        from ..views.users import PortalUserModelView

        self.userdbmodelview = PortalUserModelView
        # The password policy on FAB's own forms, through FAB's documented hook.
        current_app.config.setdefault("FAB_PASSWORD_COMPLEXITY_ENABLED", True)
        current_app.config.setdefault("FAB_PASSWORD_COMPLEXITY_VALIDATOR", passwords.fab_password_validator)
        super().__init__(appbuilder)
        self.userdbmodelview.datamodel = ABPartsInterface(self.user_model)
        if self.userstatschartview:
            self.userstatschartview.datamodel = ABPartsInterface(self.user_model)

    def register_views(self):
        """FAB's security screens and APIs, the portal's account APIs and pages; the login rate
        limits on every path that takes no sign-in (:mod:`app.security.limits`)."""
        super().register_views()
        from ..apis.account import AccountApi, AccountRecoveryApi
        from ..views.account import MySessionsView
        from ..views.invite import InviteUserView
        from ..views.recovery import AccountRecoveryView

        self.appbuilder.add_api(AccountApi)
        self.appbuilder.add_view_no_menu(MySessionsView)
        self.appbuilder.add_view_no_menu(InviteUserView)
        public = [self.appbuilder.add_api(AccountRecoveryApi), self.appbuilder.add_view_no_menu(AccountRecoveryView)]
        security_api = next(v for v in self.appbuilder.baseviews if isinstance(v, ABPartsSecurityApi))
        for view in (self.auth_view, security_api, *public):
            limits.limit_logins(self.limiter, view.blueprint)

    def create_limiter(self, app):
        return limits.init_limiter(app, limiter)

    # Before anyone is established, a request sees no organization's rows in PostgreSQL
    # (app.scoping.database_scope): what the sign-in itself must read and write (the user,
    # its session, lockout and events) it does as the system.

    @scoping.system()
    def load_user(self, pk):
        user = super().load_user(pk)
        scoping.establish(user)
        return user

    @staticmethod
    def before_request():
        """FAB's ``g.user``, and the acting user for scoping, before any view runs."""
        g.user = current_user
        if current_user.is_authenticated:
            scoping.ensure_established(current_user._get_current_object())

    @scoping.system()
    def load_user_jwt(self, _jwt_header, jwt_data):
        user = super().load_user_jwt(_jwt_header, jwt_data)
        scoping.establish(user)
        return user

    # --- login, lockout and its events ---------------------------------------------------

    @scoping.system()
    def auth_user_db(self, username, password):
        """FAB's password login, refused while the account is locked.

        A locked account is refused before its password is looked at (a hash is
        still checked, so that the answer takes as long), with the lockout
        message (:func:`app.security.login.refusal`): the answer is the same
        whether the password was right or wrong.

        :returns: the user, or ``None`` when the login is refused.
        """
        user = None
        if isinstance(username, str) and username:
            user = self.find_user(username=username) or self.find_user(email=username)
        if user is not None and user.is_active:
            until = lockout.locked_until(user)
            if until is not None:
                check_password_hash(current_app.config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"], "password")
                self._refuse_locked(user.id, until)
                return None
        unknown = isinstance(username, str) and username and (user is None or not user.is_active)
        if unknown:
            # No active account by this name: locked and counted like one, so that the
            # answers tell nothing about which names exist.
            until = lockout.unknown_locked_until(username)
            if until is not None:
                check_password_hash(current_app.config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"], "password")
                refuse(lockout.locked_message(until))
                events.commit(events.LOGIN_LOCKED, None, "medium", username=username[:150], locked_until=until)
                events.check_suspicious_address()
                return None
        authenticated = super().auth_user_db(username, password)
        if authenticated is None and unknown:
            failure = lockout.record_unknown_failure(username)
            if failure is not None and failure.locked_until is not None:
                refuse(lockout.locked_message(failure.locked_until))
            events.commit(events.LOGIN_FAILURE, None, "medium", username=username[:150])
            events.check_suspicious_address()
        if authenticated is not None and refusal():
            return None  # locked by a parallel attempt between the check and the password
        if authenticated is not None:
            # Loaded again now, as the system: after this the request still has no actor,
            # and FAB reads the user (expired by the commits above) to sign it in.
            db.session.refresh(authenticated)
        return authenticated

    def _refuse_locked(self, user_id: int, until) -> None:
        refuse(lockout.locked_message(until))
        events.commit(events.LOGIN_LOCKED, user_id, "medium", locked_until=until)
        events.check_suspicious_address()

    def update_user_auth_stat(self, user, success=True):
        """Count the login: a success resets the failure counter, a failure adds one
        (one conditional UPDATE each, see :mod:`app.security.lockout`) and may lock."""
        user_id = user.id
        if success:
            if not lockout.record_success(user_id):
                self._refuse_locked(user_id, lockout.locked_until(self.get_user_by_id(user_id)))
                return
            self.on_user_login(self.get_user_by_id(user_id))
            return
        failure = lockout.record_failure(user_id)
        if failure is None:  # locked meanwhile: this attempt did not count
            self._refuse_locked(user_id, lockout.locked_until(self.get_user_by_id(user_id)))
            return
        events.record(events.LOGIN_FAILURE, user_id, "medium", attempts=failure.attempts)
        if failure.locked_until is not None:
            refuse(lockout.locked_message(failure.locked_until))
            events.record(events.ACCOUNT_LOCKED, user_id, "high", attempts=failure.attempts,
                          locked_until=failure.locked_until)
        db.session.commit()
        events.check_suspicious_address()
        self.on_user_login_failed(self.get_user_by_id(user_id))

    def on_user_login(self, user) -> None:
        """A login on any path: its session (:mod:`app.security.sessions`) and a ``login_success`` event."""
        secret = sessions.start(user.id)
        if not request.path.startswith("/api/"):
            cookie_session[sessions.COOKIE_KEY] = secret
        events.commit(events.LOGIN_SUCCESS, user.id)

    def on_user_logout(self, user) -> None:
        """Logout ends the cookie's session."""
        events.record(events.LOGOUT, user.id)
        sessions.end_secret(cookie_session.pop(sessions.COOKIE_KEY, None), "logout", user.id)
        db.session.commit()

    # --- sessions: the cookie and the JWTs are valid only while their session is -----------

    def create_login_manager(self, app):
        """FAB's login manager; a session cookie counts only while its session is live."""
        login_manager = super().create_login_manager(app)
        login_manager.user_loader(self.load_session_user)
        return login_manager

    @scoping.system()
    def load_session_user(self, pk):
        """Flask-Login's user loader: the user of a live session cookie, else nobody."""
        if not sessions.is_live(cookie_session.get(sessions.COOKIE_KEY)):
            return None
        return self.load_user(pk)

    def create_jwt_manager(self, app):
        """FAB's JWT manager; every token carries its session (``sid``) and dies with it."""
        jwt_manager = super().create_jwt_manager(app)
        jwt_manager.additional_claims_loader(self._session_claims)
        jwt_manager.token_in_blocklist_loader(self._token_revoked)
        return jwt_manager

    @staticmethod
    def _session_claims(_identity) -> dict:
        secret = sessions.current_request_secret()
        return {"sid": secret} if secret else {}

    @staticmethod
    @scoping.system()
    def _token_revoked(_jwt_header, jwt_payload) -> bool:
        return not sessions.is_live(jwt_payload.get("sid"))

    def unlock_user(self, user) -> bool:
        """An admin unlocks ``user``: failure counter to 0, lock cleared, event written; commits.

        :returns: whether there was anything to unlock.
        """
        changed = lockout.unlock(user.id)
        if changed:
            events.record(events.ACCOUNT_UNLOCKED, user.id, "medium", by=acting_user_id())
        db.session.commit()
        return changed

    # --- passwords -------------------------------------------------------------------------

    def add_user(self, username, first_name, last_name, email, role=None, password="", hashed_password="",
                 *args, **kwargs):
        """FAB's ``add_user`` (its command line, the invitation page), with the password policy.

        :raises passwords.WeakPassword: when a clear-text ``password`` breaks the policy.
        """
        if password:
            passwords.check_password(password, username)
        return super().add_user(username, first_name, last_name, email, role, password, hashed_password,
                                *args, **kwargs)

    def reset_password(self, userid, password):
        """FAB's password change (an admin's reset, "reset my password", ``flask fab reset-password``),
        with the password policy and a ``password_changed`` event.

        :raises passwords.WeakPassword: when ``password`` breaks the policy.
        """
        user = self.get_user_by_id(userid)
        passwords.check_password(password, user.username if user else None)
        super().reset_password(userid, password)
        events.commit(events.PASSWORD_CHANGED, userid, "medium", by=acting_user_id())
