"""Benchmark: ledger postings per second through the ORM hooks (issue 3, "Performance").

Run by hand (pytest does not collect it)::

    python tests/benchmarks/bench_posting.py                       # SQLite only
    python tests/benchmarks/bench_posting.py --postgres postgresql://postgres@127.0.0.1/postgres

For each engine it builds the demo data set (``seed_demo``: a year of 6,750
postings through the hooks) in a fresh database, then grows the ledger to 1x,
10x and 100x the seed's 7,500 transactions a year with bulk Core inserts (the
balances updated to match, every ``LIMIT_*`` cap lifted) and at each size
measures postings made the way users make them:

- one writer: a customer admin (organization-scoped, as in a request) records
  a creation or a consumption in its own warehouses, one database
  transaction per posting (a fresh session each, as a request has);
- concurrent writers: that many customer admins of different organizations
  doing the same at once, one thread and connection each.

It prints postings per second, the median and 95th-percentile time of one
posting (best of ``--rounds`` rounds: other work on the machine only slows a
round down), and the SQL statements one posting runs.  Posting cost must not grow
with the size of the ledger; ``--explain`` prints the query plan of every
statement of two postings at the largest size, to see why if it does.

The PostgreSQL URL may name any database on the server: the benchmark creates
its own database there (``abparts_bench_<random>``) and drops it at the end.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import decimal
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from config import Config, database_url  # noqa: E402

D = decimal.Decimal
#: The seed's ledger volume (seed 001, "Scale Requirements").
SEED_TRANSACTIONS_PER_YEAR = 7_500


def bench_config(url: str, owner_url: str | None = None) -> type[Config]:
    """The development configuration on ``url`` with every business cap lifted (``owner_url``:
    the migrations' role, when ``url`` is the portal's ``abparts_app``)."""
    return type("BenchConfig", (Config,), {
        "SQLALCHEMY_DATABASE_URI": url, "DATABASE_OWNER_URL": owner_url,
        "SECRET_KEY": "benchmark",
        "LIMIT_CUSTOMER_ORGANIZATIONS": None, "LIMIT_USERS": None, "LIMIT_PARTS": None,
        "LIMIT_MACHINES": None, "LIMIT_WAREHOUSES": None, "LIMIT_TRANSACTIONS_PER_YEAR": None,
    })


# --- databases -------------------------------------------------------------------

class Database:
    """A fresh, empty database on one engine; :meth:`drop` removes it."""

    def __init__(self, engine: str, pg_url: str | None = None):
        self.engine = engine
        if engine == "sqlite":
            self.dir = tempfile.mkdtemp(prefix="abparts-bench-")
            self.url = f"sqlite:///{self.dir}/bench.db"
        else:
            self.admin = make_url(database_url(pg_url)).set(database="postgres")
            self.name = f"abparts_bench_{uuid.uuid4().hex[:8]}"
            self._admin_sql(f'CREATE DATABASE "{self.name}"')
            self.url = self.admin.set(database=self.name).render_as_string(hide_password=False)

    def _admin_sql(self, sql: str) -> None:
        engine = sa.create_engine(self.admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(sql)
        engine.dispose()

    def drop(self) -> None:
        if self.engine == "sqlite":
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            self._admin_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@contextlib.contextmanager
def seeded_demo(engine: str, pg_url: str | None, app_role: bool = False):
    """The portal on a fresh database of ``engine`` holding the demo (scale 1, a year), every cap
    lifted, inside its application context; the database is dropped afterwards.

    :param app_role: PostgreSQL: the portal connects as ``abparts_app``, under row-level
        security (README "Database roles"); the migrations, and the roles' creation, as the
        server's user.

    :yields: the app.
    """
    from flask_migrate import upgrade

    from app import create_app
    from app.demo import seed_demo
    from app.extensions import db

    database = Database(engine, pg_url)
    try:
        if engine == "postgresql" and app_role:
            from app.row_security import APP_ROLE

            app_url = make_url(database.url).set(username=APP_ROLE, password=None)
            app = create_app(bench_config(app_url.render_as_string(hide_password=False), database.url))
        else:
            app = create_app(bench_config(database.url))
        with app.app_context():
            print(f"[{engine}] migrating and seeding the demo data ...", flush=True)
            upgrade()
            seed_demo(scale=1, years=1, echo=lambda *_: None)
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        database.drop()


# --- growing the ledger ------------------------------------------------------------

def grow_ledger(db, target: int, rng: random.Random) -> float:
    """Bulk-insert ledger rows until the ledger holds ``target`` transactions.

    Rows look like the demo's (creations into the hubs, transfers to customer
    sites, consumptions there, dates over the last year), go straight to the
    table with Core inserts (no hooks) and the balances are moved by the same
    amounts, so the books still agree.

    :returns: seconds taken.
    """
    from app import models as m

    started = time.perf_counter()
    t = m.Transaction.__table__
    inv = m.Inventory.__table__
    with db.engine.connect() as conn:
        have = conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
        pairs = conn.execute(sa.select(inv.c.warehouse_id, inv.c.part_id, inv.c.unit_of_measure)).all()
        user_id = conn.execute(sa.text("SELECT id FROM ab_user WHERE username = 'oraseas.admin'")).scalar_one()
        owner = dict(conn.execute(sa.select(m.Warehouse.__table__.c.id, m.Warehouse.__table__.c.organization_id)).all())
        hubs = set(conn.execute(sa.select(m.Warehouse.__table__.c.id).where(
            m.Warehouse.__table__.c.organization_id.in_(
                sa.select(m.Organization.__table__.c.id).where(
                    m.Organization.__table__.c.organization_type == m.OrganizationType.oraseas_ee))
        )).scalars())
    sites = [p for p in pairs if p.warehouse_id not in hubs]
    hub_list = sorted(hubs, key=str)
    now = dt.datetime.now(dt.timezone.utc)
    delta: dict = {}
    rows: list = []

    def move(warehouse_id, part_id, qty):
        delta[(warehouse_id, part_id)] = delta.get((warehouse_id, part_id), D(0)) + qty

    def flush_rows():
        if rows:
            with db.engine.begin() as conn:
                conn.execute(sa.insert(t), rows)
            rows.clear()

    for _ in range(max(0, target - have)):
        site = rng.choice(sites)
        hub = rng.choice(hub_list)
        roll = rng.random()
        qty = D(rng.randint(1, 4))
        if roll < 0.3:
            kind, source, dest, qty = m.TransactionType.creation, None, hub, D(rng.randint(40, 200))
        elif roll < 0.65:
            kind, source, dest = m.TransactionType.transfer, hub, site.warehouse_id
        else:
            kind, source, dest = m.TransactionType.consumption, site.warehouse_id, None
        if source is not None:
            move(source, site.part_id, -qty)
        if dest is not None:
            move(dest, site.part_id, qty)
        rows.append({
            "id": uuid.uuid4(), "transaction_type": kind, "part_id": site.part_id,
            "from_warehouse_id": source, "to_warehouse_id": dest, "quantity": qty,
            # the owners, as the posting rules fill them (organization scoping reads them)
            "from_organization_id": owner.get(source), "to_organization_id": owner.get(dest),
            "unit_of_measure": site.unit_of_measure, "performed_by_user_id": user_id,
            "transaction_date": now - dt.timedelta(seconds=rng.randint(0, 365 * 86400)),
            "requires_approval": False, "created_at": now,
        })
        if len(rows) >= 10_000:
            flush_rows()
    flush_rows()
    # Keep every balance at or above zero: top up what the random moves overdrew.
    with db.engine.begin() as conn:
        have_rows = {(p.warehouse_id, p.part_id) for p in pairs}
        units = dict(conn.execute(sa.select(m.Part.__table__.c.id, m.Part.__table__.c.unit_of_measure)).all())
        missing = [key for key in delta if key not in have_rows]
        if missing:
            conn.execute(sa.insert(inv), [{
                "id": uuid.uuid4(), "warehouse_id": w, "part_id": p, "current_stock": D(0),
                "minimum_stock_recommendation": D(0), "unit_of_measure": units[p], "last_updated": now,
                "created_at": now} for w, p in missing])
        # A creation tops up what the random moves would overdraw, before the balance moves:
        # no balance goes below zero, not even for a moment (PostgreSQL refuses it, migration 0015).
        stock = dict(((w, p), q) for w, p, q in conn.execute(
            sa.select(inv.c.warehouse_id, inv.c.part_id, inv.c.current_stock)))
        top_ups = []
        for (warehouse_id, part_id), change in delta.items():
            short = -(stock.get((warehouse_id, part_id), D(0)) + change)
            if short > 0:
                top_ups.append({
                    "id": uuid.uuid4(), "transaction_type": m.TransactionType.creation, "part_id": part_id,
                    "to_warehouse_id": warehouse_id, "to_organization_id": owner[warehouse_id],
                    "quantity": short, "unit_of_measure": units[part_id],
                    "performed_by_user_id": user_id, "transaction_date": now, "requires_approval": False,
                    "created_at": now})
                delta[(warehouse_id, part_id)] = change + short
        if top_ups:
            conn.execute(sa.insert(t), top_ups)
        for (warehouse_id, part_id), change in delta.items():
            stmt = sa.update(inv).where(inv.c.warehouse_id == warehouse_id, inv.c.part_id == part_id)
            if conn.execute(stmt.values(current_stock=inv.c.current_stock + change)).rowcount != 1:
                raise RuntimeError("no inventory row for a bulk-inserted movement")
    if db.engine.dialect.name == "postgresql":
        from flask import current_app

        # VACUUM is the owner's (with --app-role the portal's role may not).
        owner_url = current_app.config.get("DATABASE_OWNER_URL")
        engine = sa.create_engine(owner_url) if owner_url else db.engine
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE transactions")
            conn.exec_driver_sql("VACUUM ANALYZE inventory")
        if owner_url:
            engine.dispose()
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started


# --- posting ---------------------------------------------------------------------

class Writer:
    """A customer admin posting in its own warehouses: creation (+2) then consumption (-1).

    Postings come in such pairs (the runs use even counts), so a consumption
    always finds the unit its creation brought, whatever the bulk fill did.
    """

    def __init__(self, db, user, rng: random.Random):
        from app import models as m
        from app.scoping import actor_for

        self.actor = actor_for(user)
        # Balances the organization already holds, so that every size measures the
        # same work (a first posting to a new pair also creates its inventory row).
        inv, part = m.Inventory.__table__.c, m.Part.__table__.c
        self.targets = [tuple(row) for row in db.session.execute(
            sa.select(inv.warehouse_id, inv.part_id)
            .join(m.Part.__table__, part.id == inv.part_id)
            .where(inv.warehouse_id.in_(sa.select(m.Warehouse.__table__.c.id).where(
                m.Warehouse.__table__.c.organization_id == user.organization_id)),
                part.part_type == m.PartType.consumable)
            .order_by(inv.warehouse_id, inv.part_id))]
        if not self.targets:
            raise RuntimeError(f"{user.username}'s organization holds no stock to post against")
        rng.shuffle(self.targets)
        self.i = 0

    def post_one(self, engine) -> float:
        """One posting in its own session and database transaction; returns its seconds."""
        from app import models as m

        warehouse_id, part_id = self.targets[(self.i // 2) % len(self.targets)]
        if self.i % 2 == 0:
            txn = m.Transaction(transaction_type=m.TransactionType.creation, part_id=part_id,
                                to_warehouse_id=warehouse_id, quantity=D(2))
        else:
            txn = m.Transaction(transaction_type=m.TransactionType.consumption, part_id=part_id,
                                from_warehouse_id=warehouse_id, quantity=D(1))
        self.i += 1
        started = time.perf_counter()
        with Session(bind=engine) as session:
            session.add(txn)
            session.commit()
        return time.perf_counter() - started


def run_bulk(app, db, writer: Writer, lines: int) -> dict:
    """``lines`` postings of ``writer`` (creations of 2 and consumptions of 1, in pairs) through
    the bulk posting path (:func:`app.rules.bulk.post_batch`), in one database transaction.

    :returns: lines, seconds, lines per second, SQL statements.
    """
    from app import models as m
    from app.rules.bulk import post_batch
    from app.scoping import acting_as

    records = []
    for i in range(lines - lines % 2):
        warehouse_id, part_id = writer.targets[(i // 2) % len(writer.targets)]
        if i % 2 == 0:
            records.append(m.Transaction(transaction_type=m.TransactionType.creation, part_id=part_id,
                                         to_warehouse_id=warehouse_id, quantity=D(2)))
        else:
            records.append(m.PartUsage(part_id=part_id, warehouse_id=warehouse_id, quantity=D(1)))
    statements = []
    listener = lambda *_args: statements.append(1)  # noqa: E731
    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        started = time.perf_counter()
        with acting_as(writer.actor):
            post_batch(db.session, records)
        db.session.commit()
        seconds = time.perf_counter() - started
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
        db.session.remove()
    return {"lines": len(records), "seconds": seconds, "per_second": len(records) / seconds,
            "statements": len(statements)}


def run(app, db, writers: list[Writer], postings: int) -> dict:
    """``postings`` postings per writer, all writers at once (a thread each).

    :returns: postings, wall seconds, postings per second, median and p95 ms.
    """
    from app.scoping import acting_as

    postings -= postings % 2
    times: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(writers))

    def work(writer):
        with app.app_context():
            try:
                with acting_as(writer.actor):
                    barrier.wait()
                    mine = [writer.post_one(db.engine) for _ in range(postings)]
                with lock:
                    times.extend(mine)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=(w,)) for w in writers]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise errors[0]
    times.sort()
    return {
        "postings": len(times),
        "wall": wall,
        "per_second": len(times) / wall,
        "median_ms": statistics.median(times) * 1000,
        "p95_ms": times[int(len(times) * 0.95) - 1] * 1000,
    }


def statements_of_two_postings(app, db, writer: Writer) -> list[tuple[str, object]]:
    """The SQL statements (with parameters) of a creation and a consumption."""
    from app.scoping import acting_as

    captured: list = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with app.app_context(), acting_as(writer.actor):
            writer.post_one(db.engine)
            writer.post_one(db.engine)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return captured


def explain(db, statements) -> None:
    """Print the query plan of each statement of a posting (nothing is written: EXPLAIN only plans)."""
    sqlite = db.engine.dialect.name == "sqlite"
    with db.engine.connect() as conn:
        for statement, parameters in statements:
            head = statement.lstrip().split(None, 1)[0].upper()
            if head not in ("SELECT", "UPDATE", "INSERT"):
                continue
            prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            plan = conn.exec_driver_sql(prefix + statement, parameters).all()
            print("\n  " + " ".join(statement.split())[:300])
            for row in plan:
                print("    " + (row[-1] if sqlite else row[0]))
        conn.rollback()


# --- the benchmark -------------------------------------------------------------------

def bench_engine(engine: str, pg_url: str | None, args) -> list[dict]:
    from app import models as m
    from app.extensions import db
    from app.ledger_check import verify_balances

    results = []
    with seeded_demo(engine, pg_url, getattr(args, "app_role", False)) as app:
        rng = random.Random(7)
        admins = db.session.execute(
            sa.select(m.PortalUser).where(m.PortalUser.username.in_(
                ["aegean.admin", "nordic.admin", "admin001", "admin002", "admin003", "admin004", "admin005",
                 "admin006"])).order_by(m.PortalUser.username)).scalars().all()
        by_name = {u.username: u for u in admins}
        order = ["aegean.admin", "nordic.admin"] + [f"admin00{i}" for i in range(1, 7)]
        writers = [Writer(db, by_name[name], rng) for name in order[:max(1, args.writers)]]
        db.session.commit()
        for scale in args.scales:
            target = scale * SEED_TRANSACTIONS_PER_YEAR
            seconds = grow_ledger(db, target, rng)
            size = db.session.execute(sa.select(sa.func.count()).select_from(m.Transaction)).scalar_one()
            db.session.commit()
            print(f"[{engine}] ledger at {size:,} transactions ({scale}x; filled in {seconds:.1f} s)", flush=True)
            run(app, db, writers[:1], max(6, args.postings // 10))  # warm-up
            statements = statements_of_two_postings(app, db, writers[0])
            for count in sorted({1, args.writers}):
                per_writer = args.postings if count == 1 else args.postings // count
                # Best of a few rounds: other work on the machine only ever slows a round down.
                figures = max((run(app, db, writers[:count], per_writer) for _ in range(args.rounds)),
                              key=lambda f: f["per_second"])
                figures.update(engine=engine, scale=scale, size=size, writers=count,
                               statements=len(statements) / 2)
                results.append(figures)
                print(f"[{engine}]   {count} writer(s): {figures['per_second']:.0f} postings/s, "
                      f"median {figures['median_ms']:.2f} ms", flush=True)
            if args.bulk:
                bulk = max((run_bulk(app, db, writers[0], args.bulk) for _ in range(args.rounds)),
                           key=lambda f: f["per_second"])
                print(f"[{engine}]   bulk path: {bulk['lines']:,} lines in {bulk['seconds']:.2f} s, "
                      f"{bulk['per_second']:,.0f} lines/s, {bulk['statements']} statements", flush=True)
        mismatches = verify_balances(db.session)
        db.session.rollback()
        print(f"[{engine}] books verified after the benchmark: "
              f"{'agree' if not mismatches else f'{len(mismatches)} MISMATCHES'}", flush=True)
        if args.explain:
            print(f"\n[{engine}] query plans of a creation and a consumption at {results[-1]['size']:,} transactions:")
            explain(db, statements_of_two_postings(app, db, writers[0]))
    return results


def print_table(results: list[dict]) -> None:
    header = (f"{'engine':<11}{'ledger rows':>12}{'scale':>7}{'writers':>9}{'postings':>10}"
              f"{'postings/s':>12}{'median ms':>11}{'p95 ms':>9}{'SQL/posting':>13}")
    print()
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r['engine']:<11}{r['size']:>12,}{str(r['scale']) + 'x':>7}{r['writers']:>9}{r['postings']:>10}"
              f"{r['per_second']:>12.0f}{r['median_ms']:>11.2f}{r['p95_ms']:>9.2f}{r['statements']:>13g}")


def engine_parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the engine options every benchmark takes (``--postgres``, ``--skip-sqlite``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--postgres", metavar="URL", help="also benchmark PostgreSQL at this server")
    parser.add_argument("--skip-sqlite", action="store_true", help="benchmark PostgreSQL only")
    return parser


def run_engines(parser: argparse.ArgumentParser, args, bench_engine) -> list[dict]:
    """``bench_engine(engine, url, args)`` on SQLite and/or PostgreSQL as ``args`` say; their results."""
    engines = ([] if args.skip_sqlite else [("sqlite", None)]) + ([("postgresql", args.postgres)] if args.postgres else [])
    if not engines:
        parser.error("nothing to benchmark")
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    results = []
    for engine, url in engines:
        results += bench_engine(engine, url, args)
    return results


def main(argv=None) -> int:
    parser = engine_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--postings", type=int, default=400, help="postings per measurement (default 400)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per measurement, the best kept (default 3)")
    parser.add_argument("--writers", type=int, default=4, help="concurrent writers (default 4)")
    parser.add_argument("--scales", type=lambda s: [int(x) for x in s.split(",")], default=[1, 10, 100],
                        help="ledger sizes in multiples of 7,500 transactions (default 1,10,100)")
    parser.add_argument("--bulk", type=int, default=10000,
                        help="lines posted at once through the bulk posting path at each size (default 10000; 0: none)")
    parser.add_argument("--explain", action="store_true", help="print the query plans of two postings at the largest size")
    parser.add_argument("--app-role", action="store_true",
                        help="PostgreSQL: connect as abparts_app, under row-level security (as in production)")
    args = parser.parse_args(argv)
    print_table(run_engines(parser, args, bench_engine))
    return 0


if __name__ == "__main__":
    sys.exit(main())
