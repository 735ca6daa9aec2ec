"""Security events (seed 001 ``security_events``): who did what, from where, how risky.

Event types written by the portal (``event_type``):

========================  =====================================================
``login_success``         a login on any path (form, API)
``login_failure``         a wrong password for a known user
``login_locked``          a login refused because the account is locked
``account_locked``        the failure that locked the account (risk ``high``)
``account_unlocked``      an admin unlocked an account
``logout``                a user signed out
``suspicious_activity``   more than ``AUTH_SUSPICIOUS_FAILURES`` failures from
                          one address within ``AUTH_LOCKOUT_MINUTES``
========================  =====================================================
"""
from __future__ import annotations

import datetime as dt
import json

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
SUSPICIOUS_ACTIVITY = "suspicious_activity"


def client_address() -> str | None:
    """The client's address as the app sees it (after ``ProxyFix``'s trusted hops), or ``None``."""
    return request.remote_addr if has_request_context() else None


def record(event_type: str, user_id: int | None = None, risk_level: str = "low", **details) -> SecurityEvent:
    """Add a security event to the session (the caller commits).

    :param event_type: one of the constants of this module.
    :param user_id: the user it concerns, if known.
    :param risk_level: ``low``, ``medium`` or ``high``.
    :param details: stored as JSON in ``details``.
    :returns: the new, unflushed :class:`~app.models.SecurityEvent`.
    """
    event = SecurityEvent(
        event_type=event_type, user_id=user_id, risk_level=risk_level,
        ip_address=client_address(),
        user_agent=request.headers.get("User-Agent") if has_request_context() else None,
        details=json.dumps(details, default=str, sort_keys=True) if details else None,
    )
    db.session.add(event)
    return event


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
