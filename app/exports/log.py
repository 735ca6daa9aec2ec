"""Writing the export log (:class:`app.models.ExportLog`): a row when an export starts,
its row count and end time when it finished.

Core statements, committed at once, like security events: the log is the
bookkeeping of any user's download, an auditor's (who changes nothing else)
included, and it stays written whatever happens to the download.  The rule
hooks refuse every other change of the log (:mod:`app.rules.append_only`); the
finishing stamp is written once, on a row that has none.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid

import sqlalchemy as sa

from ..extensions import db
from ..models import ExportLog
from ..models.export_log import ALL_ORGANIZATIONS
from ..models.types import utcnow
from ..scoping import Actor
from ..security import events

_table = ExportLog.__table__


def organization_scope(actor: Actor | None) -> str:
    """The organizations whose rows ``actor`` sees: ``all``, or their ids, comma-separated."""
    if actor is None or actor.visible_organization_ids is None:
        return ALL_ORGANIZATIONS
    return ",".join(str(org) for org in actor.visible_organization_ids)


def start(user, actor: Actor | None, *, list_name: str, view_name: str, query: str, filters: dict,
          fmt: str, started_at: dt.datetime | None = None, as_of: dt.datetime | None = None) -> uuid.UUID:
    """Record that ``user`` starts an export, with a security event (``export``), and commit.

    :param user: the signed-in user (an ``ab_user`` row).
    :param actor: the user's :class:`~app.scoping.Actor` (its organization scope).
    :param list_name: the list or report as users name it ("Stock ledger").
    :param view_name: the screen that exported it (``TransactionModelView``).
    :param query: the request's query string.
    :param filters: the filters, search and sort, stored as JSON.
    :param fmt: ``csv`` or ``xlsx``.
    :param started_at: the time recorded as the start (aware UTC); now by default.
    :param as_of: stock ledger exports: the time its rows are read as of.
    :returns: the log row's id, for :func:`finish`.
    """
    log_id = uuid.uuid4()
    db.session.execute(sa.insert(_table).values(
        id=log_id, user_id=user.id, username=user.username,
        organization_id=actor.organization_id if actor else getattr(user, "organization_id", None),
        organization_scope=organization_scope(actor), list_name=list_name[:200], view_name=view_name[:100],
        query=query, filters=json.dumps(filters, default=str, sort_keys=True), format=fmt,
        started_at=started_at or utcnow(), as_of=as_of))
    events.record(events.EXPORT, user.id, "low", view=view_name, list=list_name, format=fmt,
                  query=query[:500], export_log=str(log_id))
    db.session.commit()
    return log_id


def finish(log_id: uuid.UUID, row_count: int) -> None:
    """Stamp the export ``log_id`` as finished with ``row_count`` rows, once, and commit."""
    db.session.execute(sa.update(_table).where(_table.c.id == log_id, _table.c.finished_at.is_(None))
                       .values(row_count=row_count, finished_at=utcnow()))
    db.session.commit()
