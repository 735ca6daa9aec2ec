"""Benchmark: exporting the stock ledger as CSV and XLSX (issue 11, "Done when").

Run by hand (pytest does not collect it)::

    python tests/benchmarks/bench_export.py                       # SQLite only, 10x the demo's ledger
    python tests/benchmarks/bench_export.py --postgres postgresql://postgres@127.0.0.1/postgres
    python tests/benchmarks/bench_export.py --scales 10,100 ...   # 75,000 and 750,000 ledger rows

For each engine, in a fresh database: the demo data set (``seed_demo``), its
ledger grown to each size in turn (multiples of the seed's 7,500 transactions
a year, bulk inserts, every ``LIMIT_*`` cap lifted:
:func:`bench_posting.grow_ledger`).  At each size, each export runs in a fresh
process (so one export's memory says nothing about another's): the portal is
started, the demo's ``auditor`` signs in through the login form and downloads
``/transactionmodelview/export/?format=csv`` (then ``xlsx``), every row of the
ledger in the list's order, reading the streamed body chunk by chunk.

It prints rows per second and the process's peak resident memory while
exporting, above its size before (Linux ``VmHWM`` after resetting it through
``/proc/self/clear_refs``); the peak must not grow with the number of rows.
On PostgreSQL it also times ``COPY (<the export's own SELECT>) TO STDOUT`` of
the same statement, with the same parameters: the database's own speed for
those rows, without names of related rows, types or formatting.
"""
from __future__ import annotations

import multiprocessing
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa  # noqa: E402

from bench_posting import (  # noqa: E402
    SEED_TRANSACTIONS_PER_YEAR, Database, bench_config, engine_parser, grow_ledger, run_engines)

EXPORT = "/transactionmodelview/export/?format={fmt}"
PASSWORD = "abparts-demo"


def _status_kib(field: str) -> int:
    """A ``/proc/self/status`` memory figure (``VmRSS``, ``VmHWM``) in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    """Reset this process's peak resident size (Linux 4.0+); whether it could."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def export_once(url: str, fmt: str, queue) -> None:
    """In a fresh process: sign in as the auditor, download the ledger in ``fmt``, report figures."""
    import logging

    logging.disable(logging.WARNING)
    from app import create_app
    from app import models as m
    from app.extensions import db

    app = create_app(bench_config(url))
    client = app.test_client()
    page = client.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert client.post("/login/", data={"username": "auditor", "password": PASSWORD,
                                        "csrf_token": token}).status_code == 302
    select = {}

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().startswith("SELECT transactions.") and "statement" not in select:
            select.update(statement=statement, parameters=parameters)

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", capture)
    client.get(EXPORT.format(fmt=fmt) + "&q=nothing-matches-this").close()  # warm-up: imports, caches
    select.clear()
    before = _status_kib("VmRSS")
    peak_reset = _reset_peak()
    started = time.perf_counter()
    response = client.get(EXPORT.format(fmt=fmt), buffered=False)
    size = sum(len(chunk) for chunk in response.response)
    response.close()
    seconds = time.perf_counter() - started
    peak = _status_kib("VmHWM")
    with app.app_context():
        rows = db.session.execute(sa.select(m.ExportLog.row_count).where(m.ExportLog.format == fmt)
                                  .order_by(m.ExportLog.started_at.desc()).limit(1)).scalar_one()
        copy_seconds = None
        if db.engine.dialect.name == "postgresql" and select:
            copy_seconds = _copy(db.engine, select["statement"], select["parameters"])
        db.session.remove()
    queue.put({"format": fmt, "rows": rows, "bytes": size, "seconds": seconds, "rss_before_mib": before / 1024,
               "peak_growth_mib": (peak - before) / 1024 if peak_reset else None, "copy_seconds": copy_seconds})


def _copy(engine, statement: str, parameters) -> float:
    """Seconds of ``COPY (statement) TO STDOUT`` (CSV), the output read and dropped."""
    raw = engine.raw_connection()
    try:
        started = time.perf_counter()
        with raw.driver_connection.cursor() as cursor:
            with cursor.copy(f"COPY ({statement}) TO STDOUT (FORMAT csv)", parameters) as copy:
                for _block in copy:
                    pass
        raw.driver_connection.rollback()
        return time.perf_counter() - started
    finally:
        raw.close()


def measure(url: str, fmt: str) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=export_once, args=(url, fmt, queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def bench_engine(engine: str, pg_url: str | None, args) -> list[dict]:
    from flask_migrate import upgrade

    from app import create_app
    from app import models as m
    from app.demo import seed_demo
    from app.extensions import db

    database = Database(engine, pg_url)
    results = []
    try:
        app = create_app(bench_config(database.url))
        rng = random.Random(11)
        with app.app_context():
            print(f"[{engine}] migrating and seeding the demo ...", flush=True)
            upgrade()
            seed_demo(scale=1.0, echo=lambda *_: None)
            db.session.commit()
            for scale in args.scales:
                grow_ledger(db, scale * SEED_TRANSACTIONS_PER_YEAR, rng)
                size = db.session.execute(sa.select(sa.func.count()).select_from(m.Transaction)).scalar_one()
                db.session.commit()
                print(f"[{engine}] ledger at {size:,} rows ({scale}x)", flush=True)
                for fmt in args.formats:
                    figures = measure(database.url, fmt)
                    figures.update(engine=engine, scale=scale, size=size)
                    results.append(figures)
                    print(f"[{engine}]   {fmt}: {figures['rows']:,} rows in {figures['seconds']:.1f} s", flush=True)
            db.session.remove()
            db.engine.dispose()
    finally:
        database.drop()
    return results


def print_table(results: list[dict]) -> None:
    header = (f"{'engine':<11}{'ledger rows':>12}{'format':>7}{'rows':>10}{'seconds':>9}{'rows/s':>9}"
              f"{'MiB':>7}{'RSS before':>11}{'peak +MiB':>10}{'COPY s':>8}{'COPY rows/s':>12}")
    print()
    print(header)
    print("-" * len(header))
    for r in results:
        peak = "n/a" if r["peak_growth_mib"] is None else f"{r['peak_growth_mib']:.1f}"
        copy_s = "" if r["copy_seconds"] is None else f"{r['copy_seconds']:.2f}"
        copy_rate = "" if r["copy_seconds"] is None else f"{r['rows'] / r['copy_seconds']:.0f}"
        print(f"{r['engine']:<11}{r['size']:>12,}{r['format']:>7}{r['rows']:>10,}{r['seconds']:>9.1f}"
              f"{r['rows'] / r['seconds']:>9.0f}{r['bytes'] / 2**20:>7.1f}{r['rss_before_mib']:>11.0f}{peak:>10}"
              f"{copy_s:>8}{copy_rate:>12}")


def main(argv=None) -> int:
    parser = engine_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=lambda s: [int(x) for x in s.split(",")], default=[10],
                        help="ledger sizes in multiples of 7,500 transactions (default 10)")
    parser.add_argument("--formats", type=lambda s: s.split(","), default=["csv", "xlsx"],
                        help="formats to export (default csv,xlsx)")
    args = parser.parse_args(argv)
    print_table(run_engines(parser, args, bench_engine))
    return 0

if __name__ == "__main__":
    sys.exit(main())
