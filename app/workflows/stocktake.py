"""Stocktakes: planned -> counting -> (awaiting_approval ->) completed (issue 9).

Read top to bottom: the states and their transitions, who may take each step,
what a line's counts agree on, then one command per step.

- **Plan** (an admin of the warehouse's organization, or Oraseas staff): one
  warehouse, its lines (every stock record there, or the parts chosen, a part
  type, or the records below their reorder point), a date, the counters (users
  of the warehouse's organization), blind or not (blind by default).
- **Start** takes the snapshot: every line's book quantity at that instant,
  in one statement.
- **Count**: a counter enters counted quantities, one line or many at once,
  and may correct them while counting lasts.  Each count keeps the book
  quantity at the moment it was entered (the snapshot plus the net postings to
  that warehouse and part since), so stock moving during the count does not
  show up as a variance.
- **Several counters**: counts that disagree put the line in *recount* until a
  further count matches one of them, or an admin decides with a note (**resolve**).
- **Complete** computes every line's variance (agreed count - book quantity at
  that count) in units and value (unit price x variance).  A line over the
  organization's threshold needs an admin who counted nothing to **approve**;
  otherwise the corrections post at once.  Posting is one reason-coded
  ``stocktake`` :class:`~app.models.StockAdjustment` per line with a variance,
  all in one database transaction, through the ledger's hooks.
- **Cancel** before completion posts nothing.

In a blind stocktake the counters never see book quantities or variances
(:func:`may_see_book`): screens and the REST API ask it before showing them.
"""
from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from .. import models as m
from ..errors import IllegalTransition, InvalidQuantity, RuleViolation, flush_checked
from ..rules.bulk import post_batch
from ..rules.ledger import check_quantity, mark_workflow_posting
from ..scoping import ADMIN, AUDITOR, SUPER_ADMIN, system
from .base import StateMachine, Who, command, load_visible, now, require
from ..i18n import _

S = m.StocktakeStatus
D = decimal.Decimal
ZERO = D(0)
CENT = D("0.01")
#: The reason code of a stocktake's corrections (``stock_adjustments.reason_code``).
REASON = "stocktake"
#: How the lines of a new stocktake are chosen.
SCOPES = ("all", "parts", "part_type", "below_reorder_point")

#: The stocktake's state machine: step -> (from states, to states).
TRANSITIONS = StateMachine(_("stocktake"), {
    "start": (frozenset({S.planned}), frozenset({S.counting})),
    "count": (frozenset({S.counting}), frozenset({S.counting})),
    "resolve": (frozenset({S.counting}), frozenset({S.counting})),
    "complete": (frozenset({S.counting}), frozenset({S.awaiting_approval, S.completed})),
    "approve": (frozenset({S.awaiting_approval}), frozenset({S.completed})),
    "cancel": (frozenset({S.planned, S.counting, S.awaiting_approval}), frozenset({S.cancelled})),
})


# --- who may take which step ------------------------------------------------

def is_counter(who: Who, stocktake: m.Stocktake) -> bool:
    """Whether ``who`` is one of the stocktake's counters."""
    return any(c.user_id == who.user.id for c in stocktake.counters)


def may_manage(who: Who, stocktake: m.Stocktake) -> bool:
    """An admin of the warehouse's organization (or an Oraseas staff admin) plans, starts,
    resolves, completes, approves and cancels."""
    return who.is_admin and who.acts_for(stocktake.organization_id)


def may_count(who: Who, stocktake: m.Stocktake) -> bool:
    """Only the stocktake's counters count."""
    return not who.actor.is_read_only and is_counter(who, stocktake)


def may_see_book(who: Who, stocktake: m.Stocktake) -> bool:
    """Whether ``who`` may see book quantities and variances of ``stocktake``.

    Not blind: whoever sees the stocktake.  Blind: admins and auditors who are
    not among its counters, never a counter (issue 9, "In a blind count,
    counters never see the book quantity or the variance").
    """
    if not stocktake.is_blind:
        return True
    return bool(who.actor.roles & {ADMIN, SUPER_ADMIN, AUDITOR}) and not is_counter(who, stocktake)


def allowed_actions(who: Who, stocktake: m.Stocktake) -> list[str]:
    """The steps ``who`` may take on ``stocktake`` now (the buttons a screen shows)."""
    checks = {"start": may_manage, "resolve": may_manage, "complete": may_manage, "cancel": may_manage,
              "approve": lambda w, s: may_manage(w, s) and not counted_any(w, s), "count": may_count}
    return [step for step in TRANSITIONS.allowed_steps(stocktake.status) if checks[step](who, stocktake)]


def counted_any(who: Who, stocktake: m.Stocktake) -> bool:
    """Whether ``who`` entered a count on any line of ``stocktake``."""
    sc, sl = m.StocktakeCount, m.StocktakeLine
    with system():  # the session of the request or command
        return m.db_session().execute(sa.select(sa.exists().where(
            sc.stocktake_line_id == sl.id, sl.stocktake_id == stocktake.id,
            sc.counted_by_user_id == who.user.id))).scalar()


# --- what a line's counts agree on -----------------------------------------

@dataclass(frozen=True)
class Agreement:
    """Where a line stands: ``state`` is ``not counted``, ``recount``, ``counted`` or ``resolved``.

    ``agreed`` and ``book`` (part's unit) are the agreed count and the book
    quantity when it was entered (or decided); ``None`` unless agreed.
    """

    state: str
    agreed: D | None = None
    book: D | None = None

    @property
    def is_agreed(self) -> bool:
        return self.agreed is not None


def agreement(line) -> Agreement:
    """What ``line``'s counts agree on.

    :param line: a :class:`~app.models.StocktakeLine`, or a :class:`LineFigures` read with Core.

    An admin's decision wins.  Otherwise one count, or counts that all match,
    are agreed; counts that differ agree on the quantity most counters found
    when at least two found it and no other quantity was found as often
    (a further count matching one of two disagreeing counts settles the line);
    anything else is a recount.  The book quantity is that of the latest
    count of the agreed quantity.
    """
    if line.resolution_note is not None and line.agreed_quantity is not None:
        return Agreement("resolved", line.agreed_quantity, line.book_quantity)
    counts = list(line.counts)
    if not counts:
        return Agreement("not counted")
    tally = Counter(c.counted_quantity for c in counts).most_common()
    quantity, times = tally[0]
    if len(tally) > 1 and (times < 2 or tally[1][1] == times):
        return Agreement("recount")
    latest = max((c for c in counts if c.counted_quantity == quantity), key=lambda c: c.counted_at)
    return Agreement("counted", quantity, latest.book_quantity)


def thresholds(organization: m.Organization) -> tuple[D | None, D | None]:
    """``(percent, value)``: the organization's variance thresholds, else the configuration's
    ``STOCKTAKE_THRESHOLD_PERCENT`` / ``STOCKTAKE_THRESHOLD_VALUE`` (``None``: no such limit)."""
    percent = organization.stocktake_threshold_percent
    value = organization.stocktake_threshold_value
    if percent is None and current_app.config.get("STOCKTAKE_THRESHOLD_PERCENT") is not None:
        percent = D(str(current_app.config["STOCKTAKE_THRESHOLD_PERCENT"]))
    if value is None and current_app.config.get("STOCKTAKE_THRESHOLD_VALUE") is not None:
        value = D(str(current_app.config["STOCKTAKE_THRESHOLD_VALUE"]))
    return percent, value


def over_threshold(variance: D, book: D, value: D | None, percent: D | None, limit: D | None) -> bool:
    """Whether a variance needs approval: ``|variance|`` over ``percent`` of ``|book|`` (any
    variance of a zero book), or ``|value|`` over ``limit``."""
    if variance == 0:
        return False
    if percent is not None and abs(variance) * 100 > percent * abs(book):
        return True
    return limit is not None and value is not None and abs(value) > limit


# --- helpers of the commands ------------------------------------------------

def load_stocktake(session, stocktake_id, for_update: bool = False) -> m.Stocktake:
    """The stocktake ``stocktake_id`` as the actor sees it (scoped; locked with ``for_update``).

    :raises OutOfScope: (404) no such stocktake for this actor.
    """
    return load_visible(session, m.Stocktake, stocktake_id, "stocktake", for_update)


def counted_quantity(value, part: m.Part, label: str) -> D:
    """A counted quantity in ``part``'s unit: zero or more, whole units for consumables,
    at most 3 decimal places for bulk materials.

    :raises InvalidQuantity: negative, malformed, a float, or against the unit rules.
    """
    if isinstance(value, (bool, float)):
        raise InvalidQuantity(_("%(label)s must be given as a decimal number, not a floating-point value.",
                                label=label))
    try:
        number = value if isinstance(value, D) else D(str(value).strip())
    except (decimal.InvalidOperation, AttributeError):
        raise InvalidQuantity(_("%(label)s must be a number.", label=label)) from None
    if number.is_finite() and number < 0:
        raise InvalidQuantity(_("%(label)s cannot be negative.", label=label))
    if number.is_finite() and number == 0:
        return ZERO
    return check_quantity(number, part, label)


def _balances(session, warehouse_id, part_ids) -> dict:
    """``{part_id: stock on hand}`` of ``warehouse_id`` (missing records are 0), read unscoped."""
    inv = m.Inventory.__table__.c
    with system():
        rows = session.execute(sa.select(inv.part_id, inv.current_stock).where(
            inv.warehouse_id == warehouse_id, inv.part_id.in_(list(part_ids)))).all()
    return {part_id: stock for part_id, stock in rows}


def _plan_parts(session, warehouse: m.Warehouse, scope: str, parts, part_type) -> list[m.Part]:
    """The parts a new stocktake counts, by part number."""
    inv, p = m.Inventory, m.Part
    stmt = sa.select(p).join(inv, inv.part_id == p.id).where(inv.warehouse_id == warehouse.id)
    if scope == "parts":
        keys = {m.parse_uuid(k) for k in parts or ()}
        if not keys or None in keys:
            raise RuleViolation(_("Choose the parts to count (at least one, by id)."))
        stmt = sa.select(p).where(p.id.in_(keys))
        found = session.execute(stmt.order_by(p.part_number)).scalars().all()
        if len(found) != len(keys):
            raise RuleViolation(_("A chosen part does not exist."))
        return found
    if scope == "part_type":
        try:
            kind = m.PartType(getattr(part_type, "value", part_type))
        except ValueError:
            raise RuleViolation(_("Choose a part type: consumable or bulk material.")) from None
        stmt = stmt.where(p.part_type == kind)
    elif scope == "below_reorder_point":
        stmt = stmt.where(inv.minimum_stock_recommendation > 0,
                          inv.current_stock <= inv.minimum_stock_recommendation)
    elif scope != "all":
        raise RuleViolation(_("The parts to count are chosen by one of: %(value)s.", value=', '.join(SCOPES)))
    return session.execute(stmt.order_by(p.part_number)).scalars().all()


def _counters(session, warehouse: m.Warehouse, user_ids) -> list[m.PortalUser]:
    keys = []
    for key in user_ids or ():
        try:
            keys.append(int(key))
        except (TypeError, ValueError):
            raise RuleViolation(_("%(key)s is not a user id.", key=repr(key))) from None
    if not keys:
        raise RuleViolation(_("A stocktake needs at least one counter."))
    with system():
        users = session.execute(sa.select(m.PortalUser).where(m.PortalUser.id.in_(keys))).scalars().all()
    if len(users) != len(set(keys)) or any(u.organization_id != warehouse.organization_id or not u.active
                                           for u in users):
        raise RuleViolation(_("Counters are active users of %(organization_name)s, the organization that "
                              "owns the warehouse.",
                              organization_name=warehouse.organization.name))
    return users


def _line_for(stocktake: m.Stocktake, by_part: dict, part_id):
    """The line of ``part_id`` in ``by_part`` (``{part id: line}``).

    :raises RuleViolation: (422) the part is not on the stocktake.
    """
    line = by_part.get(m.parse_uuid(part_id))
    if line is None:
        raise RuleViolation(_("Part %(part_id)s is not on stocktake %(reference_number)s.",
                              part_id=part_id, reference_number=stocktake.reference_number))
    return line


def _load_lines(session, stocktake: m.Stocktake) -> list[m.StocktakeLine]:
    """The lines with their counts and parts, in one query each."""
    sl = m.StocktakeLine
    return session.execute(sa.select(sl).where(sl.stocktake_id == stocktake.id).order_by(sl.line_number)
                           .options(selectinload(sl.counts), selectinload(sl.part))
                           .execution_options(populate_existing=True)).scalars().all()


@dataclass
class PartFacts:
    """What the unit rules need of a part (:func:`~app.rules.ledger.check_quantity`)."""

    part_number: str
    unit_of_measure: str
    part_type: m.PartType

    @property
    def is_whole_units(self) -> bool:
        return self.part_type == m.PartType.consumable


@dataclass
class LineFigures:
    """A line read with Core (no ORM objects: a stocktake has thousands of lines), with its counts."""

    id: uuid.UUID
    line_number: int
    part_id: uuid.UUID
    part: PartFacts
    unit_price: D | None
    resolution_note: str | None
    agreed_quantity: D | None
    book_quantity: D | None
    variance_quantity: D | None
    counts: list


def _figures(session, stocktake_id) -> list[LineFigures]:
    """Every line of the stocktake with its part and counts, in two queries."""
    sl, sc, p = m.StocktakeLine.__table__.c, m.StocktakeCount.__table__.c, m.Part.__table__.c
    with system():
        rows = session.execute(sa.select(
            sl.id, sl.line_number, sl.part_id, p.part_number, p.unit_of_measure, p.part_type, p.unit_price,
            sl.resolution_note, sl.agreed_quantity, sl.book_quantity, sl.variance_quantity,
        ).join_from(m.StocktakeLine.__table__, m.Part.__table__, p.id == sl.part_id)
            .where(sl.stocktake_id == stocktake_id).order_by(sl.line_number)).all()
        counts = session.execute(sa.select(sc.stocktake_line_id, sc.counted_by_user_id, sc.counted_quantity,
                                           sc.book_quantity, sc.counted_at)
                                 .join_from(m.StocktakeCount.__table__, m.StocktakeLine.__table__,
                                            sl.id == sc.stocktake_line_id)
                                 .where(sl.stocktake_id == stocktake_id)).all()
    by_line: dict = {}
    for c in counts:
        by_line.setdefault(c.stocktake_line_id, []).append(c)
    return [LineFigures(r.id, r.line_number, r.part_id,
                        PartFacts(r.part_number, r.unit_of_measure, m.PartType(getattr(r.part_type, "value", r.part_type))),
                        r.unit_price, r.resolution_note, r.agreed_quantity, r.book_quantity, r.variance_quantity,
                        by_line.get(r.id, [])) for r in rows]


def _update_lines(session, values: list[dict]) -> None:
    """Set columns of many lines at once (``[{"line_id": ..., column: value}]``, one ``executemany``)."""
    if values:
        t = m.StocktakeLine.__table__
        session.execute(sa.update(t).where(t.c.id == sa.bindparam("line_id")), values)


# --- the commands ------------------------------------------------------------

@command
def plan_stocktake(session, who: Who, warehouse_id, planned_date: dt.date, counters, scope: str = "all",
                   parts=None, part_type=None, blind: bool = True, notes: str | None = None) -> m.Stocktake:
    """Plan a stocktake of one warehouse (state ``planned``).

    :param warehouse_id: an active warehouse of the actor's organization (any, for Oraseas staff).
    :param planned_date: the day of the count.
    :param counters: ids (``ab_user.id``) of active users of the warehouse's organization.
    :param scope: ``all`` (every stock record of the warehouse), ``parts`` (``parts``: part
        ids), ``part_type`` (``part_type``: consumable or bulk_material) or
        ``below_reorder_point`` (records at or below their reorder point).
    :param blind: counters never see book quantities or variances.
    :returns: the new :class:`~app.models.Stocktake` with its lines.
    :raises OutOfScope: (404) the warehouse is not visible.
    :raises Forbidden: (403) not an admin of the warehouse's organization.
    :raises RuleViolation: no lines, no counters, a counter of another organization, an inactive warehouse.
    """
    warehouse = load_visible(session, m.Warehouse, warehouse_id, "warehouse")
    require(who.is_admin and who.acts_for(warehouse.organization_id),
            _("Only an admin of the warehouse's organization plans a stocktake."))
    if warehouse.is_transit or not warehouse.is_active:
        raise RuleViolation(_("Only an active warehouse is counted; %(warehouse)s is not one.",
                              warehouse=warehouse))
    if not isinstance(planned_date, dt.date):
        raise RuleViolation(_("A stocktake needs a planned date (YYYY-MM-DD)."))
    chosen = _plan_parts(session, warehouse, scope, parts, part_type)
    if not chosen:
        raise RuleViolation(_("No part of the warehouse matches: a stocktake needs at least one line."))
    people = _counters(session, warehouse, counters)
    when = now()
    stocktake = m.Stocktake(
        id=uuid.uuid4(), reference_number=f"ST-{when:%y%m%d}-{uuid.uuid4().hex[:6].upper()}",
        created_at=when, updated_at=when, organization_id=warehouse.organization_id, warehouse_id=warehouse.id,
        status=S.planned, planned_date=planned_date, is_blind=bool(blind),
        scope=f"part_type:{getattr(part_type, 'value', part_type)}" if scope == "part_type" else scope,
        notes=notes, created_by_user_id=who.user.id)
    session.add(stocktake)
    session.add_all([m.StocktakeCounter(stocktake=stocktake, user_id=u.id) for u in people])
    flush_checked(session)
    # Thousands of lines: one multi-row INSERT, not an ORM object each (the stocktake's scope is checked).
    session.execute(sa.insert(m.StocktakeLine.__table__), [
        {"id": uuid.uuid4(), "stocktake_id": stocktake.id, "line_number": n, "part_id": part.id,
         "needs_approval": False} for n, part in enumerate(chosen, start=1)])
    return stocktake


@command
def start_stocktake(session, who: Who, stocktake_id) -> m.Stocktake:
    """Start counting: snapshot every line's book quantity now, in one statement.

    :raises OutOfScope: (404); :raises Forbidden: (403) not an admin of its organization;
    :raises IllegalTransition: (409) not planned.
    """
    stocktake = load_stocktake(session, stocktake_id, for_update=True)
    require(may_manage(who, stocktake), _("Only an admin of the warehouse's organization starts a stocktake."))
    TRANSITIONS.move(stocktake, "start", S.counting)
    lines, inv = m.StocktakeLine.__table__, m.Inventory.__table__
    book = (sa.select(inv.c.current_stock).where(inv.c.warehouse_id == stocktake.warehouse_id,
                                                 inv.c.part_id == lines.c.part_id).scalar_subquery())
    session.execute(sa.update(lines).where(lines.c.stocktake_id == stocktake.id)
                    .values(snapshot_quantity=sa.func.coalesce(book, 0)))
    stocktake.started_by_user_id, stocktake.started_at = who.user.id, now()
    return stocktake


@command
def count_lines(session, who: Who, stocktake_id, counts) -> m.Stocktake:
    """Enter (or correct) the acting counter's counts.

    :param counts: ``[(part_id, counted quantity)]``, one line or many; quantities in
        the part's unit (0 or more; whole units for consumables, at most 3 decimals).
        A count equal to the counter's previous one of that line changes nothing.
    :returns: the stocktake.
    :raises OutOfScope: (404); :raises Forbidden: (403) not one of its counters;
    :raises IllegalTransition: (409) not counting (e.g. completed);
    :raises RuleViolation, InvalidQuantity: (422) a part not on the stocktake, a part
        twice, no counts, a bad quantity.
    """
    # Locked: a count is never entered after a concurrent completion has read the counts.
    stocktake = load_stocktake(session, stocktake_id, for_update=True)
    require(may_count(who, stocktake), _("Only the stocktake's counters enter counts."))
    TRANSITIONS.check("count", stocktake.status, stocktake.reference_number)
    if not counts:
        raise RuleViolation(_("Enter at least one count (a part and the quantity counted)."))
    keys = [m.parse_uuid(part_id) for part_id, _ in counts]
    if len(set(keys)) != len(keys):
        raise RuleViolation(_("A batch of counts lists each part once."))
    sl, sc, p = m.StocktakeLine.__table__.c, m.StocktakeCount.__table__.c, m.Part.__table__.c
    with system():
        lines = {r.part_id: r for r in session.execute(
            sa.select(sl.id, sl.part_id, p.part_number, p.unit_of_measure, p.part_type)
            .join_from(m.StocktakeLine.__table__, m.Part.__table__, p.id == sl.part_id)
            .where(sl.stocktake_id == stocktake.id, sl.part_id.in_([k for k in keys if k])))}
        mine = {r.stocktake_line_id: r for r in session.execute(
            sa.select(sc.id, sc.stocktake_line_id, sc.counted_quantity).where(
                sc.counted_by_user_id == who.user.id,
                sc.stocktake_line_id.in_([r.id for r in lines.values()])))}
    checked = []
    for part_id, quantity in counts:
        line = _line_for(stocktake, lines, part_id)
        part = PartFacts(line.part_number, line.unit_of_measure, m.PartType(getattr(line.part_type, "value",
                                                                                    line.part_type)))
        checked.append((line, counted_quantity(quantity, part, _("Counted quantity of %(part_number)s",
                                                                 part_number=part.part_number))))
    book = _balances(session, stocktake.warehouse_id, lines)
    when = now()
    new, changed = [], []
    for line, quantity in checked:
        previous = mine.get(line.id)
        if previous is not None and previous.counted_quantity == quantity:
            continue  # the same count again (a form sent twice) keeps the book figure it was entered at
        figures = {"counted_quantity": quantity, "book_quantity": book.get(line.part_id, ZERO), "counted_at": when}
        if previous is None:
            new.append({"id": uuid.uuid4(), "stocktake_line_id": line.id, "counted_by_user_id": who.user.id,
                        "created_at": when, **figures})
        else:
            changed.append({"count_id": previous.id, **figures})
    # Thousands of counts at once: one INSERT and one UPDATE executemany (the scope is checked above).
    if new:
        session.execute(sa.insert(m.StocktakeCount.__table__), new)
    if changed:
        t = m.StocktakeCount.__table__
        session.execute(sa.update(t).where(t.c.id == sa.bindparam("count_id")), changed)
    stocktake.updated_at = when
    return stocktake


@command
def resolve_line(session, who: Who, stocktake_id, part_id, agreed_quantity, note: str) -> m.StocktakeLine:
    """An admin's decision on a line's count (a recount that does not settle), with a note.

    The line's book quantity becomes the one of this moment.

    :raises OutOfScope: (404); :raises Forbidden: (403) not an admin of its organization;
    :raises IllegalTransition: (409) not counting;
    :raises RuleViolation, InvalidQuantity: (422) no note, a part not on the stocktake, a bad quantity.
    """
    stocktake = load_stocktake(session, stocktake_id, for_update=True)
    require(may_manage(who, stocktake), _("Only an admin of the warehouse's organization decides a count."))
    TRANSITIONS.check("resolve", stocktake.status, stocktake.reference_number)
    if not (note or "").strip():
        raise RuleViolation(_("A decision on a count needs a note saying why."))
    line = _line_for(stocktake, {ln.part_id: ln for ln in stocktake.lines}, part_id)
    line.agreed_quantity = counted_quantity(agreed_quantity, line.part, _("Agreed quantity of "
                                                                          "%(part_number)s",
                                                                          part_number=line.part.part_number))
    line.book_quantity = _balances(session, stocktake.warehouse_id, [line.part_id]).get(line.part_id, ZERO)
    line.resolution_note, line.resolved_by_user_id, line.resolved_at = note.strip(), who.user.id, now()
    return line


@command
def complete_stocktake(session, who: Who, stocktake_id) -> m.Stocktake:
    """Compute every line's variance; post the corrections unless a line needs approval.

    Variance = agreed count - book quantity at that count (part's unit); value =
    unit price x variance (price currency).  A line over the thresholds
    (:func:`thresholds`, :func:`over_threshold`) needs approval: state
    ``awaiting_approval``; otherwise the corrections post (:func:`_post`) and
    the state is ``completed``.

    :raises OutOfScope: (404); :raises Forbidden: (403) not an admin of its organization;
    :raises IllegalTransition: (409) not counting, or a line not counted or in recount.
    :raises InsufficientStock: (422) a correction would take a balance below zero.
    """
    stocktake = load_stocktake(session, stocktake_id, for_update=True)
    require(may_manage(who, stocktake), _("Only an admin of the warehouse's organization completes a "
                                          "stocktake."))
    TRANSITIONS.check("complete", stocktake.status, stocktake.reference_number)
    lines = _figures(session, stocktake.id)
    open_lines = [(line, a) for line in lines if not (a := agreement(line)).is_agreed]
    if open_lines:
        names = ", ".join(f"{line.part.part_number} ({a.state})" for line, a in open_lines[:5])
        more = f" and {len(open_lines) - 5} more" if len(open_lines) > 5 else ""
        raise IllegalTransition(_("Cannot complete stocktake %(reference_number)s: %(count)s line(s) "
                                  "have no agreed count: %(names)s%(more)s.",
                                  reference_number=stocktake.reference_number, count=len(open_lines),
                                  names=names, more=more))
    with system():
        percent, limit = thresholds(session.get(m.Organization, stocktake.organization_id))
    stocktake.threshold_percent, stocktake.threshold_value = percent, limit
    values = []
    for line in lines:
        a = agreement(line)
        line.agreed_quantity, line.book_quantity = a.agreed, a.book
        line.variance_quantity = a.agreed - a.book
        value = None if line.unit_price is None else (line.unit_price * line.variance_quantity).quantize(CENT)
        values.append({"line_id": line.id, "agreed_quantity": a.agreed, "book_quantity": a.book,
                       "variance_quantity": line.variance_quantity, "unit_price": line.unit_price,
                       "variance_value": value,
                       "needs_approval": over_threshold(line.variance_quantity, a.book, value, percent, limit)})
    _update_lines(session, values)
    stocktake.completed_by_user_id, stocktake.completed_at = who.user.id, now()
    if any(v["needs_approval"] for v in values):
        TRANSITIONS.move(stocktake, "complete", S.awaiting_approval)
    else:
        TRANSITIONS.move(stocktake, "complete", S.completed)
        _post(session, who, stocktake, lines)
    return stocktake


@command
def approve_stocktake(session, who: Who, stocktake_id) -> m.Stocktake:
    """Approve the variances over the threshold and post every correction, exactly once.

    :raises OutOfScope: (404); :raises Forbidden: (403) not an admin of its organization;
    :raises IllegalTransition: (409) not awaiting approval (e.g. approved already);
    :raises RuleViolation: (422) the approver counted a line of this stocktake.
    :raises InsufficientStock: (422) a correction would take a balance below zero.
    """
    stocktake = load_stocktake(session, stocktake_id, for_update=True)
    require(may_manage(who, stocktake), _("Only an admin of the warehouse's organization approves a "
                                          "stocktake."))
    TRANSITIONS.check("approve", stocktake.status, stocktake.reference_number)
    if counted_any(who, stocktake):
        raise RuleViolation(_("An admin who counted this stocktake does not approve it: another admin "
                              "approves."))
    TRANSITIONS.move(stocktake, "approve", S.completed)
    stocktake.approved_by_user_id, stocktake.approved_at = who.user.id, now()
    _post(session, who, stocktake, _figures(session, stocktake.id))
    return stocktake


@command
def cancel_stocktake(session, who: Who, stocktake_id) -> m.Stocktake:
    """Cancel a stocktake before completion; nothing is posted.

    :raises OutOfScope: (404); :raises Forbidden: (403); :raises IllegalTransition: (409) completed or cancelled.
    """
    stocktake = load_stocktake(session, stocktake_id, for_update=True)
    require(may_manage(who, stocktake), _("Only an admin of the warehouse's organization cancels a stocktake."))
    TRANSITIONS.move(stocktake, "cancel", S.cancelled)
    stocktake.cancelled_by_user_id, stocktake.cancelled_at = who.user.id, now()
    return stocktake


def _post(session, who: Who, stocktake: m.Stocktake, lines: list[LineFigures]) -> None:
    """One ``stocktake`` adjustment per line with a variance, in the command's transaction.

    A stock record missing for a line's part is created first (at zero); the
    adjustments go through the bulk posting path (:func:`app.rules.bulk.post_batch`:
    the ledger's rules, a few statements whatever the number of lines), then
    the lines are linked to them with one ``executemany``.
    """
    changing = [line for line in lines if line.variance_quantity]
    if not changing:
        return
    inv = m.Inventory
    with system():
        records = {r.part_id: r for r in session.execute(sa.select(inv).where(
            inv.warehouse_id == stocktake.warehouse_id,
            inv.part_id.in_([line.part_id for line in changing]))).scalars()}
        missing = [inv(warehouse_id=stocktake.warehouse_id, part_id=line.part_id)
                   for line in changing if line.part_id not in records]
        if missing:
            session.add_all(missing)
            flush_checked(session)
            records.update({r.part_id: r for r in missing})
    flush_checked(session)  # the stocktake's own changes first (its state, the lines' figures)
    when = now()
    adjustments = [mark_workflow_posting(m.StockAdjustment(
        inventory_id=records[line.part_id].id, user_id=who.user.id, adjustment_date=when,
        quantity_adjusted=line.variance_quantity, reason_code=REASON,
        notes=(f"{stocktake.reference_number} line {line.line_number}: counted {line.agreed_quantity}, "
               f"book {line.book_quantity}"))) for line in changing]
    post_batch(session, adjustments)
    _update_lines(session, [{"line_id": line.id, "stock_adjustment_id": adjustment.id}
                            for line, adjustment in zip(changing, adjustments)])


# --- the report ---------------------------------------------------------------

@dataclass
class ReportLine:
    """One line as the report shows it (quantities in the part's unit, value in price currency).

    ``counts``: ``{user id: StocktakeCount}``.  ``movements``: the net postings
    between the snapshot and the agreed count (book at that count - snapshot).
    ``variance``/``value``: as stored at completion, else a preview from the agreed count.
    """

    line: m.StocktakeLine
    part: m.Part
    counts: dict
    agreement: Agreement
    movements: D | None
    variance: D | None
    value: D | None
    #: Who accepted the line's variance (:func:`accepted_by`), once the stocktake is completed.
    accepted_by: str | None = None


@dataclass
class Report:
    """A stocktake's lines with their figures, who counted, and the totals."""

    lines: list[ReportLine]
    counters: dict
    names: dict

    @property
    def agreed(self) -> int:
        return sum(1 for r in self.lines if r.agreement.is_agreed)

    @property
    def total_value(self) -> D:
        return sum((r.value for r in self.lines if r.value is not None), ZERO)

    @property
    def with_variance(self) -> int:
        return sum(1 for r in self.lines if r.variance)

    @property
    def needing_approval(self) -> int:
        return sum(1 for r in self.lines if r.line.needs_approval)


def report(session, stocktake: m.Stocktake) -> Report:
    """Every line of ``stocktake`` with its counts, agreement, movements and variance (three queries).

    Whether the reader may see the book figures is the caller's question (:func:`may_see_book`).
    """
    rows = []
    for line in _load_lines(session, stocktake):
        a = agreement(line)
        variance = line.variance_quantity
        if variance is None and a.is_agreed:
            variance = a.agreed - a.book
        value = line.variance_value
        if value is None and variance is not None and line.part.unit_price is not None:
            value = (line.part.unit_price * variance).quantize(CENT)
        movements = (a.book - line.snapshot_quantity
                     if a.book is not None and line.snapshot_quantity is not None else None)
        rows.append(ReportLine(line, line.part, {c.counted_by_user_id: c for c in line.counts}, a, movements,
                               variance, value))
    with system():
        user_ids = {c.user_id for c in stocktake.counters} | {uid for r in rows for uid in r.counts} | {
            stocktake.completed_by_user_id, stocktake.approved_by_user_id} - {None}
        people = session.execute(sa.select(m.PortalUser).where(m.PortalUser.id.in_(user_ids))).scalars().all()
    names = {u.id: f"{u.first_name} {u.last_name}".strip() or u.username for u in people}
    counters = {c.user_id: names.get(c.user_id, str(c.user_id)) for c in stocktake.counters}
    for row in rows:
        row.accepted_by = accepted_by(stocktake, row.line, names)
    return Report(rows, counters, names)


def accepted_by(stocktake: m.Stocktake, line: m.StocktakeLine, names: dict) -> str | None:
    """Who accepted ``line``'s variance: the approving admin for a line over the thresholds,
    the completing admin for one under them; ``None`` before completion or without a variance.

    :param names: ``{user id: display name}``.
    """
    if not line.variance_quantity or stocktake.status not in (S.awaiting_approval, S.completed):
        return None
    if line.needs_approval:
        if stocktake.approved_by_user_id is None:
            return "awaiting approval"
        return f"{names.get(stocktake.approved_by_user_id)} (approved over the threshold)"
    return f"{names.get(stocktake.completed_by_user_id)} (under the threshold)"
