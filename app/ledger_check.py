"""Verifying the books: every balance against the sum of its posted ledger rows."""
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


def repair_balances(session, mismatches: list[Mismatch]) -> None:
    """Set each mismatched balance to its ledger sum and record the change.

    The record is a ``security_events`` row of type ``ledger_repair`` whose
    details list every (warehouse, part, old balance, new balance).
    """
    with system():
        inv = m.Inventory.__table__
        now = utcnow()
        for row in mismatches:
            updated = session.execute(
                sa.update(inv)
                .where(inv.c.warehouse_id == row.warehouse_id, inv.c.part_id == row.part_id)
                .values(current_stock=row.ledger_sum, last_updated=now)
            ).rowcount
            if not updated:
                part = session.get(m.Part, row.part_id)
                session.add(m.Inventory(warehouse_id=row.warehouse_id, part_id=row.part_id,
                                        unit_of_measure=part.unit_of_measure))
                session.flush()
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
