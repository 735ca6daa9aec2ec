"""Verifying the books (issue 3): ``flask abparts verify-ledger`` and the demo data.

- On the base data every balance equals its ledger sum: exit status 0.
- A balance corrupted behind the application's back (raw SQL) is reported with
  warehouse, part, balance and ledger sum, and the exit status is 1.
- ``--repair`` rewrites the balances from the ledger, records what it changed
  as a ``ledger_repair`` security event, and verifying again finds nothing.
- Stock in transit (issue 8): every transfer line has zero or more in transit,
  and per (transit location, part) what the transfers have in transit is the
  transit location's balance; a tampered transit balance or ledger row is reported.
- ``seed-demo`` on an EMPTY migrated database (one per engine, built here)
  creates books that agree, checked both by the command and by an independent
  recomputation in this module, with stock transfers in every state.
"""
from __future__ import annotations

import decimal
import json
import re
from collections import defaultdict

import pytest
import sqlalchemy as sa

from app import models as m
from app.extensions import db
from app.scoping import acting_as, system
from app.workflows import transfers

from .conftest import as_owner, empty_database, get_one, make_config

D = decimal.Decimal
VERIFY = ["abparts", "verify-ledger"]


def independent_books():
    """``(balances, ledger sums)`` recomputed here from the rows, not by :mod:`app.ledger_check`.

    :returns: two dicts ``{(warehouse_id, part_id): Decimal}``; zero entries dropped.
    """
    sums: dict = defaultdict(D)
    with system():
        for t in db.session.execute(sa.select(m.Transaction)).scalars():
            if t.requires_approval and t.approval_status != "approved":
                continue
            if t.from_warehouse_id is not None:
                sums[(t.from_warehouse_id, t.part_id)] -= t.quantity
            if t.to_warehouse_id is not None:
                sums[(t.to_warehouse_id, t.part_id)] += t.quantity
        balances = {(i.warehouse_id, i.part_id): i.current_stock
                    for i in db.session.execute(sa.select(m.Inventory)).scalars()}
    return ({k: v for k, v in balances.items() if v}, {k: v for k, v in sums.items() if v})


def raw_stock(engine_name: str, value) -> str:
    """A quantity as the column stores it (SQLite keeps whole thousandths; see ``QuantityType``)."""
    return str(int(D(value) * 1000)) if engine_name == "sqlite" else str(value)


def corrupt(engine_name: str, warehouse: str, part: str, value) -> None:
    """Overwrite a balance with raw SQL, bypassing every hook."""
    db.session.execute(sa.text(
        f"UPDATE inventory SET current_stock = {raw_stock(engine_name, value)} "
        "WHERE warehouse_id = (SELECT id FROM warehouses WHERE name = :w) "
        "AND part_id = (SELECT id FROM parts WHERE part_number = :p)"), {"w": warehouse, "p": part})
    db.session.commit()


def drop_stock_record(warehouse: str, part: str) -> None:
    db.session.execute(sa.text(
        "DELETE FROM inventory WHERE warehouse_id = (SELECT id FROM warehouses WHERE name = :w) "
        "AND part_id = (SELECT id FROM parts WHERE part_number = :p)"), {"w": warehouse, "p": part})
    db.session.commit()


def transit_from_transfers() -> dict:
    """``{(transit location id, part_id): Decimal}`` in transit, recomputed here with
    :func:`app.workflows.transfers.line_figures`, one transfer at a time; zero entries dropped."""
    out: dict = defaultdict(D)
    with system():
        for transfer in db.session.execute(sa.select(m.StockTransfer)).scalars():
            transit = db.session.execute(sa.select(m.Warehouse.id).where(
                m.Warehouse.organization_id == transfer.source_organization_id,
                m.Warehouse.is_transit.is_(True))).scalar_one_or_none()
            for part_id, figures in transfers.line_figures(db.session, transfer).items():
                assert figures.in_transit >= 0, (transfer.reference_number, figures)
                out[(transit, part_id)] += figures.in_transit
    return {k: v for k, v in out.items() if v}


def transit_balances() -> dict:
    """``{(transit location id, part_id): Decimal}`` of the transit locations' balances; zeros dropped."""
    with system():
        rows = db.session.execute(sa.select(m.Inventory.warehouse_id, m.Inventory.part_id, m.Inventory.current_stock)
                                  .join(m.Warehouse, m.Warehouse.id == m.Inventory.warehouse_id)
                                  .where(m.Warehouse.is_transit.is_(True))).all()
    return {(w, p): q for w, p, q in rows if q}


def dispatch_to_acme(quantity=4) -> None:
    """Central -> Acme Main, ``quantity`` CON-1, dispatched by oraseas.admin and not received."""
    with acting_as(get_one(m.PortalUser, username="oraseas.admin")):
        transfer = transfers.create_transfer(get_one(m.Warehouse, name="Central").id,
                                             get_one(m.Warehouse, name="Acme Main").id,
                                             [(get_one(m.Part, part_number="CON-1").id, D(quantity))])
        transfers.dispatch_transfer(transfer.id)


def in_app(app, fn):
    with app.app_context():
        try:
            return fn()
        finally:
            db.session.remove()


def test_the_base_data_verifies_clean(app, runner):
    result = runner.invoke(args=VERIFY)
    assert result.exit_code == 0, result.output
    assert "Ledger and balances agree." in result.output
    assert "MISMATCH" not in result.output
    balances, sums = in_app(app, independent_books)
    assert balances == sums


def test_a_corrupted_balance_is_reported_with_warehouse_part_balance_and_ledger_sum(app, runner, engine_name):
    in_app(app, lambda: corrupt(engine_name, "Acme Main", "CON-1", 7))
    result = runner.invoke(args=VERIFY)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("MISMATCH")]
    assert len(lines) == 1, result.output
    assert re.fullmatch(r"MISMATCH warehouse=Acme Main \(Acme Aqua\) part=CON-1 balance=7(\.0+)? ledger=10(\.0+)?",
                        lines[0]), lines[0]
    assert "1 mismatch(es)" in result.output


def test_a_dispatched_transfer_verifies_clean(app, runner):
    in_app(app, dispatch_to_acme)
    result = runner.invoke(args=VERIFY)
    assert result.exit_code == 0, result.output
    assert "Ledger and balances agree." in result.output and "TRANSIT" not in result.output

    def check():
        con = get_one(m.Part, part_number="CON-1").id
        transit = get_one(m.Warehouse, is_transit=True).id
        assert transit_balances() == transit_from_transfers() == {(transit, con): D(4)}

    in_app(app, check)


def test_a_tampered_transit_balance_is_reported(app, runner, engine_name):
    def tamper():
        dispatch_to_acme()
        # Core UPDATE, behind every hook: 4 are in transit, the balance says 2
        corrupt(engine_name, "In transit", "CON-1", 2)

    in_app(app, tamper)
    result = runner.invoke(args=VERIFY)
    assert result.exit_code == 1, result.output
    assert re.search(r"^MISMATCH warehouse=In transit \(Oraseas EE\) part=CON-1 balance=2(\.0+)? ledger=4(\.0+)?$",
                     result.output, re.M), result.output
    lines = [line for line in result.output.splitlines() if line.startswith("TRANSIT")]
    assert len(lines) == 1, result.output
    assert re.fullmatch(r"TRANSIT MISMATCH transit=In transit \(Oraseas EE\) part=CON-1 balance=2(\.0+)? "
                        r"in_transit=4(\.0+)?", lines[0]), lines[0]
    assert "1 transit problem(s)" in result.output
    # --repair rewrites the balance from the ledger, which is what the transfer has in transit
    repaired = runner.invoke(args=[*VERIFY, "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert runner.invoke(args=VERIFY).exit_code == 0


def test_a_tampered_receipt_shows_a_line_taking_more_out_of_transit_than_it_put_in(app, runner, engine_name):
    def tamper():
        # the base data's receipt into Beta Main (5 CON-1) rewritten to 7 with a Core UPDATE
        beta_main = get_one(m.Warehouse, name="Beta Main").id
        receipt = get_one(m.Transaction, to_warehouse_id=beta_main)
        # As the tables' owner: the portal's role may not edit a ledger row (PostgreSQL, migration 0015).
        as_owner(f"UPDATE transactions SET quantity = {raw_stock(engine_name, 7)} WHERE id = :id",
                 {"id": receipt.id.hex if engine_name == "sqlite" else receipt.id})
        return get_one(m.StockTransfer, id=receipt.stock_transfer_id).reference_number

    reference = in_app(app, tamper)
    result = runner.invoke(args=VERIFY)
    assert result.exit_code == 1, result.output
    assert f"TRANSIT NEGATIVE transfer={reference} part=CON-1 in_transit=-2" in result.output, result.output
    assert re.search(r"^TRANSIT MISMATCH transit=In transit \(Oraseas EE\) part=CON-1 balance=0(\.0+)? "
                     r"in_transit=-2(\.0+)?$", result.output, re.M), result.output
    # a rewrite of balances cannot mend a ledger row: still reported, still exit 1
    repaired = runner.invoke(args=[*VERIFY, "--repair"])
    assert repaired.exit_code == 1 and "TRANSIT NEGATIVE" in repaired.output, repaired.output


def test_a_missing_stock_record_is_a_mismatch_too(app, runner):
    in_app(app, lambda: drop_stock_record("Beta Main", "CON-1"))
    result = runner.invoke(args=VERIFY)
    assert result.exit_code == 1, result.output
    assert re.search(r"MISMATCH warehouse=Beta Main \(Beta Fish\) part=CON-1 balance=0(\.0+)? ledger=5(\.0+)?",
                     result.output), result.output


def test_repair_rewrites_balances_from_the_ledger_and_records_the_change(app, runner, engine_name):
    def damage():
        corrupt(engine_name, "Acme Main", "CON-1", 7)
        corrupt(engine_name, "Central", "BULK-1", "49.5")
        drop_stock_record("Beta Main", "CON-1")

    in_app(app, damage)
    assert in_app(app, lambda: db.session.execute(
        sa.select(sa.func.count()).select_from(m.SecurityEvent)
        .where(m.SecurityEvent.event_type == "ledger_repair")).scalar_one()) == 0
    result = runner.invoke(args=[*VERIFY, "--repair"])
    assert result.exit_code == 0, result.output
    assert result.output.count("MISMATCH") == 3
    assert "Repaired 3 balance(s)" in result.output

    def check():
        with system():
            events = db.session.execute(sa.select(m.SecurityEvent)
                                        .where(m.SecurityEvent.event_type == "ledger_repair")).scalars().all()
        assert len(events) == 1
        details = {(d["warehouse"], d["part"]): (D(d["old_balance"]), D(d["new_balance"]))
                   for d in json.loads(events[0].details)}
        assert details == {
            ("Acme Main (Acme Aqua)", "CON-1"): (D(7), D(10)),
            ("Central (Oraseas EE)", "BULK-1"): (D("49.5"), D(50)),
            ("Beta Main (Beta Fish)", "CON-1"): (D(0), D(5)),
        }
        central = get_one(m.Warehouse, name="Central").id
        assert get_one(m.Inventory, warehouse_id=central,
                       part_id=get_one(m.Part, part_number="BULK-1").id).current_stock == D(50)
        beta = get_one(m.Inventory, warehouse_id=get_one(m.Warehouse, name="Beta Main").id,
                       part_id=get_one(m.Part, part_number="CON-1").id)
        assert (beta.current_stock, beta.unit_of_measure) == (D(5), "pieces")
        balances, sums = independent_books()
        assert balances == sums

    in_app(app, check)
    again = runner.invoke(args=VERIFY)
    assert again.exit_code == 0, again.output
    assert "Ledger and balances agree." in again.output


def test_repair_with_nothing_to_repair_records_nothing(app, runner):
    result = runner.invoke(args=[*VERIFY, "--repair"])
    assert result.exit_code == 0 and "agree" in result.output
    # the run itself is recorded (the auditors' dashboard shows the last check); no repair is
    events = in_app(app, lambda: dict(db.session.execute(sa.select(
        m.SecurityEvent.event_type, sa.func.count()).group_by(m.SecurityEvent.event_type)).all()))
    assert events == {"ledger_check": 1}


# --- the demo data on an empty database ------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def empty_url(request):
    """``(engine name, url)`` of a brand-new, empty database of each engine, dropped afterwards."""
    with empty_database(request.param, "demo") as url:
        yield request.param, url


@pytest.fixture(scope="module")
def demo_app(empty_url):
    """A portal on an empty database brought to the latest schema by the migrations, nothing else.

    :func:`app.create_app` re-initialises FAB's AppBuilder singleton, so this app
    lives for this module only (as in ``tests/test_migrations.py``).
    """
    from flask_migrate import upgrade

    from app import create_app

    _engine, url = empty_url
    application = create_app(make_config(url))
    with application.app_context():
        upgrade()
        assert db.session.execute(sa.select(sa.func.count()).select_from(m.Organization)).scalar_one() == 0
        db.session.remove()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def test_seed_demo_creates_books_that_agree(demo_app):
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["abparts", "seed-demo", "--scale", "0.05"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "Demo data ready" in result.output

    def check():
        counts = {model: db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()
                  for model in (m.Transaction, m.PartUsage, m.StockAdjustment, m.Inventory)}
        assert counts[m.Transaction] >= 300, counts
        assert counts[m.PartUsage] > 0 and counts[m.StockAdjustment] > 0 and counts[m.Inventory] > 0, counts
        balances, sums = independent_books()
        assert balances == sums
        assert all(v >= 0 for v in balances.values()), "the demo left a negative balance"
        in_transit = transit_from_transfers()
        assert in_transit and transit_balances() == in_transit
        states = dict(db.session.execute(sa.select(m.StockTransfer.status, sa.func.count())
                                         .group_by(m.StockTransfer.status)).all())
        assert set(states) == set(m.TransferStatus), states
        # orders in every state, their figures agreeing with the ledger rows they posted (issue 10)
        from app.workflows import orders as ow

        for model, all_states, figures in ((m.CustomerOrder, m.CustomerOrderStatus, ow.customer_order_figures),
                                           (m.SupplierOrder, m.SupplierOrderStatus, ow.supplier_order_figures)):
            orders = db.session.execute(sa.select(model)).scalars().all()
            assert {o.status for o in orders} == set(all_states), model
            for order in orders:
                lines = figures(db.session, order).values()
                moved = sum(f.received for f in lines) + sum(getattr(f, "shipped", 0) for f in lines)
                assert (moved > 0) == (order.status.value in ("shipped", "received", "partially_received")), order
                if order.status.value == "received":
                    assert all(f.received == f.ordered for f in lines), order
        shipped = db.session.execute(sa.select(sa.func.count()).select_from(m.Transaction).join(
            m.StockTransfer).where(m.StockTransfer.customer_order_id.is_not(None))).scalar_one()
        received = db.session.execute(sa.select(sa.func.count()).select_from(m.Transaction).where(
            m.Transaction.supplier_order_id.is_not(None))).scalar_one()
        assert shipped > 0 and received > 0

    in_app(demo_app, check)
    verified = runner.invoke(args=VERIFY)
    assert verified.exit_code == 0, verified.output
    assert "Ledger and balances agree." in verified.output
