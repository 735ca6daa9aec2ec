"""The user-management audit log (seed 001 ``user_management_audit_logs``; issue 12).

A SQLAlchemy ``after_flush`` hook, so it holds for every path that changes a
user (FAB's user screens, "reset my password", commands, the invitation
pages): who created, changed or deleted which user, when, with the before
and after values of its roles, organization, active flag, status, username
and e-mail (a password change is logged as changed, never its value).

What a change also does:

- roles, organization or password changed, or the user deactivated: every
  session of that user ends (:mod:`app.security.sessions`), API tokens included;
- a ``role_changed`` or ``user_deactivated`` security event.

Rows are Core inserts on the flush's connection, in the same transaction as
the change: a change rolled back leaves no log.
"""
from __future__ import annotations

import json
import uuid

import sqlalchemy as sa
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from ..models import PortalUser, UserManagementAuditLog
from ..models.types import utcnow
from ..scoping import current_actor

#: Columns whose before/after values are logged.
LOGGED = ("username", "email", "active", "user_status", "organization_id")
#: Changes that end the user's sessions.
ENDS_SESSIONS = {"roles", "organization_id", "password"}


def _change(state, attr):
    history = state.attrs[attr].history
    if not history.has_changes():
        return None
    before = history.deleted[0] if history.deleted else None
    after = history.added[0] if history.added else None
    return None if before == after else (before, after)


def user_changes(user) -> dict[str, list]:
    """``{column: [before, after]}`` of a flushed :class:`PortalUser`'s logged changes
    (``roles``: lists of role names; ``password``: ``["***", "***"]``)."""
    state = inspect(user)
    changes = {}
    for attr in LOGGED:
        change = _change(state, attr)
        if change is not None:
            changes[attr] = [str(v) if isinstance(v, uuid.UUID) else getattr(v, "value", v) for v in change]
    roles = state.attrs.roles.history
    if roles.added or roles.deleted:
        before = sorted({r.name for r in (*roles.unchanged, *roles.deleted)})
        after = sorted({r.name for r in (*roles.unchanged, *roles.added)})
        if before != after:
            changes["roles"] = [before, after]
    if _change(state, "password") is not None:
        changes["password"] = ["***", "***"]
    return changes


def _action(changes: dict) -> str:
    if "roles" in changes:
        return "role_changed"
    if "active" in changes:
        return "activated" if changes["active"][1] else "deactivated"
    if "organization_id" in changes:
        return "organization_changed"
    if "password" in changes:
        return "password_changed"
    return "updated"


@event.listens_for(Session, "after_flush")
def audit_user_changes(session, _flush_context) -> None:
    """Log every created, changed and deleted user; end the sessions a change calls for."""
    from . import events, sessions

    actor = current_actor()
    by = actor.user_id if actor else None
    conn = session.connection()
    logs = []
    for user in session.new:
        if isinstance(user, PortalUser):
            logs.append((user.id, "created", {"username": user.username, "roles": sorted(user.role_names)}))
    for user in session.deleted:
        if isinstance(user, PortalUser):
            logs.append((None, "deleted", {"username": user.username, "user_id": user.id}))
    for user in session.dirty:
        if not isinstance(user, PortalUser) or not session.is_modified(user):
            continue
        changes = user_changes(user)
        if not changes:
            continue
        action = _action(changes)
        logs.append((user.id, action, {"username": user.username, "changes": changes}))
        deactivated = "active" in changes and not changes["active"][1]
        if deactivated or ENDS_SESSIONS & set(changes):
            keep = sessions.current_request_secret() if by == user.id and set(changes) == {"password"} else None
            sessions.end(_sessions_of(user.id, keep), action, by, executor=conn)
        if action in ("role_changed", "deactivated"):
            kind = events.ROLE_CHANGED if action == "role_changed" else events.USER_DEACTIVATED
            events.record(kind, user.id, "medium", by=by, executor=conn, **changes)
    for user_id, action, details in logs:
        conn.execute(sa.insert(UserManagementAuditLog.__table__).values(
            id=uuid.uuid4(), user_id=user_id, performed_by_user_id=by, action=action, timestamp=utcnow(),
            details=json.dumps(details, default=str, sort_keys=True)))


def _sessions_of(user_id: int, keep_secret: str | None):
    from .sessions import _sessions, digest

    where = _sessions.c.user_id == user_id
    if keep_secret:
        where = sa.and_(where, _sessions.c.session_token != digest(keep_secret))
    return where
