"""The portal's FAB security manager: our user model, user screens and scoping hook."""
from __future__ import annotations

from flask import current_app, g
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_login import current_user
from werkzeug.security import check_password_hash

from .. import scoping
from ..extensions import db, limiter
from ..models import PortalUser
from ..views.interface import ABPartsInterface
from . import events, lockout
from .login import ABPartsAuthDBView, ABPartsSecurityApi, refuse, refusal


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
        super().__init__(appbuilder)
        self.userdbmodelview.datamodel = ABPartsInterface(self.user_model)
        if self.userstatschartview:
            self.userstatschartview.datamodel = ABPartsInterface(self.user_model)

    def register_views(self):
        """FAB's security screens and APIs, and the portal's account API (:mod:`app.apis.account`)."""
        super().register_views()
        from ..apis.account import AccountApi

        self.appbuilder.add_api(AccountApi)

    def create_limiter(self, app):
        limiter.init_app(app)
        return limiter

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

    def load_user_jwt(self, _jwt_header, jwt_data):
        user = super().load_user_jwt(_jwt_header, jwt_data)
        scoping.establish(user)
        return user

    # --- login, lockout and its events ---------------------------------------------------

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
        authenticated = super().auth_user_db(username, password)
        if authenticated is None and user is None and isinstance(username, str) and username:
            events.commit(events.LOGIN_FAILURE, None, "medium", username=username[:150])
            events.check_suspicious_address()
        if authenticated is not None and refusal():
            return None  # locked by a parallel attempt between the check and the password
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
        events.commit(events.LOGIN_SUCCESS, user.id)

    def on_user_logout(self, user) -> None:
        events.commit(events.LOGOUT, user.id)

    def unlock_user(self, user) -> bool:
        """An admin unlocks ``user``: failure counter to 0, lock cleared, event written; commits.

        :returns: whether there was anything to unlock.
        """
        changed = lockout.unlock(user.id)
        if changed:
            events.record(events.ACCOUNT_UNLOCKED, user.id, "medium",
                          by=getattr(current_user, "id", None))
        db.session.commit()
        return changed
