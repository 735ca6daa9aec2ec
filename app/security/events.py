"""Security events (seed 001 ``security_events``): who did what, from where, how risky.

Event types written by the portal (``event_type``):

========================  =====================================================
``login_success``         a login on any path (form, API)
``login_failure``         a wrong password for a known user
``login_locked``          a login refused because the account is locked
``account_locked``        the failure that locked the account (risk ``high``)
``account_unlocked``      an admin unlocked an account
``logout``                a user signed out
``password_changed``      a password was set (by its user, an admin, or a command)
``session_ended``         sessions ended (logout, by the user or an admin, or
                          because of a password, role or active-flag change)
``role_changed``          a user's roles changed (risk ``medium``)
``user_deactivated``      a user was deactivated
``invitation_sent``       an invitation was sent or resent
``invitation_revoked``    an invitation was withdrawn
``invitation_accepted``   an invited user set its password
``password_reset_requested``  a reset link was asked for (``known``: an account matched)
``password_reset``        a password was set through a reset link
``export``                a list or report was exported: the screen, the format, the
                          query string, the export log's row (:mod:`app.exports.log`)
``import``                a file was imported (issue 11): its kind (``parts`` or
                          ``stock``), name, rows and rows written (:mod:`app.workflows.imports`)
``suspicious_activity``   more than ``AUTH_SUSPICIOUS_FAILURES`` failures from
                          one address within ``AUTH_LOCKOUT_MINUTES``
========================  =====================================================
"""
from __future__ import annotations

import datetime as dt
import json
import uuid

import sqlalchemy as sa
from flask import current_app, has_request_context, request

from ..extensions import db
from ..models import SecurityEvent
from ..models.types import utcnow

LOGIN_SUCCESS = "login_success"
LOGIN_FAILURE = "login_failure"
LOGIN_LOCKED = "login_locked"
ACCOUNT_LOCKED = "account_locked"
ACCOUNT_UNLOCKED = "account_unlocked"
LOGOUT = "logout"
PASSWORD_CHANGED = "password_changed"
SESSION_ENDED = "session_ended"
ROLE_CHANGED = "role_changed"
INVITATION_SENT = "invitation_sent"
INVITATION_REVOKED = "invitation_revoked"
INVITATION_ACCEPTED = "invitation_accepted"
PASSWORD_RESET_REQUESTED = "password_reset_requested"
PASSWORD_RESET = "password_reset"
EXPORT = "export"
IMPORT = "import"
USER_DEACTIVATED = "user_deactivated"
SUSPICIOUS_ACTIVITY = "suspicious_activity"


def client_address() -> str | None:
    """The client's address as the app sees it (after ``ProxyFix``'s trusted hops), or ``None``."""
    return request.remote_addr if has_request_context() else None


def record(event_type: str, user_id: int | None = None, risk_level: str = "low", executor=None,
           **details) -> None:
    """Write a security event in the session's transaction (the caller commits).

    A Core insert, not an ORM object: events are the security bookkeeping of any
    user's request, an auditor's (who changes nothing else) included.

    :param event_type: one of the constants of this module.
    :param user_id: the user it concerns, if known.
    :param risk_level: ``low``, ``medium`` or ``high``.
    :param executor: where to execute (a flush hook's connection); the session by default.
    :param details: stored as JSON in ``details``.
    """
    (executor or db.session).execute(sa.insert(SecurityEvent.__table__).values(
        id=uuid.uuid4(), event_type=event_type, user_id=user_id, risk_level=risk_level,
        ip_address=client_address(), timestamp=utcnow(),
        user_agent=request.headers.get("User-Agent") if has_request_context() else None,
        session_id=_session_id(),
        details=json.dumps({k: v for k, v in details.items() if v is not None}, default=str, sort_keys=True)
        if details else None,
    ))


def _session_id() -> str | None:
    """The id of the session of this request (its stored digest's first characters), if any."""
    from .sessions import current_request_secret, digest

    secret = current_request_secret()
    return digest(secret)[:16] if secret else None


def commit(event_type: str, user_id: int | None = None, risk_level: str = "low", **details) -> None:
    """:func:`record` an event and commit it at once (login paths, which commit nothing else)."""
    record(event_type, user_id, risk_level, **details)
    db.session.commit()


def check_suspicious_address() -> None:
    """Record ``suspicious_activity`` when this address has failed more than
    ``AUTH_SUSPICIOUS_FAILURES`` logins, over any users, within ``AUTH_LOCKOUT_MINUTES``.

    One event per crossing (written when the count is exactly one above the
    threshold), not one per further failure.
    """
    address = client_address()
    threshold = int(current_app.config.get("AUTH_SUSPICIOUS_FAILURES", 20))
    if address is None:
        return
    since = utcnow() - dt.timedelta(minutes=float(current_app.config.get("AUTH_LOCKOUT_MINUTES", 15)))
    failures = db.session.execute(
        sa.select(sa.func.count()).select_from(SecurityEvent).where(
            SecurityEvent.ip_address == address, SecurityEvent.timestamp >= since,
            SecurityEvent.event_type.in_((LOGIN_FAILURE, LOGIN_LOCKED)))
    ).scalar_one()
    if failures == threshold + 1:
        commit(SUSPICIOUS_ACTIVITY, None, "high", failures=failures, address=address)
