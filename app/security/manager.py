"""The portal's FAB security manager: our user model, user screens and scoping hook."""
from __future__ import annotations

from flask import g
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_login import current_user

from .. import scoping
from ..extensions import limiter
from ..models import PortalUser
from ..views.interface import ABPartsInterface


class ABPartsSecurityManager(SecurityManager):
    """FAB's SQLAlchemy security manager with the ABParts user.

    - ``user_model`` is :class:`~app.models.PortalUser` (``ab_user`` + the seed's columns).
    - Loading the user of a request (session cookie or JWT) establishes the
      acting user for :mod:`app.scoping`, before any view or API query runs.
    - The rate limiter is the portal's own (:data:`app.extensions.limiter`).
    """

    user_model = PortalUser

    def __init__(self, appbuilder):
        from ..views.users import PortalUserModelView

        self.userdbmodelview = PortalUserModelView
        super().__init__(appbuilder)
        self.userdbmodelview.datamodel = ABPartsInterface(self.user_model)
        if self.userstatschartview:
            self.userstatschartview.datamodel = ABPartsInterface(self.user_model)

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
