"""The figures of the landing page (issue 11): counts per state and movements per month.

Every figure is one GROUP BY in the database, read through the ORM session so
that :mod:`app.scoping` confines it to the user's organizations, and filtered
as the list it links to is (the dashboard and the list never disagree).
"""
from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa

from .. import models as m


def count_by_status(session, model) -> dict[enum.Enum, int]:
    """``{status: rows}`` of ``model`` (an order or transfer model), scoped; states without rows are 0."""
    states = model.status.type.enum_class
    found = dict(session.execute(sa.select(model.status, sa.func.count()).group_by(model.status)).all())
    return {state: found.get(state, 0) for state in states}


def pending_approvals(session) -> int:
    """Ledger rows waiting for an approval decision (they post nothing until approved), scoped."""
    t = m.Transaction
    return session.execute(sa.select(sa.func.count()).select_from(t).where(
        t.approval_status == m.ApprovalStatus.pending.value)).scalar_one()


def month_starts(today: dt.date, months: int) -> list[dt.datetime]:
    """The first instant (UTC) of each of the last ``months`` calendar months, oldest first, this one last."""
    year, month = today.year, today.month
    out = []
    for _ in range(months):
        out.append(dt.datetime(year, month, 1, tzinfo=dt.timezone.utc))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]


def movements_per_month(session, months: int = 12, today: dt.date | None = None) -> list[tuple]:
    """Ledger rows per calendar month and type over the last ``months`` months, scoped.

    :returns: ``[(month start, month end, {TransactionType: rows})]``, oldest first;
        months are UTC calendar months, the end is the next month's start.
    """
    starts = month_starts(today or dt.datetime.now(dt.timezone.utc).date(), months)
    ends = starts[1:] + [(starts[-1] + dt.timedelta(days=32)).replace(day=1)]
    t = m.Transaction
    # One GROUP BY over the window, bucketed by month with a CASE over the month starts:
    # the same SQL on PostgreSQL and SQLite.
    bucket = sa.case(*((sa.and_(t.transaction_date >= s, t.transaction_date < e), i)
                       for i, (s, e) in enumerate(zip(starts, ends))), else_=None)
    rows = session.execute(sa.select(bucket.label("month"), t.transaction_type, sa.func.count())
                           .where(t.transaction_date >= starts[0], t.transaction_date < ends[-1])
                           .group_by("month", t.transaction_type)).all()
    counts = [{kind: 0 for kind in m.TransactionType} for _ in starts]
    for month, kind, n in rows:
        counts[month][kind] = n
    return list(zip(starts, ends, counts))
