"""Reorder points from usage (issue 11): compute suggestions, review them, accept them.

**The formula.**  Per stock line (a real warehouse and a part)::

    average daily use = used over the window / window days
    suggested point   = average daily use x (lead time days + safety stock days)

rounded up to whole units for consumables and to the thousandth for bulk
material, in the part's unit of measure.  The window defaults to
``REORDER_WINDOW_DAYS`` (90); lead time and safety stock are the warehouse's
organization's (``reorder_lead_time_days``, ``reorder_safety_stock_days``), else
``REORDER_LEAD_TIME_DAYS`` (14) and ``REORDER_SAFETY_STOCK_DAYS`` (7).

**What counts as use.**  Posted ledger rows (no approval needed, or approved) dated
in the window that take stock out of the warehouse for good:

- ``consumption`` rows: part usage in machines;
- ``transfer`` rows of a stock transfer document (``stock_transfer_id``): stock
  dispatched to another site, a customer's for Oraseas EE's hubs.  The warehouse
  must hold it before it ships, so it is demand on that warehouse.

Not counted: adjustments (corrections, not demand), reversals and ledger
transfers without a document (an organization moving stock between its own
warehouses), and anything pending or rejected.

Everything is read with organization scoping in force: an organization's admin
computes, sees and accepts its own warehouses' suggestions only; a command with
nobody acting covers every organization (or the one it names).  The usage is one
``GROUP BY`` query over the window's ledger rows; suggestions and accepted reorder
points are written in bulk statements.
"""
from __future__ import annotations

import datetime as dt
import decimal
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from .. import models as m
from ..errors import OutOfScope, RuleViolation
from ..i18n import _
from ..models.types import utcnow

D = decimal.Decimal
#: Ids in one ``IN`` list (under SQLite's 32,766 bound parameters), rows in one ``executemany``.
CHUNK = 2000


class InvalidReorderSetting(RuleViolation):
    """A window that is not a whole number of days in range."""


@dataclass(frozen=True)
class Outcome:
    """What a computation did.

    :ivar lines: stock lines looked at (real warehouses, in scope).
    :ivar suggestions: lines whose suggested point differs from their reorder point (stored).
    :ivar computed_at: when (aware UTC).
    """

    lines: int
    suggestions: int
    computed_at: dt.datetime


def used_in_window(since: dt.datetime, until: dt.datetime):
    """Per ``(warehouse_id, part_id)``, the quantity that left the warehouse as use (see the module)
    dated from ``since`` to ``until``: a subquery with columns ``warehouse_id``, ``part_id``, ``used``."""
    t = m.Transaction
    posted = sa.or_(t.requires_approval.is_(False), t.approval_status == m.ApprovalStatus.approved.value)
    use = sa.or_(t.transaction_type == m.TransactionType.consumption,
                 sa.and_(t.transaction_type == m.TransactionType.transfer, t.stock_transfer_id.is_not(None)))
    return (sa.select(t.from_warehouse_id.label("warehouse_id"), t.part_id.label("part_id"),
                      sa.func.sum(t.quantity).label("used"))
            .where(t.from_warehouse_id.is_not(None), t.transaction_date >= since, t.transaction_date <= until,
                   posted, use)
            .group_by(t.from_warehouse_id, t.part_id)
            .subquery("used_in_window"))


def suggested_point(used: D, window_days: int, cover_days: int, whole_units: bool) -> D:
    """``used / window_days x cover_days``, rounded up (whole units, or thousandths).

    :param used: quantity used over the window (part's unit of measure).
    :param cover_days: lead time days + safety stock days.
    """
    raw = D(used) * cover_days / window_days
    step = D(1) if whole_units else D("0.001")
    return raw.quantize(step, rounding=decimal.ROUND_CEILING)


def _days(name: str, value, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 3650:
        raise InvalidReorderSetting(_("%(name)s must be a whole number of days from %(low)s to 3650.",
                                      name=name, low=low))
    return value


def suggest_reorder_points(session, by: str, window_days: int | None = None, now: dt.datetime | None = None,
                           organization_id: uuid.UUID | None = None) -> Outcome:
    """Compute the suggested reorder point of every stock line in scope and store the ones that
    differ from the line's reorder point, replacing earlier suggestions of the same organizations.

    Does not commit (the caller's request or command does, once).

    :param by: who computes (a username, or ``flask abparts`` for the command).
    :param window_days: days of usage history; default ``REORDER_WINDOW_DAYS``.
    :param now: the end of the window (aware UTC); default now.
    :param organization_id: only this organization's warehouses.
    :returns: an :class:`Outcome`.
    :raises InvalidReorderSetting: a window that is not 1 to 3650 days.
    """
    cfg = current_app.config
    window = _days(_("The window"), cfg["REORDER_WINDOW_DAYS"] if window_days is None else window_days, low=1)
    now = now or utcnow()
    used = used_in_window(now - dt.timedelta(days=window), now)
    inv, w, o, p = m.Inventory, m.Warehouse, m.Organization, m.Part
    stmt = (sa.select(inv.id, inv.warehouse_id, inv.part_id, w.organization_id, inv.unit_of_measure,
                      inv.current_stock, inv.minimum_stock_recommendation, used.c.used,
                      o.reorder_lead_time_days, o.reorder_safety_stock_days, p.part_type)
            .join(w, w.id == inv.warehouse_id).join(o, o.id == w.organization_id).join(p, p.id == inv.part_id)
            .outerjoin(used, sa.and_(used.c.warehouse_id == inv.warehouse_id, used.c.part_id == inv.part_id))
            .where(w.is_transit.is_(False)))
    if organization_id is not None:
        stmt = stmt.where(w.organization_id == organization_id)
    lines = session.execute(stmt).all()
    lead_default, safety_default = cfg["REORDER_LEAD_TIME_DAYS"], cfg["REORDER_SAFETY_STOCK_DAYS"]
    rows = []
    for line in lines:
        lead = lead_default if line.reorder_lead_time_days is None else line.reorder_lead_time_days
        safety = safety_default if line.reorder_safety_stock_days is None else line.reorder_safety_stock_days
        use = line.used or D(0)
        point = suggested_point(use, window, lead + safety, line.part_type == m.PartType.consumable)
        if point != line.minimum_stock_recommendation:
            rows.append({"id": uuid.uuid4(), "inventory_id": line.id, "organization_id": line.organization_id,
                         "warehouse_id": line.warehouse_id, "part_id": line.part_id,
                         "unit_of_measure": line.unit_of_measure, "window_days": window, "lead_time_days": lead,
                         "safety_stock_days": safety, "used_in_window": use, "current_stock": line.current_stock,
                         "current_point": line.minimum_stock_recommendation, "suggested_point": point,
                         "computed_at": now, "computed_by": by})
    organizations = sorted({line.organization_id for line in lines}, key=str)
    # Core statements on the tables (the rows are the scoped query's): an executemany INSERT is
    # about three times faster than the ORM's bulk path (64,000 suggestions at 10x).
    table = m.ReorderSuggestion.__table__
    for chunk in _chunks(organizations):
        session.execute(sa.delete(table).where(table.c.organization_id.in_(chunk)))
    for chunk in _chunks(rows):
        session.execute(sa.insert(table), chunk)
    return Outcome(len(lines), len(rows), now)


def accept_suggestions(session, ids, by: str, now: dt.datetime | None = None) -> int:
    """Write the suggested points of the suggestions ``ids`` into their stock lines'
    ``minimum_stock_recommendation``, with ``reorder_threshold_set_by = by`` and
    ``last_recommendation_update = now``; mark the suggestions accepted.

    All or nothing, and only what the actor sees: a suggestion out of scope, unknown or
    already accepted refuses the whole call.  Does not commit.

    :param ids: suggestion ids (UUIDs or their text).
    :param by: the accepting user's username (the first 50 characters are stored on the line).
    :returns: the number of reorder points written.
    :raises OutOfScope: (404) an id that is not a pending suggestion this actor sees.
    """
    now = now or utcnow()
    keys = {m.parse_uuid(i) for i in ids}
    if not keys or None in keys:
        raise OutOfScope(_("There is no reorder suggestion with this id."))
    s = m.ReorderSuggestion
    found = []
    for chunk in _chunks(sorted(keys, key=str)):
        found += session.execute(sa.select(s.id, s.inventory_id, s.suggested_point)
                                 .where(s.id.in_(chunk), s.accepted_at.is_(None))).all()
    if len(found) != len(keys):
        raise OutOfScope(_("%(missing)s of the %(total)s reorder suggestions are not pending suggestions you "
                           "can see (accepted already, replaced by a newer computation, or another "
                           "organization's): nothing was accepted.", missing=len(keys) - len(found), total=len(keys)))
    # Set-based, on the tables, for the rows the scoped query found: each line takes its own
    # suggestion's point (a correlated subquery), a chunk of lines a statement.
    inventory, suggestions = m.Inventory.__table__, s.__table__
    point = (sa.select(suggestions.c.suggested_point).where(suggestions.c.inventory_id == inventory.c.id)
             .scalar_subquery())
    for chunk in _chunks(found):
        session.execute(sa.update(inventory).where(inventory.c.id.in_([row.inventory_id for row in chunk]))
                        .values(minimum_stock_recommendation=point, reorder_threshold_set_by=by[:50],
                                last_recommendation_update=now))
        session.execute(sa.update(suggestions).where(suggestions.c.id.in_([row.id for row in chunk]))
                        .values(accepted_at=now, accepted_by=by))
    return len(found)


def pending_suggestion_ids(session, organization_id: uuid.UUID | None = None) -> list:
    """The ids of the pending suggestions in scope (of one organization, if given)."""
    s = m.ReorderSuggestion
    stmt = sa.select(s.id).where(s.accepted_at.is_(None))
    if organization_id is not None:
        stmt = stmt.where(s.organization_id == organization_id)
    return list(session.execute(stmt).scalars())


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]
