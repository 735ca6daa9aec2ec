"""Part usage per machine (issue 10): the history that feeds reorder suggestions."""
from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field

import sqlalchemy as sa

from .. import models as m


@dataclass
class PartTotal:
    """One part's usage in a machine: ``quantity`` in the part's unit of measure."""

    part: m.Part
    quantity: decimal.Decimal
    times: int
    last_used: dt.datetime


@dataclass
class MachineUsage:
    """A machine's part usage between ``since`` and ``until`` (aware UTC, both optional)."""

    records: list = field(default_factory=list)  #: PartUsage rows, newest first
    totals: list = field(default_factory=list)  #: PartTotal per part, by part number
    last_used: dt.datetime | None = None


def machine_usage(session, machine_id, since: dt.datetime | None = None, until: dt.datetime | None = None,
                  limit: int | None = 500) -> MachineUsage:
    """The part usage of machine ``machine_id`` as the user may see it (scoped).

    :param since: from this instant (inclusive); :param until: before this instant.
    :param limit: at most this many records (the totals cover every record).
    :returns: :class:`MachineUsage`: records (date, part, quantity, warehouse, who),
        totals per part (one GROUP BY) and the last usage date.
    """
    u = m.PartUsage
    where = [u.machine_id == machine_id]
    if since is not None:
        where.append(u.usage_date >= since)
    if until is not None:
        where.append(u.usage_date < until)
    records = session.execute(sa.select(u).where(*where).order_by(u.usage_date.desc()).limit(limit)).scalars().all()
    grouped = session.execute(
        sa.select(u.part_id, sa.func.sum(u.quantity), sa.func.count(), sa.func.max(u.usage_date))
        .where(*where).group_by(u.part_id)).all()
    parts = {p.id: p for p in session.execute(sa.select(m.Part).where(
        m.Part.id.in_([row[0] for row in grouped]))).scalars()} if grouped else {}
    # SUM keeps the column's type: quantities come back as Decimals on both engines.
    totals = sorted((PartTotal(parts[pid], q, n, last) for pid, q, n, last in grouped),
                    key=lambda t: t.part.part_number)
    return MachineUsage(records, totals, max((t.last_used for t in totals), default=None))
