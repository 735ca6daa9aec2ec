"""``/api/v1/account/``: account security tasks of admins on their users (issue 12).

Permissions are the user screens' (``class_permission_name = "User"``): an
organization's admin acts on its own organization's users only (the user is
looked up through the scoped session, so another organization's user is a 404).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import permission_name, protect

from ..extensions import db
from ..models import PortalUser
from ..security.roles import METHOD_PERMISSIONS


def visible_user(pk: int) -> PortalUser | None:
    """The user ``pk`` if the acting user may see it (organization scoping), else ``None``."""
    return db.session.execute(sa.select(PortalUser).where(PortalUser.id == pk)).scalar_one_or_none()


class AccountApi(BaseApi):
    """Unlock an account (and, see below, end its sessions)."""

    resource_name = "account"
    class_permission_name = "User"
    method_permission_name = {**METHOD_PERMISSIONS, "unlock": "edit"}
    openapi_spec_tag = "Account security"
    allow_browser_login = True

    @expose("/<int:pk>/unlock", methods=["POST"])
    @protect()
    @safe
    @permission_name("unlock")
    def unlock(self, pk: int):
        """Unlock a user locked after too many failed sign-ins
        ---
        post:
          summary: Unlock an account (failed sign-in count to 0, lock cleared)
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}, description: The user's id}
          responses:
            200:
              description: '{"unlocked": true} when it was locked or had failures counted'
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
        """
        user = visible_user(pk)
        if user is None:
            return self.response_404()
        return self.response(200, unlocked=self.appbuilder.sm.unlock_user(user))
