"""Benchmark: bulk imports (issue 11), dry run and real run, CSV and XLSX.

Run by hand (pytest does not collect it)::

    python tests/benchmarks/bench_import.py                       # SQLite only
    python tests/benchmarks/bench_import.py --postgres postgresql://postgres@127.0.0.1/postgres

For each engine it seeds the demo in a fresh database (every ``LIMIT_*`` cap
lifted), then, as the demo's Super Admin, imports ``--parts`` new parts (a CSV
through the Parts form's checks), and as Aegean Aquafarms' admin (an
organization-scoped actor, as in a request) the opening stock of those parts in
``--warehouses`` new warehouses: ``parts x warehouses`` lines (default 1,000 x
10 = 10,000), once from a CSV and once from an XLSX file (into other
warehouses).  Each file is first checked (the dry run) and then imported,
through :mod:`app.workflows.imports` as the screens and the CLI call it.

It prints, per file, the seconds and rows per second of the dry run and of the
import (reading the file included), and the CPU seconds of this process (on
SQLite the database's work too; a busy machine stretches the seconds, less the
CPU seconds), and checks the books at the end
(``verify-ledger``'s :func:`~app.ledger_check.verify_balances`).
"""
from __future__ import annotations

import csv
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))

import sqlalchemy as sa  # noqa: E402
import xlsxwriter  # noqa: E402

from bench_posting import engine_parser, run_engines, seeded_demo  # noqa: E402


def csv_file(header: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def xlsx_file(header: list[str], rows: list[list]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, header)
    for number, row in enumerate(rows, start=1):
        sheet.write_row(number, 0, row)
    book.close()
    return out.getvalue()


def timed(label: str, engine: str, kind: str, fmt: str, call) -> dict:
    started, cpu = time.perf_counter(), time.process_time()
    report = call()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if report.errors:
        raise SystemExit(f"[{engine}] {label}: {len(report.errors)} problems, e.g. {report.errors[:3]}")
    print(f"[{engine}] {kind} {fmt} {label}: {report.rows:,} rows in {seconds:.2f} s", flush=True)
    return {"engine": engine, "kind": kind, "format": fmt, "run": label, "rows": report.rows,
            "seconds": seconds, "per_second": report.rows / seconds, "cpu": cpu}


def bench_engine(engine: str, pg_url: str | None, args) -> list[dict]:
    from app import models as m
    from app.extensions import db
    from app.imports.files import PARTS, STOCK
    from app.ledger_check import verify_balances
    from app.scoping import acting_as
    from app.views.catalog import part_form
    from app.workflows import imports

    results = []
    with seeded_demo(engine, pg_url):
        user = lambda name: db.session.execute(  # noqa: E731
            sa.select(m.PortalUser).where(m.PortalUser.username == name)).scalar_one()
        boss, admin = user("superadmin"), user("aegean.admin")
        org = db.session.get(m.Organization, admin.organization_id)
        numbers = [f"IMP-{i:05d}" for i in range(args.parts)]
        parts = csv_file(PARTS.keys[:4], [[n, f"Imported part {n}", "consumable", "pieces"] for n in numbers])
        with acting_as(boss):
            results.append(timed("dry run", engine, "parts", "csv",
                                 lambda: imports.dry_run("parts", "parts.csv", parts, part_form())))
            results.append(timed("import", engine, "parts", "csv",
                                 lambda: imports.run_import("parts", "parts.csv", parts, part_form())))
        for fmt, write in (("csv", csv_file), ("xlsx", xlsx_file)):
            names = [f"Import {fmt} {i:02d}" for i in range(args.warehouses)]
            db.session.add_all(m.Warehouse(organization_id=org.id, name=name) for name in names)
            db.session.commit()
            lines = [[org.name, name, number, (i % 9) + 1] for name in names for i, number in enumerate(numbers)]
            data = write(STOCK.keys[:4], lines)
            with acting_as(admin):
                results.append(timed("dry run", engine, "stock", fmt,
                                     lambda: imports.dry_run("stock", f"stock.{fmt}", data)))
                results.append(timed("import", engine, "stock", fmt,
                                     lambda: imports.run_import("stock", f"stock.{fmt}", data)))
        mismatches = verify_balances(db.session)
        db.session.rollback()
        print(f"[{engine}] books verified after the imports: "
              f"{'agree' if not mismatches else f'{len(mismatches)} MISMATCHES'}", flush=True)
    return results


def print_table(results: list[dict]) -> None:
    header = f"{'engine':<11}{'file':<8}{'format':<8}{'run':<9}{'rows':>8}{'seconds':>9}{'rows/s':>9}{'CPU s':>7}"
    print()
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r['engine']:<11}{r['kind']:<8}{r['format']:<8}{r['run']:<9}{r['rows']:>8,}{r['seconds']:>9.2f}"
              f"{r['per_second']:>9,.0f}{r['cpu']:>7.2f}")


def main(argv=None) -> int:
    parser = engine_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--parts", type=int, default=1000, help="parts imported (default 1000)")
    parser.add_argument("--warehouses", type=int, default=10,
                        help="warehouses per stock file (default 10: 10,000 lines with 1,000 parts)")
    args = parser.parse_args(argv)
    print_table(run_engines(parser, args, bench_engine))
    return 0


if __name__ == "__main__":
    sys.exit(main())
