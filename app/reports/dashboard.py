"""The figures of the landing page (issue 11): counts per state, stock alerts and value,
movements and usage per month, adjustments and exports.

Every figure is one GROUP BY in the database, read through the ORM session so
that :mod:`app.scoping` confines it to the user's organizations, and filtered
as the list it links to is (the dashboard and the list never disagree).
"""
from __future__ import annotations

import datetime as dt
import decimal
import enum
from dataclasses import dataclass, field

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


def month_windows(months: int, today: dt.date | None = None) -> list[tuple[dt.datetime, dt.datetime]]:
    """``[(start, end)]`` of the last ``months`` UTC calendar months, oldest first; ``end`` is the
    next month's start (a month holds the instants ``start <= t < end``)."""
    starts = month_starts(today or dt.datetime.now(dt.timezone.utc).date(), months)
    ends = starts[1:] + [(starts[-1] + dt.timedelta(days=32)).replace(day=1)]
    return list(zip(starts, ends))


def per_month(session, date_column, key_column, windows, *where, select_from=None) -> dict:
    """Rows per ``(key, month)`` in one GROUP BY, bucketed by a CASE over the months' windows
    (the same SQL on PostgreSQL and SQLite), scoped.

    :param windows: :func:`month_windows`.
    :param where: further criteria; ``select_from``: the FROM clause when not ``date_column``'s table.
    :returns: ``{key: [rows in each month]}`` for the keys with rows, months in ``windows``' order.
    """
    bucket = sa.case(*((sa.and_(date_column >= s, date_column < e), i) for i, (s, e) in enumerate(windows)),
                     else_=None).label("month")
    query = sa.select(key_column, bucket, sa.func.count())
    if select_from is not None:
        query = query.select_from(select_from)
    rows = session.execute(query.where(date_column >= windows[0][0], date_column < windows[-1][1], *where)
                           .group_by(key_column, "month")).all()  # by its label: PostgreSQL compares text
    out: dict = {}
    for key, month, n in rows:
        out.setdefault(key, [0] * len(windows))[month] = n
    return out


def movements_per_month(session, months: int = 12, today: dt.date | None = None) -> list[tuple]:
    """Ledger rows per calendar month and type over the last ``months`` months, scoped.

    :returns: ``[(month start, month end, {TransactionType: rows})]``, oldest first;
        months are UTC calendar months, the end is the next month's start.
    """
    windows = month_windows(months, today)
    t = m.Transaction
    found = per_month(session, t.transaction_date, t.transaction_type, windows)
    return [(start, end, {kind: found.get(kind, [0] * months)[i] for kind in m.TransactionType})
            for i, (start, end) in enumerate(windows)]


def count_where(session, model, *where) -> int:
    """Rows of ``model`` meeting ``where``, scoped."""
    return session.execute(sa.select(sa.func.count()).select_from(model).where(*where)).scalar_one()


def warehouse_names(session) -> dict:
    """``{warehouse id: (warehouse name, organization name)}`` of every warehouse the user sees
    (a thousand or so at ten times the demo's scale: one plain read, cheaper than an ``IN`` of
    as many ids)."""
    wh, org = m.Warehouse, m.Organization
    return {wid: (name, organization) for wid, name, organization in session.execute(
        sa.select(wh.id, wh.name, org.name).join(org, org.id == wh.organization_id))}


#: The stock statuses the dashboards alert on, worst first.
ALERTS = (m.StockStatus.out, m.StockStatus.low)
CENTS = decimal.Decimal("0.01")


@dataclass
class StockFigures:
    """The stock boards' figures, from one pass over the stock lines (:func:`stock_figures`).

    :ivar alerts: ``[(organization name, {StockStatus.out: lines, StockStatus.low: lines})]``,
        most alerts first, then by name; organizations without alerts are left out.
    :ivar value: ``[(organization name, [(warehouse id, warehouse name, value), ...])]``: stock on
        hand x ``Part.unit_price`` (money, in the price currency; a part without a price counts
        0), the organizations by value (highest first), their warehouses likewise.
    """

    alerts: list = field(default_factory=list)
    value: list = field(default_factory=list)


def stock_figures(session, narrow=lambda query: query) -> StockFigures:
    """Stock-outs and low stock (at or below the reorder point, :attr:`Inventory.status
    <app.models.Inventory.status>`) per organization, and stock value per organization and
    warehouse, scoped.

    One GROUP BY warehouse over the stock lines (a hash aggregate, one scan) counting each
    status and summing the value, then the warehouses' names and organizations.

    :param narrow: adds the stock list's own criteria (its base filters) to the ``SELECT`` of
        stock lines, so that a figure counts the lines the list shows.
    """
    inv, part = m.Inventory, m.Part
    per_status = [sa.func.sum(sa.case((inv.status == s.value, 1), else_=0)) for s in ALERTS]
    value = sa.func.sum(inv.current_stock * sa.func.coalesce(part.unit_price, 0))
    rows = session.execute(narrow(sa.select(inv.warehouse_id, value, *per_status)
                                  .join(part, part.id == inv.part_id)).group_by(inv.warehouse_id)).all()
    names = warehouse_names(session) if rows else {}
    alerts: dict[str, dict] = {}
    values: dict[str, list] = {}
    for warehouse_id, total, *counts in rows:
        warehouse, organization = names[warehouse_id]
        values.setdefault(organization, []).append(
            (warehouse_id, warehouse, decimal.Decimal(total or 0).quantize(CENTS)))
        if any(counts):
            found = alerts.setdefault(organization, {s: 0 for s in ALERTS})
            for status, n in zip(ALERTS, counts):
                found[status] += int(n or 0)
    for warehouses in values.values():
        warehouses.sort(key=lambda w: (-w[2], w[1]))
    return StockFigures(sorted(alerts.items(), key=lambda item: (-sum(item[1].values()), item[0])),
                        sorted(values.items(), key=lambda item: (-sum(w[2] for w in item[1]), item[0])))




def top_consumed_parts(session, since: dt.datetime, limit: int = 10) -> list[tuple]:
    """The parts consumed most (by ledger ``consumption`` rows) since ``since``, scoped.

    :returns: ``[(part, rows, quantity)]``, most rows first; quantity in the part's unit of measure.
    """
    t = m.Transaction
    rows = session.execute(sa.select(t.part_id, sa.func.count().label("n"), sa.func.sum(t.quantity))
                           .where(t.transaction_type == m.TransactionType.consumption, t.transaction_date >= since)
                           .group_by(t.part_id).order_by(sa.desc("n"), t.part_id).limit(limit)).all()
    parts = {p.id: p for p in session.execute(sa.select(m.Part).where(
        m.Part.id.in_([row[0] for row in rows]))).scalars()} if rows else {}
    return [(parts[part_id], n, quantity) for part_id, n, quantity in rows if part_id in parts]


def usage_per_machine(session, windows) -> list[tuple]:
    """Part usage records per machine and calendar month, scoped (issue 10's usage history).

    :param windows: :func:`month_windows`.
    :returns: ``[(machine, [records in each month])]``, machines by name.
    """
    u = m.PartUsage
    found = per_month(session, u.usage_date, u.machine_id, windows, u.machine_id.is_not(None))
    machines = session.execute(sa.select(m.Machine).where(m.Machine.id.in_(list(found)))).scalars() if found else []
    return sorted(((machine, found[machine.id]) for machine in machines), key=lambda row: (row[0].name, str(row[0].id)))


def adjustments_by_reason(session, windows) -> list[tuple[str, list[int]]]:
    """Stock adjustments per reason code and calendar month, scoped.

    :param windows: :func:`month_windows`.
    :returns: ``[(reason code, [adjustments in each month])]``, by reason code.
    """
    a = m.StockAdjustment
    return sorted(per_month(session, a.adjustment_date, a.reason_code, windows).items())


def exports_by_list(session, since: dt.datetime) -> list[tuple[str, int]]:
    """Exports per list (``ExportLog.list_name``) started since ``since``, scoped; most first."""
    e = m.ExportLog
    rows = session.execute(sa.select(e.list_name, sa.func.count()).where(e.started_at >= since)
                           .group_by(e.list_name)).all()
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def last_event(session, event_type: str):
    """The newest :class:`~app.models.SecurityEvent` of ``event_type`` the user may see, or ``None``."""
    e = m.SecurityEvent
    return session.execute(sa.select(e).where(e.event_type == event_type)
                           .order_by(e.timestamp.desc()).limit(1)).scalar_one_or_none()
