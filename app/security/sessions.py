"""Login sessions (seed 001 ``user_sessions``; issue 12 "Sessions").

Every login, form or API, writes one ``user_sessions`` row (who, when, address,
user agent, last seen, expiry).  The session's secret is random; the row keeps
only its SHA-256 (``session_token``), so a copy of the table opens nothing.

- The form login keeps the secret in the signed session cookie
  (:data:`COOKIE_KEY`); the user loader accepts the cookie only while the row
  is active and unexpired.
- The API login puts it in its JWTs (claim ``sid``, access and refresh tokens
  alike); Flask-JWT-Extended's blocklist check refuses a token whose session
  is ended, on the very next request.
- Ending a session (logout, the user or an admin, a password or role change,
  deactivation) sets ``is_active`` false and writes a ``session_ended`` event.
- ``flask abparts cleanup-sessions`` deletes ended and expired rows.

Rows are written with Core statements (not ORM objects): they are bookkeeping
of the login itself, written for any role, even one that changes nothing else.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request
from flask import session as cookie_session
from flask_jwt_extended import get_jwt

from ..extensions import db
from ..models import UserSession
from ..models.types import utcnow
from . import events

#: Key of the session's secret in the (signed) cookie session.
COOKIE_KEY = "abparts_sid"
#: How often, at most, a session's ``last_activity`` is written (seconds).
TOUCH_EVERY = dt.timedelta(seconds=60)

_sessions = UserSession.__table__


def digest(secret: str) -> str:
    """The stored form of a session secret: its SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def lifetime() -> dt.timedelta:
    """How long a session lives: ``JWT_REFRESH_TOKEN_EXPIRES`` for the API, the cookie's lifetime else."""
    if has_request_context() and request.path.startswith("/api/"):
        value = current_app.config.get("JWT_REFRESH_TOKEN_EXPIRES", dt.timedelta(days=30))
        return value if isinstance(value, dt.timedelta) else dt.timedelta(seconds=int(value))
    return current_app.permanent_session_lifetime


def start(user_id: int) -> str:
    """Open a session for ``user_id`` at login (not committed).

    :returns: the session's secret (kept by the caller in the cookie or the JWT;
        also in ``g`` for the JWT claims of this request).
    """
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.execute(sa.insert(_sessions).values(
        user_id=user_id, session_token=digest(secret), ip_address=events.client_address(),
        user_agent=request.headers.get("User-Agent") if has_request_context() else None,
        created_at=now, last_activity=now, expires_at=now + lifetime(), is_active=True))
    g.abparts_session_secret = secret
    return secret


def current_request_secret() -> str | None:
    """The secret of this request's session: opened by its login, or in its cookie or JWT."""
    if not has_request_context():
        return None
    secret = g.get("abparts_session_secret") or cookie_session.get(COOKIE_KEY)
    if secret:
        return secret
    try:
        return get_jwt().get("sid")
    except RuntimeError:  # no JWT verified in this request
        return None


def is_live(secret: str | None) -> bool:
    """Whether the session of ``secret`` is active and unexpired; notes it was seen (once a minute).

    :param secret: from the cookie or the JWT's ``sid``; ``None`` is never live.
    """
    if not isinstance(secret, str) or not secret:
        return False
    now = utcnow()
    row = db.session.execute(
        sa.select(_sessions.c.id, _sessions.c.last_activity).where(
            _sessions.c.session_token == digest(secret), _sessions.c.is_active.is_(True),
            _sessions.c.expires_at > now)
    ).first()
    if row is None:
        return False
    last = row.last_activity if row.last_activity.tzinfo else row.last_activity.replace(tzinfo=dt.timezone.utc)
    if now - last > TOUCH_EVERY:
        db.session.execute(sa.update(_sessions).where(_sessions.c.id == row.id).values(last_activity=now))
        db.session.commit()
    return True


def end(where, reason: str, by: int | None = None, executor=None) -> int:
    """End the active sessions matching ``where`` and record one ``session_ended`` event per user
    (not committed).

    :param where: a SQL condition on ``user_sessions``.
    :param reason: why (``logout``, ``password_changed``, ``deactivated`` ...), in the event's details.
    :param executor: where to execute (a flush hook's connection); the session by default.
    :returns: how many sessions were ended.
    """
    ended = (executor or db.session).execute(
        sa.update(_sessions).where(where, _sessions.c.is_active.is_(True)).values(is_active=False)
        .returning(_sessions.c.user_id)
    ).scalars().all()
    for user_id in sorted(set(ended)):
        events.record(events.SESSION_ENDED, user_id, "low", executor=executor, reason=reason,
                      sessions=ended.count(user_id), by=by)
    return len(ended)


def end_secret(secret: str | None, reason: str, by: int | None = None) -> int:
    """End the one session of ``secret`` (logout)."""
    if not secret:
        return 0
    return end(_sessions.c.session_token == digest(secret), reason, by)


def end_all(user_id: int, reason: str, by: int | None = None) -> int:
    """End every session of ``user_id``: its cookies and its API tokens stop working."""
    return end(_sessions.c.user_id == user_id, reason, by)


def cleanup(retention: dt.timedelta = dt.timedelta(days=30)) -> int:
    """Delete expired sessions and those ended more than ``retention`` ago; commits.

    :returns: the number of rows deleted.
    """
    now = utcnow()
    result = db.session.execute(sa.delete(_sessions).where(sa.or_(
        _sessions.c.expires_at <= now,
        sa.and_(_sessions.c.is_active.is_(False), _sessions.c.last_activity <= now - retention))))
    db.session.commit()
    return result.rowcount


def active_sessions(user_id: int) -> list[dict]:
    """The active, unexpired sessions of ``user_id``, newest first, as shown to their user.

    :returns: ``[{"id", "created_at", "last_activity", "expires_at", "ip_address",
        "user_agent", "current"}]``; ``current`` marks this request's own session.
    """
    mine = current_request_secret()
    mine = digest(mine) if mine else None
    rows = db.session.execute(
        sa.select(_sessions).where(_sessions.c.user_id == user_id, _sessions.c.is_active.is_(True),
                                   _sessions.c.expires_at > utcnow())
        .order_by(_sessions.c.last_activity.desc())
    ).mappings().all()
    return [{"id": str(row["id"]), "created_at": row["created_at"], "last_activity": row["last_activity"],
             "expires_at": row["expires_at"], "ip_address": row["ip_address"], "user_agent": row["user_agent"],
             "current": row["session_token"] == mine} for row in rows]


def end_own(user_id: int, session_id: str, by: int | None = None) -> bool:
    """End one session of ``user_id`` (its own screen, or API); commits.

    :returns: whether such an active session of that user existed.
    """
    try:
        key = uuid.UUID(str(session_id))
    except ValueError:
        return False
    ended = end(sa.and_(_sessions.c.id == key, _sessions.c.user_id == user_id), "ended_by_user", by)
    db.session.commit()
    return bool(ended)
