"""Putting the declared roles into the database."""
from __future__ import annotations

from flask import current_app

from ..extensions import db


def sync_roles() -> list[str]:
    """Create a role row for every role of ``FAB_ROLES`` and the public role.

    Their permissions are not rows: FAB checks built-in roles against
    ``FAB_ROLES`` in memory (see :mod:`app.security.roles`).

    :returns: the names of the roles created now.
    """
    sm = current_app.appbuilder.sm
    names = [*current_app.config["FAB_ROLES"], current_app.config["AUTH_ROLE_PUBLIC"]]
    created = []
    for name in names:
        if sm.find_role(name) is None:
            sm.add_role(name)
            created.append(name)
    db.session.commit()
    return created
