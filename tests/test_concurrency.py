"""Concurrent postings keep the books right (issue 3, "Consistency under load and faults").

Every writer is a thread of its own with its own app context, database
session and connection, acting as a portal user, the way concurrent requests
are served.  A barrier starts them together.

- PostgreSQL: many consumptions of 1 unit racing for a balance of N leave
  exactly N successes (the others refused with :class:`InsufficientStock`), a
  zero balance and a ledger that sums to it; transfers in opposite directions
  between two warehouses finish without a deadlock and with the right balances.
- SQLite: several threads posting at once lose no update and never fail with
  "database is locked".

After each run the whole ledger is verified (:func:`app.ledger_check.verify_balances`).
"""
from __future__ import annotations

import decimal
import threading
import traceback

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import models as m
from app.database import configure_engine
from app.errors import InsufficientStock, OutOfScope
from app.extensions import db
from app.ledger_check import ledger_sums, verify_balances
from app.scoping import Actor, acting_as, actor_for, system

from .conftest import get_one

D = decimal.Decimal
T = m.TransactionType
#: Seconds a thread waits for the others at the start line before the test gives up.
BARRIER_TIMEOUT = 20


# --- helpers -------------------------------------------------------------------


@pytest.fixture
def thread_engine(app, ctx):
    """An engine with the app's settings and one connection per writer thread.

    The app's own pool holds 15 connections; the races below need more writers
    than that at once.  :func:`app.database.configure_engine` gives it the
    app's SQLite settings (``BEGIN IMMEDIATE``, busy timeout, WAL).
    """
    engine = sa.create_engine(db.engine.url, pool_size=40, max_overflow=0)
    configure_engine(engine, app.config)
    yield engine
    engine.dispose()


def actor(username: str) -> Actor:
    """The :class:`Actor` of a portal user (built once, shared read-only by the threads)."""
    return actor_for(get_one(m.PortalUser, username=username))


def run_writers(app, engine, jobs):
    """Run each ``job(session)`` in a thread of its own, all started together.

    Each thread pushes its own app context, opens its own :class:`Session` on
    ``engine``, acts as the job's actor, waits at a barrier, then runs the job
    and commits.

    :param jobs: a list of ``(actor, job)``; ``job(session)`` adds what to post.
    :returns: a list, per job, of ``"ok"``, the :class:`~app.errors.InsufficientStock`
        refusal, or for anything else ``(exception, traceback text)``.
    """
    # End the test's own transaction: on SQLite it holds the write lock (BEGIN IMMEDIATE).
    db.session.commit()
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def worker(index, who, job):
        with app.app_context():
            session = Session(bind=engine)
            try:
                with acting_as(who):
                    barrier.wait(BARRIER_TIMEOUT)
                    job(session)
                    session.commit()
                results[index] = "ok"
            except InsufficientStock as refused:
                session.rollback()
                results[index] = refused
            except Exception as exc:  # noqa: BLE001 - every other failure is reported by the test
                session.rollback()
                results[index] = (exc, traceback.format_exc())
            finally:
                session.close()
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, who, job)) for i, (who, job) in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a writer thread hung"
    return results


def assert_no_failures(results) -> None:
    """Fail, showing the first traceback, when a job failed with anything but a refusal
    (a deadlock, "database is locked", a lost connection ...)."""
    failures = [r for r in results if isinstance(r, tuple)]
    summary = sorted({f"{type(exc).__name__}: {str(exc).splitlines()[0]}" for exc, _tb in failures})
    assert not failures, f"{len(failures)} writers failed: {summary}\n\n{failures[0][1] if failures else ''}"


def balance(warehouse, part) -> D:
    """Stock on hand of ``part`` in ``warehouse``, read afresh."""
    db.session.expire_all()
    return db.session.execute(
        sa.select(m.Inventory.current_stock).where(m.Inventory.warehouse_id == warehouse.id,
                                                   m.Inventory.part_id == part.id)
    ).scalar_one()


def ledger_sum(warehouse, part) -> D:
    """The sum of the posted ledger rows of ``part`` in ``warehouse``."""
    return ledger_sums(db.session).get((warehouse.id, part.id), D(0))


def posting(kind, part_id, qty, *, source=None, dest=None):
    """A job that records one transaction (the hooks post it at commit)."""

    def job(session):
        session.add(m.Transaction(transaction_type=kind, part_id=part_id, quantity=D(qty),
                                  from_warehouse_id=source, to_warehouse_id=dest))

    return job


def several(*jobs):
    """A job that records several transactions in one database transaction."""

    def job(session):
        for one in jobs:
            one(session)

    return job


def only_on(engine_name, wanted):
    if engine_name != wanted:
        pytest.skip(f"this test is about {wanted}")


# --- PostgreSQL: row locks under real concurrency ---------------------------------


@pytest.mark.postgres
def test_racing_consumptions_leave_exactly_n_successes_and_a_zero_balance(app, ctx, engine_name, thread_engine):
    only_on(engine_name, "postgresql")
    acme_main = get_one(m.Warehouse, name="Acme Main")
    con = get_one(m.Part, part_number="CON-1")
    n = balance(acme_main, con)
    assert n == 10
    writers = 30
    who = actor("acme.user")

    results = run_writers(app, thread_engine, [
        (who, posting(T.consumption, con.id, 1, source=acme_main.id)) for _ in range(writers)
    ])

    assert_no_failures(results)
    assert results.count("ok") == n
    refusals = [r for r in results if isinstance(r, InsufficientStock)]
    assert len(refusals) == writers - n
    assert all("Not enough stock of CON-1" in str(r) for r in refusals)
    assert balance(acme_main, con) == 0
    assert ledger_sum(acme_main, con) == 0
    consumed = db.session.execute(sa.select(sa.func.count()).select_from(m.Transaction).where(
        m.Transaction.transaction_type == T.consumption, m.Transaction.from_warehouse_id == acme_main.id
    )).scalar_one()
    assert consumed == n
    assert verify_balances(db.session) == []


@pytest.mark.postgres
def test_opposite_transfers_between_two_warehouses_never_deadlock(app, ctx, engine_name, thread_engine):
    """Each writer moves two parts in one commit, so it updates four balances: A->B
    and B->A writers would lock them in opposite orders without the fixed order.

    The two warehouses are one organization's (Acme Main and Acme Site): a transfer
    transaction between two organizations is refused since issue 8."""
    only_on(engine_name, "postgresql")
    site = get_one(m.Warehouse, name="Acme Site")
    acme_main = get_one(m.Warehouse, name="Acme Main")
    con = get_one(m.Part, part_number="CON-1")
    bulk = get_one(m.Part, part_number="BULK-1")
    superadmin = get_one(m.PortalUser, username="superadmin")
    for warehouse in (acme_main, site):
        for part, qty in ((con, 100), (bulk, 100)):
            db.session.add(m.Transaction(transaction_type=T.creation, part=part, quantity=D(qty),
                                         to_warehouse_id=warehouse.id, performed_by_user_id=superadmin.id))
    db.session.commit()
    before = {(w.id, p.id): balance(w, p) for w in (site, acme_main) for p in (con, bulk)}
    assert before == {(site.id, con.id): 100, (site.id, bulk.id): 100,
                      (acme_main.id, con.id): 110, (acme_main.id, bulk.id): 100}
    who = actor("superadmin")
    per_direction = 15
    forth = several(posting(T.transfer, con.id, 1, source=site.id, dest=acme_main.id),
                    posting(T.transfer, bulk.id, "0.5", source=site.id, dest=acme_main.id))
    back = several(posting(T.transfer, bulk.id, "1.25", source=acme_main.id, dest=site.id),
                   posting(T.transfer, con.id, 2, source=acme_main.id, dest=site.id))
    jobs = [(who, forth if i % 2 else back) for i in range(2 * per_direction)]

    results = run_writers(app, thread_engine, jobs)

    assert_no_failures(results)  # a deadlock would show here (psycopg DeadlockDetected)
    assert results == ["ok"] * len(jobs)
    k = per_direction
    assert balance(site, con) == 100 - k * 1 + k * 2
    assert balance(acme_main, con) == 110 + k * 1 - k * 2
    assert balance(site, bulk) == 100 - k * D("0.5") + k * D("1.25")
    assert balance(acme_main, bulk) == 100 + k * D("0.5") - k * D("1.25")
    assert verify_balances(db.session) == []


# --- SQLite: the write lock up front ------------------------------------------------


def test_sqlite_concurrent_writers_lose_no_update_and_never_see_database_is_locked(
        app, ctx, engine_name, thread_engine):
    only_on(engine_name, "sqlite")
    central = get_one(m.Warehouse, name="Central")
    con = get_one(m.Part, part_number="CON-1")
    start = balance(central, con)
    who = actor("oraseas.admin")
    writers, rounds = 8, 6
    add = posting(T.creation, con.id, 3, dest=central.id)
    take = posting(T.consumption, con.id, 1, source=central.id)

    def job(session):
        # Several commits per thread: each reads, checks and posts while the others do too.
        for _ in range(rounds):
            add(session)
            session.commit()
            take(session)
            session.commit()

    results = run_writers(app, thread_engine, [(who, job) for _ in range(writers)])

    assert_no_failures(results)  # "database is locked" would show here
    assert results == ["ok"] * writers
    assert balance(central, con) == start + writers * rounds * (3 - 1)
    assert ledger_sum(central, con) == balance(central, con)
    assert verify_balances(db.session) == []


def test_sqlite_racing_consumptions_never_go_below_zero(app, ctx, engine_name, thread_engine):
    only_on(engine_name, "sqlite")
    beta_main = get_one(m.Warehouse, name="Beta Main")
    con = get_one(m.Part, part_number="CON-1")
    n = balance(beta_main, con)
    assert n == 5
    who = actor("beta.user")
    writers = 12

    results = run_writers(app, thread_engine, [
        (who, posting(T.consumption, con.id, 1, source=beta_main.id)) for _ in range(writers)
    ])

    assert_no_failures(results)
    assert results.count("ok") == n
    assert sum(isinstance(r, InsufficientStock) for r in results) == writers - n
    assert balance(beta_main, con) == 0
    assert ledger_sum(beta_main, con) == 0
    assert verify_balances(db.session) == []


# --- the rules hold in every session --------------------------------------------------


def test_a_separate_session_keeps_the_writer_inside_its_organization(app, ctx, thread_engine):
    """The after-flush scope check asks the session being flushed (the writers above use
    their own sessions): an admin's own change goes through at once, another
    organization's warehouse is refused."""
    own_id = get_one(m.Warehouse, name="Acme Main").id
    other_id = get_one(m.Warehouse, name="Beta Main").id
    who = actor("acme.admin")
    db.session.commit()
    with Session(bind=thread_engine) as session, acting_as(who):
        session.get(m.Warehouse, own_id).description = "Quay 3"
        session.commit()
        with system():
            other = session.get(m.Warehouse, other_id)
        other.description = "taken over"
        with pytest.raises(OutOfScope, match="your own organization"):
            session.commit()
        session.rollback()
    db.session.expire_all()
    assert get_one(m.Warehouse, id=own_id).description == "Quay 3"
    assert get_one(m.Warehouse, id=other_id).description != "taken over"


# --- caps under concurrency -------------------------------------------------------


def test_racing_writers_never_pass_the_yearly_transaction_cap(app, ctx, engine_name, thread_engine, config):
    """Twelve receipts race for the last three places under LIMIT_TRANSACTIONS_PER_YEAR:
    exactly three are recorded, the others refused with the cap's message.  Each
    receipt is of a part of its own, so no stock row serialises the writers."""
    from app.errors import LimitReached

    from . import factories

    central = get_one(m.Warehouse, name="Central")
    parts = [factories.part(f"RACE-{i}") for i in range(12)]
    db.session.commit()
    existing = db.session.execute(sa.select(sa.func.count()).select_from(m.Transaction)).scalar_one()
    config["LIMIT_TRANSACTIONS_PER_YEAR"] = existing + 3
    who = actor("oraseas.admin")

    results = run_writers(app, thread_engine, [
        (who, posting(T.creation, part.id, 1, dest=central.id)) for part in parts
    ])

    refused = [r for r in results if isinstance(r, tuple) and isinstance(r[0], LimitReached)]
    assert_no_failures([r for r in results if r not in refused])
    assert results.count("ok") == 3
    assert len(refused) == 9
    assert all("LIMIT_TRANSACTIONS_PER_YEAR" in str(exc) for exc, _tb in refused)
    total = db.session.execute(sa.select(sa.func.count()).select_from(m.Transaction)).scalar_one()
    assert total == existing + 3
    assert verify_balances(db.session) == []
