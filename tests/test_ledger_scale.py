"""The ledger's scope criteria: the right rows, and no reading of the ledger per posting.

Issue 3 ("Performance"): posting cost must not grow with the size of the
ledger.  The timings are in ``tests/benchmarks/bench_posting.py``; here the
structure that keeps them flat is checked:

- every statement a posting runs reaches ``transactions`` by primary key only
  (a subquery over the organization's ledger rows in the after-flush scope
  check made each posting read all of them: 20 ms at 7,500 rows, 280 ms at
  750,000 on SQLite);
- the transaction and approval scope rules still show an organization only
  its own rows.
"""
from __future__ import annotations

import datetime as dt
import decimal
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from app import models as m
from app.extensions import db
from app.scoping import acting_as, actor_for

from .conftest import get_one

D = decimal.Decimal
T = m.TransactionType


def statements_of(action) -> list[tuple[str, object]]:
    """The SQL statements (with parameters) ``action()`` runs on the app's engine."""
    captured: list = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return captured


def fill_ledger(warehouse_id, part_id, user_id, rows: int) -> None:
    """Bulk-insert ``rows`` creations and consumptions of one balance (net zero, no hooks)."""
    now = dt.datetime.now(dt.timezone.utc)
    t = m.Transaction.__table__
    base = {"part_id": part_id, "quantity": D(1), "unit_of_measure": "pieces", "performed_by_user_id": user_id,
            "transaction_date": now, "requires_approval": False, "created_at": now}
    db.session.execute(sa.insert(t), [
        {**base, "id": uuid.uuid4(),
         "transaction_type": T.creation if i % 2 == 0 else T.consumption,
         "to_warehouse_id": warehouse_id if i % 2 == 0 else None,
         "from_warehouse_id": None if i % 2 == 0 else warehouse_id}
        for i in range(rows)
    ])
    db.session.commit()


def test_a_posting_reaches_the_ledger_by_primary_key_only(ctx, engine_name, config):
    """SQLite's planner shows, without statistics, which index each statement uses."""
    if engine_name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL plans depend on table statistics")
    # The yearly cap counts this year's rows by date: bounded by the cap itself, not the ledger.
    config["LIMIT_TRANSACTIONS_PER_YEAR"] = None
    acme_main = get_one(m.Warehouse, name="Acme Main")
    con = get_one(m.Part, part_number="CON-1")
    user = get_one(m.PortalUser, username="acme.admin")
    ids = acme_main.id, con.id, user.id
    fill_ledger(*ids, rows=400)
    who = actor_for(user)

    def consume():
        with acting_as(who):
            db.session.add(m.Transaction(transaction_type=T.consumption, part_id=ids[1], quantity=D(1),
                                         from_warehouse_id=ids[0]))
            db.session.commit()

    statements = statements_of(consume)
    assert any(s.lstrip().upper().startswith("SELECT TRANSACTIONS.ID") for s, _ in statements), \
        "the after-flush scope check should have run"
    for statement, parameters in statements:
        if "transactions" not in statement or statement.lstrip().upper().startswith("INSERT"):
            continue
        plan = [row[-1] for row in db.session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters).all()]
        ledger_reads = [line for line in plan if " transactions " in f" {line} "]
        assert ledger_reads, (statement, plan)
        for line in ledger_reads:
            assert "sqlite_autoindex_transactions_1 (id=?)" in line, \
                f"a posting reads the ledger beyond its own row:\n{statement}\n{plan}"
    db.session.rollback()


RECORDED_BY = {"Acme Main": "acme.admin", "Beta Main": "beta.admin"}


def test_the_ledger_scope_shows_an_organization_only_its_own_transactions_and_approvals(ctx):
    superadmin = get_one(m.PortalUser, username="superadmin")
    acme_admin = actor_for(get_one(m.PortalUser, username="acme.admin"))
    acme = get_one(m.Organization, name="Acme Aqua")
    acme_warehouses = set(db.session.execute(
        sa.select(m.Warehouse.id).where(m.Warehouse.organization_id == acme.id)).scalars())
    main_ids = {name: get_one(m.Warehouse, name=name).id for name in ("Acme Main", "Beta Main")}
    con_id = get_one(m.Part, part_number="CON-1").id
    pending = {}
    # Each organization's admin records its creation and the Super Admin approves both: an
    # approver is never the performer, not even a Super Admin (issue 8).
    for name, warehouse_id in main_ids.items():
        with acting_as(get_one(m.PortalUser, username=RECORDED_BY[name])):
            pending[name] = m.Transaction(transaction_type=T.creation, part_id=con_id, quantity=D(2),
                                          to_warehouse_id=warehouse_id, requires_approval=True)
            db.session.add(pending[name])
            db.session.commit()
    with acting_as(superadmin):
        for txn in pending.values():
            db.session.add(m.TransactionApproval(transaction_id=txn.id, status=m.ApprovalStatus.approved))
        db.session.commit()
    acme_txn, beta_txn = pending["Acme Main"].id, pending["Beta Main"].id
    everything = db.session.execute(
        sa.select(m.Transaction.id, m.Transaction.from_warehouse_id, m.Transaction.to_warehouse_id)).all()
    acmes = {t.id for t in everything if {t.from_warehouse_id, t.to_warehouse_id} & acme_warehouses}
    db.session.expunge_all()

    with acting_as(acme_admin):
        approvals = db.session.execute(sa.select(m.TransactionApproval)).scalars().all()
        transactions = set(db.session.execute(sa.select(m.Transaction.id)).scalars())
        # Through a relationship too: the approval's transaction is scoped like the approval.
        approved = {a.transaction.id for a in approvals}
    assert [a.transaction_id for a in approvals] == [acme_txn]
    assert approved == {acme_txn}
    assert acme_txn in transactions and beta_txn not in transactions
    assert len(everything) > len(acmes) > 1
    assert transactions == acmes, "every movement in or out of Acme's warehouses, and nothing else"
