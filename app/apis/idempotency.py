"""Safe retries: POSTs with an ``Idempotency-Key`` header answer once (issue 8).

A client whose connection drops cannot tell whether its POST was posted.  It
sends the same request again with the same ``Idempotency-Key``; the portal
returns the first answer and posts nothing more.  The same key with a
different request answers 422.  Keys are per user and live 24 hours.

The key is *claimed* (a row inserted and flushed) before the request's work,
in the same database transaction, and its answer is recorded before the
commit: a key is stored exactly when its change is.  A concurrent duplicate
waits on the claim (the unique index on PostgreSQL; SQLite's write lock),
then finds the stored answer.  A refused request stores nothing, so a retry
runs again (nothing was posted the first time).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json

import sqlalchemy as sa
from flask import Response, current_app, request
from sqlalchemy.exc import IntegrityError

from .. import models as m
from ..errors import RuleViolation
from ..models.types import utcnow
from ..scoping import current_actor, system
from ..i18n import _

HEADER = "Idempotency-Key"
LIFETIME = dt.timedelta(hours=24)
_CLAIM = "abparts_idempotency_claim"


class AlreadyAnswered(Exception):
    """A concurrent request with the same key committed first: replay its answer."""


def request_key() -> str | None:
    """The request's ``Idempotency-Key`` (stripped), or ``None`` when absent.

    :raises RuleViolation: a key longer than 255 characters.
    """
    key = (request.headers.get(HEADER) or "").strip()
    if not key:
        return None
    if len(key) > 255:
        raise RuleViolation(_("The %(header)s header is at most 255 characters.", header=HEADER))
    return key


def _fingerprint() -> str:
    body = request.get_data(cache=True) or b""
    try:
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        pass  # not JSON: compare the bytes as sent
    return hashlib.sha256(b"\n".join([request.method.encode(), request.path.encode(), body])).hexdigest()


def _stored(session, user_id: int, key: str) -> m.IdempotencyKey | None:
    k = m.IdempotencyKey
    with system():
        return session.execute(sa.select(k).where(k.user_id == user_id, k.key == key)).scalar_one_or_none()


def replay(session) -> Response | None:
    """The stored answer of this request's key, a 422 for a reused key, or ``None`` to go on.

    An expired key (older than 24 hours) is forgotten and the request runs anew.
    """
    actor = current_actor()
    key = request_key()
    if key is None or actor is None or actor.user_id is None:
        return None
    row = _stored(session, actor.user_id, key)
    if row is None:
        return None
    if row.created_at < utcnow() - LIFETIME:
        with system():
            session.delete(row)
            session.commit()
        return None
    if row.request_hash != _fingerprint():
        return current_app.response_class(
            json.dumps({"message": f"This {HEADER} was used for a different request; use a new key."}),
            status=422, mimetype="application/json")
    return current_app.response_class(row.response_body, status=row.status_code, mimetype="application/json")


def claim(session) -> None:
    """Insert this request's key row before its work (no-op without a key).

    :raises AlreadyAnswered: a concurrent request with the same key committed
        first (the session is rolled back; call :func:`replay`).
    """
    actor = current_actor()
    key = request_key()
    if key is None or actor is None or actor.user_id is None:
        return
    row = m.IdempotencyKey(user_id=actor.user_id, key=key, request_hash=_fingerprint())
    k = m.IdempotencyKey
    try:
        with system():
            # This user's expired keys go as new ones come: the table holds about a day of keys.
            session.execute(sa.delete(k.__table__).where(k.user_id == actor.user_id,
                                                         k.created_at < utcnow() - LIFETIME))
            session.add(row)
            session.flush([row])
    except IntegrityError:
        session.rollback()
        raise AlreadyAnswered() from None
    session.info[_CLAIM] = row


def record(session, status: int, body: dict) -> None:
    """Store the answer on the claimed key row, before the commit (no-op without a claim)."""
    row = session.info.pop(_CLAIM, None)
    if row is not None:
        row.status_code = status
        row.response_body = current_app.json.dumps(body)


def claimed(session) -> bool:
    """Whether this request claimed an idempotency key (its answer is to be recorded)."""
    return _CLAIM in session.info


def forget_claim(session) -> None:
    """Drop the claim of a request that was refused (its row goes with the rollback)."""
    session.info.pop(_CLAIM, None)
