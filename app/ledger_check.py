"""Verifying the books: every balance against the sum of its posted ledger rows, and
the stock in transit against the stock transfers it belongs to (issue 8)."""
from __future__ import annotations

import decimal
import json
from dataclasses import dataclass

import sqlalchemy as sa

from . import models as m
from .models.types import utcnow
from .scoping import system


@dataclass(frozen=True)
class Mismatch:
    """A balance that differs from its ledger sum (quantities in the part's unit)."""

    warehouse_id: object
    part_id: object
    warehouse: str
    part: str
    balance: decimal.Decimal
    ledger_sum: decimal.Decimal


@dataclass(frozen=True)
class TransitMismatch:
    """A transit location's balance of a part that differs from what its transfers have in
    transit (quantities in the part's unit)."""

    warehouse_id: object
    part_id: object
    warehouse: str
    part: str
    balance: decimal.Decimal
    in_transit: decimal.Decimal


@dataclass(frozen=True)
class NegativeTransit:
    """A transfer line whose ledger rows take more out of transit than they put in."""

    transfer_id: object
    reference: str
    part: str
    in_transit: decimal.Decimal


def posted_filter():
    """SQL criterion of a posted transaction: no approval needed, or approved."""
    t = m.Transaction
    return sa.or_(t.requires_approval.is_(False), t.approval_status == m.ApprovalStatus.approved.value)


def ledger_sums(session):
    """``{(warehouse_id, part_id): sum}`` of every posted movement."""
    t = m.Transaction.__table__.c
    posted = posted_filter()
    incoming = sa.select(t.to_warehouse_id.label("w"), t.part_id.label("p"), t.quantity.label("q")).where(
        t.to_warehouse_id.is_not(None), posted
    )
    outgoing = sa.select(t.from_warehouse_id.label("w"), t.part_id.label("p"), (-t.quantity).label("q")).where(
        t.from_warehouse_id.is_not(None), posted
    )
    moves = sa.union_all(incoming, outgoing).subquery()
    rows = session.execute(sa.select(moves.c.w, moves.c.p, sa.func.sum(moves.c.q)).group_by(moves.c.w, moves.c.p))
    return {(w, p): decimal.Decimal(q) for w, p, q in rows}


def verify_balances(session) -> list[Mismatch]:
    """Recompute every balance from the ledger.

    :returns: the mismatches (empty when the books agree), each with warehouse,
        part, balance and ledger sum.
    """
    with system():
        sums = ledger_sums(session)
        inv = m.Inventory.__table__.c
        balances = {(w, p): decimal.Decimal(q) for w, p, q in
                    session.execute(sa.select(inv.warehouse_id, inv.part_id, inv.current_stock))}
        keys = set(sums) | set(balances)
        wrong = [k for k in keys if sums.get(k, decimal.Decimal(0)) != balances.get(k, decimal.Decimal(0))]
        out = []
        for warehouse_id, part_id in sorted(wrong, key=lambda k: (str(k[0]), str(k[1]))):
            out.append(Mismatch(
                warehouse_id, part_id,
                str(session.get(m.Warehouse, warehouse_id)),
                session.get(m.Part, part_id).part_number,
                balances.get((warehouse_id, part_id), decimal.Decimal(0)),
                sums.get((warehouse_id, part_id), decimal.Decimal(0)),
            ))
        return out


def _in_transit_per_line():
    """``SELECT transfer, transit location, part, in transit`` of every transfer line with ledger rows.

    The SQL form of :func:`app.workflows.transfers.line_figures` (``in_transit`` =
    dispatched - received - returned - written off), one aggregate over the
    ledger rows linked to transfers: a dispatch (source warehouse -> the source
    organization's transit location) adds, a receipt (transit -> destination),
    a return (transit -> source) and an approved write-off (an adjustment) take
    away; a transfer in one step (source -> destination) never passes transit.

    :returns: a subquery with columns ``transfer_id``, ``reference``,
        ``transit_id`` (``NULL`` when the organization has no transit location),
        ``part_id`` and ``in_transit`` (in the part's unit).
    """
    t = m.Transaction.__table__.c
    st = m.StockTransfer.__table__.c
    transit = m.Warehouse.__table__.alias("transit")
    written_off = sa.and_(
        t.transaction_type == m.TransactionType.adjustment,
        sa.or_(t.requires_approval.is_(False), t.approval_status == m.ApprovalStatus.approved.value),
    )
    not_adjustment = t.transaction_type != m.TransactionType.adjustment
    into = sa.and_(not_adjustment, t.from_warehouse_id == st.from_warehouse_id, t.to_warehouse_id == transit.c.id)
    out_of = sa.and_(not_adjustment, t.from_warehouse_id == transit.c.id,
                     t.to_warehouse_id.in_([st.to_warehouse_id, st.from_warehouse_id]))
    movement = sa.case((into, t.quantity), (out_of, -t.quantity), (written_off, -t.quantity),
                       else_=sa.cast(0, t.quantity.type))
    return (
        sa.select(st.id.label("transfer_id"), st.reference_number.label("reference"),
                  transit.c.id.label("transit_id"), t.part_id.label("part_id"),
                  sa.func.sum(movement).label("in_transit"))
        .select_from(m.Transaction.__table__.join(m.StockTransfer.__table__, t.stock_transfer_id == st.id).outerjoin(
            transit, sa.and_(transit.c.organization_id == st.source_organization_id, transit.c.is_transit.is_(True))))
        .group_by(st.id, st.reference_number, transit.c.id, t.part_id)
        .subquery("line_transit")
    )


def verify_transit(session) -> tuple[list[NegativeTransit], list[TransitMismatch]]:
    """Check the stock in transit against the transfers it belongs to.

    - every transfer line has zero or more in transit (never less);
    - per (transit location, part), the sum over transfers of what is in transit
      equals the transit location's balance (a balance with no transfer behind it,
      or transfers whose stock is not in the balance, is a mismatch).

    Two aggregate queries (and one for the balances), whatever the number of transfers.

    :returns: ``(negative lines, mismatches)``, both empty when transit agrees;
        quantities in the part's unit of measure.
    """
    zero = decimal.Decimal(0)
    with system():
        lines = _in_transit_per_line()
        negative = [
            NegativeTransit(transfer_id, reference, part, decimal.Decimal(qty))
            for transfer_id, reference, part, qty in session.execute(
                sa.select(lines.c.transfer_id, lines.c.reference, m.Part.__table__.c.part_number, lines.c.in_transit)
                .join(m.Part.__table__, m.Part.__table__.c.id == lines.c.part_id)
                .where(lines.c.in_transit < 0)
                .order_by(lines.c.reference, m.Part.__table__.c.part_number))
        ]
        per_location = {
            (w, p): decimal.Decimal(q) for w, p, q in session.execute(
                sa.select(lines.c.transit_id, lines.c.part_id, sa.func.sum(lines.c.in_transit))
                .where(lines.c.transit_id.is_not(None))
                .group_by(lines.c.transit_id, lines.c.part_id))
        }
        inv, wh = m.Inventory.__table__.c, m.Warehouse.__table__.c
        balances = {(w, p): decimal.Decimal(q) for w, p, q in session.execute(
            sa.select(inv.warehouse_id, inv.part_id, inv.current_stock)
            .join(m.Warehouse.__table__, wh.id == inv.warehouse_id).where(wh.is_transit.is_(True)))}
        wrong = [k for k in set(per_location) | set(balances) if per_location.get(k, zero) != balances.get(k, zero)]
        mismatches = [
            TransitMismatch(w, p, str(session.get(m.Warehouse, w)), session.get(m.Part, p).part_number,
                            balances.get((w, p), zero), per_location.get((w, p), zero))
            for w, p in sorted(wrong, key=lambda k: (str(k[0]), str(k[1])))
        ]
        return negative, mismatches


def repair_balances(session, mismatches: list[Mismatch], allow_negative: bool = False) -> list[Mismatch]:
    """Set each mismatched balance to its ledger sum and record the change; commits.

    A ledger sum below zero is left alone unless ``allow_negative`` (``ALLOW_NEGATIVE_STOCK``):
    no balance goes below zero (on PostgreSQL the database refuses it, migration 0015),
    and such a sum means the ledger itself needs a correction.

    The record is a ``security_events`` row of type ``ledger_repair`` whose
    details list every (warehouse, part, old balance, new balance).  On PostgreSQL
    the database does both (``abparts_repair_balances``, migration 0015): the portal's
    role may not rewrite a balance by itself, and the function sets balances only to
    their ledger sums and always records them.  A missing stock record is created
    first (at zero, as every new one).

    :returns: the mismatches left alone (negative ledger sums), empty when every one was repaired.
    """
    left = [row for row in mismatches if row.ledger_sum < 0 and not allow_negative]
    mismatches = [row for row in mismatches if row not in left]
    if not mismatches:
        return left
    with system():
        inv = m.Inventory.__table__
        existing = set(session.execute(sa.select(inv.c.warehouse_id, inv.c.part_id).where(sa.tuple_(
            inv.c.warehouse_id, inv.c.part_id).in_([(r.warehouse_id, r.part_id) for r in mismatches]))).all()) \
            if mismatches else set()
        for row in mismatches:
            if (row.warehouse_id, row.part_id) not in existing:
                part = session.get(m.Part, row.part_id)
                session.add(m.Inventory(warehouse_id=row.warehouse_id, part_id=row.part_id,
                                        unit_of_measure=part.unit_of_measure))
        session.flush()
        if session.get_bind().dialect.name == "postgresql":
            balances = [{"warehouse_id": str(r.warehouse_id), "part_id": str(r.part_id), "warehouse": r.warehouse,
                         "part": r.part} for r in mismatches]
            session.execute(sa.select(sa.func.abparts_repair_balances(sa.bindparam("balances", balances, sa.JSON))))
            session.commit()
            return left
        now = utcnow()
        for row in mismatches:
            session.execute(
                sa.update(inv)
                .where(inv.c.warehouse_id == row.warehouse_id, inv.c.part_id == row.part_id)
                .values(current_stock=row.ledger_sum, last_updated=now)
            )
        details = [
            {"warehouse": row.warehouse, "part": row.part, "old_balance": str(row.balance),
             "new_balance": str(row.ledger_sum)}
            for row in mismatches
        ]
        session.add(m.SecurityEvent(event_type="ledger_repair", risk_level="high",
                                    details=json.dumps(details)))
        session.commit()
    return left


def record_check(session, mismatches: list, negative: list, transit: list, user_id: int | None = None,
                 source: str = "command") -> dict:
    """Record one run of the ledger check (issue 11, the auditors' dashboard): a security event
    ``ledger_check`` with who (``user_id``; none from the command line), when (its timestamp) and
    the result, in the session's transaction (the caller commits).

    :param mismatches: :func:`verify_balances`' result; ``negative``, ``transit``: :func:`verify_transit`'s.
    :param source: ``dashboard`` or ``command``.
    :returns: the recorded details: ``agree`` (bool), ``balance_mismatches``, ``transit_problems``, ``source``.
    """
    from .security import events

    details = {"agree": not (mismatches or negative or transit), "balance_mismatches": len(mismatches),
               "transit_problems": len(negative) + len(transit), "source": source}
    events.record(events.LEDGER_CHECK, user_id, "low" if details["agree"] else "high", executor=session, **details)
    return details


def check_and_record(session, user_id: int | None, source: str = "dashboard") -> dict:
    """Run :func:`verify_balances` and :func:`verify_transit` over the whole database and
    :func:`record_check` the result (not committed).

    :returns: :func:`record_check`'s details.
    """
    negative, transit = verify_transit(session)
    return record_check(session, verify_balances(session), negative, transit, user_id, source)
