"""Benchmark: starting and completing a stocktake of 2,000 lines (issue 9, "Done when").

Run by hand (pytest does not collect it)::

    python tests/benchmarks/bench_stocktake.py                       # SQLite only
    python tests/benchmarks/bench_stocktake.py --postgres postgresql://postgres@127.0.0.1/postgres

For each engine, in a fresh database: the demo data set (``seed_demo``), its
ledger grown to 10x the seed's yearly volume with bulk inserts
(:func:`bench_posting.grow_ledger`, every ``LIMIT_*`` cap lifted), and 2,000
more parts stocked in one customer's main store.  Then, as the customer's
admin and user, through the workflow commands: plan a stocktake of that store
(every stock record, ~2,000 lines), **start** it (the snapshot), count every
line in one batch (a tenth of them off by one), and **complete** it with the
approval thresholds lifted, so the completion posts ~200 ``stocktake``
adjustments and updates every line in one database transaction.

It prints the time of each step and the SQL statements (round trips) each ran;
the target is under 2 s for start and for complete, with a number of
statements that does not grow with the number of lines.  ``verify-ledger``
must hold afterwards.  With ``--all-off`` every line is off by one, so the
completion posts 2,000 adjustments.
"""
from __future__ import annotations

import argparse
import datetime as dt
import decimal
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import event  # noqa: E402

from bench_posting import SEED_TRANSACTIONS_PER_YEAR, Database, bench_config, grow_ledger  # noqa: E402

D = decimal.Decimal


def stock_parts(app, count: int, rng: random.Random):
    """Add ``count`` parts, each with stock in the first named customer's main store
    (a creation posting per part and the balance to match, by bulk inserts).

    :returns: ``(warehouse id, admin, user)`` of that customer (their scoping actors).
    """
    from app import models as m
    from app.extensions import db
    from app.scoping import actor_for

    session = db.session
    org = session.execute(sa.select(m.Organization).where(m.Organization.name == "Aegean Aquafarms")).scalar_one()
    store = session.execute(sa.select(m.Warehouse).where(m.Warehouse.organization_id == org.id,
                                                         m.Warehouse.name == "Main Store")).scalar_one()
    admin = session.execute(sa.select(m.PortalUser).where(m.PortalUser.username == "aegean.admin")).scalar_one()
    user = session.execute(sa.select(m.PortalUser).where(m.PortalUser.username == "aegean.user")).scalar_one()
    found = store.id, actor_for(admin), actor_for(user)
    session.commit()  # SQLite: the session's write lock is released for the bulk inserts
    now = dt.datetime.now(dt.timezone.utc)
    parts, txns, inventory = [], [], []
    for i in range(count):
        part_id, qty = uuid.uuid4(), D(rng.randint(1, 200))
        parts.append({"id": part_id, "part_number": f"BENCH-{i:05d}", "name": f"Benchmark part {i}",
                      "part_type": m.PartType.consumable, "is_proprietary": False, "unit_of_measure": "pieces",
                      "unit_price": D(rng.randint(1, 300)), "created_at": now, "updated_at": now})
        txns.append({"id": uuid.uuid4(), "transaction_type": m.TransactionType.creation, "part_id": part_id,
                     "to_warehouse_id": found[0], "quantity": qty, "unit_of_measure": "pieces",
                     "performed_by_user_id": found[1].user_id, "transaction_date": now, "requires_approval": False,
                     "created_at": now})
        inventory.append({"id": uuid.uuid4(), "warehouse_id": found[0], "part_id": part_id, "current_stock": qty,
                          "minimum_stock_recommendation": D(0), "unit_of_measure": "pieces", "last_updated": now,
                          "created_at": now})
    with db.engine.begin() as conn:
        conn.execute(sa.insert(m.Part.__table__), parts)
        conn.execute(sa.insert(m.Transaction.__table__), txns)
        conn.execute(sa.insert(m.Inventory.__table__), inventory)
    session.remove()
    return found


class Statements:
    """Counts the SQL statements an engine runs (an ``executemany`` is one round trip)."""

    def __init__(self, engine):
        self.n = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args):
        self.n += 1


def timed(statements: Statements, call):
    before, started = statements.n, time.perf_counter()
    result = call()
    return result, time.perf_counter() - started, statements.n - before


def bench_engine(engine: str, pg_url: str | None, args) -> dict:
    from flask_migrate import upgrade

    from app import create_app
    from app.demo import seed_demo
    from app.extensions import db
    from app.ledger_check import verify_balances
    from app.scoping import acting_as
    from app.workflows import stocktake as sw

    database = Database(engine, pg_url)
    try:
        app = create_app(type("Cfg", (bench_config(database.url),), {
            "STOCKTAKE_THRESHOLD_PERCENT": None, "STOCKTAKE_THRESHOLD_VALUE": None}))
        rng = random.Random(9)
        with app.app_context():
            upgrade()
            print(f"[{engine}] seeding the demo ...", flush=True)
            seed_demo(scale=1.0, echo=lambda *_: None)
            db.session.commit()  # SQLite: the session's write lock is released for the bulk inserts
            print(f"[{engine}] growing the ledger to {10 * SEED_TRANSACTIONS_PER_YEAR} rows ...", flush=True)
            grow_ledger(db, 10 * SEED_TRANSACTIONS_PER_YEAR, rng)
            store_id, admin, user = stock_parts(app, args.parts, rng)
            statements = Statements(db.engine)
            out = {"engine": engine}
            with acting_as(admin):
                stocktake, out["plan s"], out["plan stmts"] = timed(statements, lambda: sw.plan_stocktake(
                    store_id, dt.date.today(), [user.user_id]))
                sid = stocktake.id
                out["lines"] = len(stocktake.lines)
                db.session.remove()
                _, out["start s"], out["start stmts"] = timed(statements, lambda: sw.start_stocktake(sid))
                db.session.remove()
            lines = db.session.execute(sa.select(m_line().part_id, m_line().snapshot_quantity).where(
                m_line().stocktake_id == sid)).all()
            counts = [(part_id, snap + (1 if (args.all_off or i % 10 == 0) else 0))
                      for i, (part_id, snap) in enumerate(lines)]
            db.session.remove()
            with acting_as(user):
                _, out["count s"], out["count stmts"] = timed(statements, lambda: sw.count_lines(sid, counts))
                db.session.remove()
            with acting_as(admin):
                complete = lambda: sw.complete_stocktake(sid)  # noqa: E731
                if args.profile:
                    complete = profiled(complete)
                done, out["complete s"], out["complete stmts"] = timed(statements, complete)
                out["status"] = done.status.value
                db.session.remove()
            out["adjustments"] = sum(1 for _, q in counts if q) and db.session.execute(
                sa.select(sa.func.count()).select_from(m_line()).where(
                    m_line().stocktake_id == sid, m_line().stock_adjustment_id.is_not(None))).scalar_one()
            out["books agree"] = verify_balances(db.session) == []
            db.session.remove()
            db.engine.dispose()
        return out
    finally:
        database.drop()


def profiled(call):
    """``call`` under cProfile, printing its 25 costliest functions (cumulative time) afterwards."""
    import cProfile
    import pstats

    def run():
        profile = cProfile.Profile()
        result = profile.runcall(call)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        return result

    return run


def m_line():
    from app import models as m

    return m.StocktakeLine


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL; the benchmark creates and drops its own database")
    parser.add_argument("--parts", type=int, default=2000, help="parts added to the counted store (default 2000)")
    parser.add_argument("--all-off", action="store_true", help="every line off by one: 2,000 adjustments posted")
    parser.add_argument("--profile", action="store_true", help="print a profile of the completion")
    args = parser.parse_args(argv)
    engines = ["sqlite"] + (["postgresql"] if args.postgres else [])
    results = [bench_engine(engine, args.postgres, args) for engine in engines]
    keys = ["engine", "lines", "plan s", "start s", "start stmts", "count s", "count stmts", "complete s",
            "complete stmts", "adjustments", "status", "books agree"]
    print()
    print(" | ".join(keys))
    for row in results:
        print(" | ".join(f"{row[k]:.3f}" if isinstance(row[k], float) else str(row[k]) for k in keys))
    ok = all(r["start s"] < 2 and r["complete s"] < 2 and r["books agree"] for r in results)
    print("\ntarget (start and complete each under 2 s, books agree):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
