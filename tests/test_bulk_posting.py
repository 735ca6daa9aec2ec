"""The bulk posting path (issue 15): the same ledger as one-by-one posting, the same rules.

:func:`app.rules.bulk.post_batch` writes many records in a few statements.  It
must give exactly the ledger rows, usage and adjustment rows and balances that
posting the same records one by one through the session hooks gives, and
refuse what the hooks refuse, writing nothing: above all a batch whose net
change is fine but whose *running* balance would dip below zero on the way.

Base data (``tests/factories.py``): Central (Oraseas EE) 85 CON-1 and 50 litres
of BULK-1, Acme Main 10 CON-1, Beta Main 5 CON-1, Acme Site nothing.
"""
from __future__ import annotations

import datetime as dt
import decimal
import random
import re

import pytest
import sqlalchemy as sa

from app import models as m
from app.errors import InsufficientStock, InvalidQuantity, LimitReached, OutOfScope, RuleViolation, flush_checked
from app.extensions import db
from app.ledger_check import verify_balances
from app.rules.bulk import post_batch
from app.rules.ledger import reversal_of
from app.scoping import acting_as, actor_for, system

from .conftest import get_one

D = decimal.Decimal
T = m.TransactionType


def _ids():
    with system():
        wh = {w.name: w.id for w in db.session.execute(sa.select(m.Warehouse)).scalars()}
        return {
            "central": wh["Central"], "acme_main": wh["Acme Main"], "acme_site": wh["Acme Site"],
            "beta_main": wh["Beta Main"],
            "con": get_one(m.Part, part_number="CON-1").id, "bulk": get_one(m.Part, part_number="BULK-1").id,
            "acme_machine": get_one(m.Machine, serial_number="SN-ACME-1").id,
            **{name: get_one(m.PortalUser, username=name) for name in
               ("superadmin", "oraseas.admin", "acme.admin", "acme.user", "beta.admin", "auditor")},
        }


def _acme_inventory(ids, part):
    with system():
        return get_one(m.Inventory, warehouse_id=ids["acme_main"], part_id=ids[part]).id


def mixed_records(ids, seed=7, count=120) -> list:
    """Fresh unsaved records of Acme Aqua's admin, the same for the same seed: goods received
    into Acme Main and Acme Site, part usage on its machine, adjustments both ways and transfers
    between its two warehouses, each possible at its point in the sequence."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    admin = ids["acme.admin"]
    held = {(ids["acme_main"], ids["con"]): D(10)}
    inventory_con = _acme_inventory(ids, "con")
    out = []
    for i in range(count):
        when = start + dt.timedelta(hours=i)
        roll = rng.random()
        main_con = held.get((ids["acme_main"], ids["con"]), D(0))
        site_bulk = held.get((ids["acme_site"], ids["bulk"]), D(0))
        if roll < 0.3 or main_con < 3:
            part, dest = rng.choice([("con", "acme_main"), ("bulk", "acme_site")])
            qty = D(rng.randint(1, 9)) if part == "con" else D(rng.randint(1000, 9000)) / 1000
            out.append(m.Transaction(transaction_type=T.creation, part_id=ids[part], to_warehouse_id=ids[dest],
                                     quantity=qty, performed_by_user_id=admin.id, transaction_date=when,
                                     reference_number=f"GRN-{i}", notes="Goods received"))
            held[(ids[dest], ids[part])] = held.get((ids[dest], ids[part]), D(0)) + qty
        elif roll < 0.65:
            qty = D(rng.randint(1, 2))
            out.append(m.PartUsage(part_id=ids["con"], warehouse_id=ids["acme_main"], machine_id=ids["acme_machine"],
                                   quantity=qty, usage_date=when, recorded_by_user_id=admin.id, notes="Service"))
            held[(ids["acme_main"], ids["con"])] = main_con - qty
        elif roll < 0.8:
            qty = D(rng.choice([-1, 1, 2]))
            out.append(m.StockAdjustment(inventory_id=inventory_con, user_id=admin.id, quantity_adjusted=qty,
                                         reason_code="count difference", adjustment_date=when, notes="Recount"))
            held[(ids["acme_main"], ids["con"])] = main_con + qty
        elif site_bulk > 1:
            qty = D(rng.randint(100, 900)) / 1000
            out.append(m.Transaction(transaction_type=T.transfer, part_id=ids["bulk"],
                                     from_warehouse_id=ids["acme_site"], to_warehouse_id=ids["acme_main"],
                                     quantity=qty, performed_by_user_id=admin.id, transaction_date=when))
            held[(ids["acme_site"], ids["bulk"])] = site_bulk - qty
            held[(ids["acme_main"], ids["bulk"])] = held.get((ids["acme_main"], ids["bulk"]), D(0)) + qty
    return out


def snapshot() -> dict:
    """The books by business data (ids of derived rows differ between runs)."""
    t, u, a, inv = (m.Transaction.__table__.c, m.PartUsage.__table__.c, m.StockAdjustment.__table__.c,
                    m.Inventory.__table__.c)
    with system():
        s = db.session
        ledger = sorted(tuple(map(str, row)) for row in s.execute(sa.select(
            t.transaction_type, t.part_id, t.from_warehouse_id, t.to_warehouse_id, t.machine_id, t.quantity,
            t.unit_of_measure, t.performed_by_user_id, t.transaction_date, t.notes, t.reference_number,
            t.requires_approval, t.approval_status)).all())
        usage = sorted(tuple(map(str, row)) for row in s.execute(sa.select(
            u.customer_organization_id, u.part_id, u.usage_date, u.quantity, u.machine_id, u.recorded_by_user_id,
            u.warehouse_id, u.notes, t.transaction_date).join(m.Transaction.__table__, t.id == u.transaction_id)).all())
        adjustments = sorted(tuple(map(str, row)) for row in s.execute(sa.select(
            a.inventory_id, a.user_id, a.adjustment_date, a.quantity_adjusted, a.reason_code, a.notes,
            t.quantity, t.from_warehouse_id).join(m.Transaction.__table__, t.id == a.transaction_id)).all())
        balances = {(str(w), str(p)): q for w, p, q in s.execute(
            sa.select(inv.warehouse_id, inv.part_id, inv.current_stock)).all()}
    return {"ledger": ledger, "usage": usage, "adjustments": adjustments, "balances": balances}


def test_bulk_and_one_by_one_give_the_same_books(ctx):
    ids = _ids()
    before = snapshot()
    with acting_as(actor_for(ids["acme.admin"])):
        for record in mixed_records(ids):
            db.session.add(record)
            flush_checked(db.session)
    one_by_one = snapshot()
    db.session.rollback()
    assert snapshot() == before
    with acting_as(actor_for(ids["acme.admin"])):
        written = post_batch(db.session, mixed_records(ids))
    bulk = snapshot()
    assert len(written) == 120
    assert len(bulk["ledger"]) == len(before["ledger"]) + 120
    assert len(bulk["usage"]) > 20 and len(bulk["adjustments"]) > 10
    assert bulk == one_by_one
    assert verify_balances(db.session) == []
    db.session.commit()
    assert verify_balances(db.session) == []


def test_a_running_balance_below_zero_refuses_the_whole_batch(ctx):
    """Acme Main holds 10 CON-1: using 15 and then receiving 10 ends at 5, but dips to -5 on the way."""
    ids = _ids()
    before = snapshot()
    batch = [
        m.Transaction(transaction_type=T.creation, part_id=ids["bulk"], to_warehouse_id=ids["acme_site"],
                      quantity=D("2.5"), performed_by_user_id=ids["acme.admin"].id),
        m.PartUsage(part_id=ids["con"], warehouse_id=ids["acme_main"], quantity=D(15), machine_id=ids["acme_machine"]),
        m.Transaction(transaction_type=T.creation, part_id=ids["con"], to_warehouse_id=ids["acme_main"],
                      quantity=D(10), performed_by_user_id=ids["acme.admin"].id),
    ]
    with acting_as(actor_for(ids["acme.admin"])), pytest.raises(InsufficientStock) as refused:
        post_batch(db.session, batch)
    assert "Not enough stock of CON-1 in" in str(refused.value)
    assert re.search(r"10(\.0+)? pieces on hand, 15 needed \(line 2 of the batch\)", str(refused.value))
    db.session.rollback()
    assert snapshot() == before
    # in the other order the running balance never dips: the batch posts
    with acting_as(actor_for(ids["acme.admin"])):
        post_batch(db.session, [
            m.Transaction(transaction_type=T.creation, part_id=ids["con"], to_warehouse_id=ids["acme_main"],
                          quantity=D(10)),
            m.PartUsage(part_id=ids["con"], warehouse_id=ids["acme_main"], quantity=D(15))])
    db.session.commit()
    assert snapshot()["balances"][(str(ids["acme_main"]), str(ids["con"]))] == D(5)


@pytest.mark.parametrize("case, error, message", [
    ("fraction", InvalidQuantity, "CON-1 is a consumable counted in whole pieces; 1.5 is not a whole number."),
    ("unit", RuleViolation, "The unit of measure must be the part's (pieces), not litres."),
    ("other organization", OutOfScope, "You may move stock only out of your own organization's warehouses"),
    ("cross-organization transfer", RuleViolation, "Transfers between organizations go through dispatch and receipt"),
    ("reversal", RuleViolation, "A reversal is recorded on its own, not in a batch of postings."),
    ("auditor", OutOfScope, "Auditors read and export; they change nothing."),
])
def test_a_rule_broken_by_one_record_refuses_the_batch(ctx, case, error, message):
    ids = _ids()
    before = snapshot()
    actor = ids["auditor"] if case == "auditor" else ids["acme.admin"]
    good = m.Transaction(transaction_type=T.creation, part_id=ids["con"], to_warehouse_id=ids["acme_site"],
                         quantity=D(3), performed_by_user_id=actor.id)
    bad = {
        "fraction": lambda: m.PartUsage(part_id=ids["con"], warehouse_id=ids["acme_main"], quantity=D("1.5")),
        "unit": lambda: m.Transaction(transaction_type=T.creation, part_id=ids["con"], quantity=D(1),
                                      to_warehouse_id=ids["acme_main"], unit_of_measure="litres"),
        "other organization": lambda: m.PartUsage(part_id=ids["con"], warehouse_id=ids["beta_main"], quantity=D(1)),
        "cross-organization transfer": lambda: m.Transaction(
            transaction_type=T.transfer, part_id=ids["con"], quantity=D(1), from_warehouse_id=ids["acme_main"],
            to_warehouse_id=ids["beta_main"]),
        "reversal": lambda: _reversal_of_a_posting(ids),
        "auditor": lambda: m.Transaction(transaction_type=T.creation, part_id=ids["con"], quantity=D(1),
                                         to_warehouse_id=ids["acme_main"]),
    }[case]()
    with acting_as(actor_for(actor)), pytest.raises(error) as refused:
        post_batch(db.session, [good, bad])
    assert message in str(refused.value)
    db.session.rollback()
    assert snapshot() == before


def _reversal_of_a_posting(ids):
    with system():
        original = db.session.execute(sa.select(m.Transaction).where(
            m.Transaction.to_warehouse_id == ids["central"])).scalars().first()
    return reversal_of(original, ids["oraseas.admin"].id)


def test_the_yearly_cap_counts_the_batch(ctx, config):
    ids = _ids()
    with system():
        this_year = db.session.execute(sa.select(sa.func.count()).select_from(m.Transaction)).scalar_one()
    config["LIMIT_TRANSACTIONS_PER_YEAR"] = this_year + 2
    records = [m.Transaction(transaction_type=T.creation, part_id=ids["con"], to_warehouse_id=ids["acme_site"],
                             quantity=D(1), performed_by_user_id=ids["acme.admin"].id) for _ in range(3)]
    with acting_as(actor_for(ids["acme.admin"])), pytest.raises(LimitReached, match="transactions a year"):
        post_batch(db.session, records)
    db.session.rollback()
    with acting_as(actor_for(ids["acme.admin"])):
        post_batch(db.session, records[:2])
    db.session.commit()
