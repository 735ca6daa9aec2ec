"""Account lockout (issue 12, seed 001 "account lockout 5 attempts / 15 min").

One counter: ``ab_user.failed_login_attempts`` (the seed's column) is the
source of truth.  FAB's ``fail_login_count`` is written by the same statement
with the same value, so FAB's own screens and charts agree, but nothing reads
it.  Every change of the counter is one conditional ``UPDATE`` (no read, then
write), so parallel wrong passwords never lose an increment, and exactly one
of them crosses the threshold and sets ``locked_until``:

- a failure adds one, unless the account is locked (a locked account's
  counter stands still); a failure after an expired lock starts again at 1;
- the failure that reaches ``AUTH_LOCKOUT_ATTEMPTS`` sets ``locked_until``
  to now + ``AUTH_LOCKOUT_MINUTES``;
- a success, or an admin's unlock, sets the counter to 0 and clears the lock.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import PortalUser
from ..models.audit import unknown_login_failures as _unknown
from ..models.types import utcnow

_users = PortalUser.__table__


@dataclass(frozen=True)
class Failure:
    """What one counted failure did.

    :ivar attempts: the counter after this failure.
    :ivar locked_until: set when this failure locked the account (exactly one does).
    """

    attempts: int
    locked_until: dt.datetime | None


def max_attempts() -> int:
    """``AUTH_LOCKOUT_ATTEMPTS``: failures that lock an account (5)."""
    return int(current_app.config.get("AUTH_LOCKOUT_ATTEMPTS", 5))


def lock_duration() -> dt.timedelta:
    """``AUTH_LOCKOUT_MINUTES``: how long a lock lasts (15 minutes)."""
    return dt.timedelta(minutes=float(current_app.config.get("AUTH_LOCKOUT_MINUTES", 15)))


def locked_until(user, now: dt.datetime | None = None) -> dt.datetime | None:
    """When ``user``'s lock ends, or ``None`` when it is not locked (now).

    :param user: a :class:`~app.models.PortalUser`; its ``locked_until`` is read as stored.
    """
    until = user.locked_until
    if until is None:
        return None
    if until.tzinfo is None:
        until = until.replace(tzinfo=dt.timezone.utc)
    return until if until > (now or utcnow()) else None


def locked_message(until: dt.datetime) -> str:
    """The message of a refused login of a locked account: says until when, nothing about the password."""
    return (f"This account is locked until {until.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC "
            "after too many failed sign-in attempts. Try again then, or ask an administrator to unlock it.")


def _not_locked(now: dt.datetime, table=_users):
    return sa.or_(table.c.locked_until.is_(None), table.c.locked_until <= now)


def _count_failure(table, key, mirrors: tuple[str, ...] = ()) -> Failure | None:
    """Count one failure on ``table``'s row ``key`` (a where clause) in one conditional
    ``UPDATE``, and commit: the series of :func:`record_failure` and
    :func:`record_unknown_failure` alike.

    :param mirrors: further counter columns given the same value (FAB's ``fail_login_count``).
    :returns: as :func:`record_failure`.
    """
    now = utcnow()
    # A failure after an expired lock starts a new series.
    new_count = sa.case((table.c.locked_until.is_(None), table.c.failed_login_attempts), else_=0) + 1
    until = now + lock_duration()
    row = db.session.execute(
        sa.update(table)
        .where(key, _not_locked(now, table))
        .values(failed_login_attempts=new_count, **{column: new_count for column in mirrors},
                locked_until=sa.case((new_count >= max_attempts(), sa.literal(until, table.c.locked_until.type)),
                                     else_=sa.null()))
        .returning(table.c.failed_login_attempts, table.c.locked_until)
    ).first()
    db.session.commit()
    if row is None:
        return None
    return Failure(row.failed_login_attempts, until if row.locked_until is not None else None)


def record_failure(user_id: int) -> Failure | None:
    """Count one failed login of ``user_id``, atomically, and commit.

    :returns: the counter after it and, when this failure locked the account,
        until when; ``None`` when the account was locked already (nothing counted).
    """
    return _count_failure(_users, _users.c.id == user_id, mirrors=("fail_login_count",))


def record_success(user_id: int) -> bool:
    """A successful login: counter to 0, lock cleared, FAB's login statistics updated; commits.

    :returns: ``False`` (and nothing changed) when the account is locked: a
        parallel wrong password locked it after this login's check.
    """
    now = utcnow()
    result = db.session.execute(
        sa.update(_users).where(_users.c.id == user_id, _not_locked(now)).values(
            failed_login_attempts=0, fail_login_count=0, locked_until=None,
            login_count=sa.func.coalesce(_users.c.login_count, 0) + 1,
            last_login=dt.datetime.now(),  # FAB's column: naive local time, as FAB writes it
        )
    )
    db.session.commit()
    return bool(result.rowcount)


def unlock(user_id: int) -> bool:
    """An admin's unlock: counter to 0 and lock cleared (does not commit).

    :returns: whether the account was locked or had failures counted.
    """
    result = db.session.execute(
        sa.update(_users)
        .where(_users.c.id == user_id,
               sa.or_(_users.c.locked_until.is_not(None), _users.c.failed_login_attempts > 0))
        .values(failed_login_attempts=0, fail_login_count=0, locked_until=None)
    )
    return bool(result.rowcount)


# --- names that are no active account: the same counter and lock, so the lockout
# tells nothing about which names exist ----------------------------------------------

def _name_key(name: str) -> str:
    return hashlib.sha256(name.strip().casefold().encode()).hexdigest()


def unknown_locked_until(name: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the lock of ``name`` (no active account) ends, or ``None`` when it is not locked."""
    until = db.session.execute(sa.select(_unknown.c.locked_until).where(
        _unknown.c.name_key == _name_key(name))).scalar_one_or_none()
    if until is None:
        return None
    if until.tzinfo is None:
        until = until.replace(tzinfo=dt.timezone.utc)
    return until if until > (now or utcnow()) else None


def record_unknown_failure(name: str) -> Failure | None:
    """Count one failed sign-in under ``name`` (no active account) as :func:`record_failure`
    counts an account's, atomically, and commit.

    :returns: as :func:`record_failure`.
    """
    key = _name_key(name)
    insert = {"postgresql": pg_insert, "sqlite": sqlite_insert}[db.session.get_bind().dialect.name]
    db.session.execute(insert(_unknown).values(name_key=key, failed_login_attempts=0)
                       .on_conflict_do_nothing(index_elements=["name_key"]))
    return _count_failure(_unknown, _unknown.c.name_key == key)
