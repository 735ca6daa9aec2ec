"""Reorder point suggestions at scale (issue 11): compute and accept for every line, and the
stock levels list's status filter and sort, on PostgreSQL.

Builds a scratch database (dropped afterwards unless ``--keep``): one organization,
``--lines`` stock lines (60 parts per warehouse, random stock and reorder points) and a
consumption ledger row for every other line within the last 90 days; then prints the
seconds of :func:`app.workflows.reorder.suggest_reorder_points` (all lines, as a command
with nobody acting) and of accepting every suggestion, and the planner's time for the
status filter's count and the first page sorted by status (``EXPLAIN ANALYZE``).

Usage: ``.venv/bin/python tests/benchmarks/bench_reorder.py [--lines 84000] [--server URL]``
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.harness import DEFAULT_SERVER, machine_description  # noqa: E402

PARTS = 60
SETUP = """
INSERT INTO organizations (id, name, organization_type, is_active, created_at, updated_at)
  VALUES ('00000000-0000-4000-8000-000000000001', 'Oraseas EE', 'oraseas_ee', true, now(), now());
INSERT INTO ab_user (first_name, last_name, username, email, active, organization_id)
  VALUES ('Bench', 'Mark', 'bench', 'bench@example.test', true, '00000000-0000-4000-8000-000000000001');
INSERT INTO warehouses (id, organization_id, name, is_active, is_transit, created_at, updated_at)
  SELECT ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, '00000000-0000-4000-8000-000000000001',
         'W' || g, true, false, now(), now() FROM generate_series(1, %(warehouses)s) g;
INSERT INTO parts (id, part_number, name, part_type, unit_of_measure, is_proprietary, created_at, updated_at)
  SELECT ('00000000-0000-4000-9000-' || lpad(g::text, 12, '0'))::uuid, 'P-' || g, 'Part ' || g, 'consumable',
         'pieces', false, now(), now() FROM generate_series(1, %(parts)s) g;
INSERT INTO inventory (id, warehouse_id, part_id, current_stock, minimum_stock_recommendation, unit_of_measure,
                       last_updated, created_at)
  SELECT gen_random_uuid(), w.id, p.id, floor(random() * 60), floor(random() * 20), 'pieces',
         now() - random() * interval '300 days', now() FROM warehouses w CROSS JOIN parts p;
INSERT INTO transactions (id, transaction_type, part_id, from_warehouse_id, from_organization_id, quantity,
                          unit_of_measure, performed_by_user_id, transaction_date, requires_approval)
  SELECT gen_random_uuid(), 'consumption', i.part_id, i.warehouse_id, '00000000-0000-4000-8000-000000000001',
         1 + floor(random() * 30), 'pieces', (SELECT id FROM ab_user), now() - random() * interval '90 days', false
  FROM inventory i WHERE random() < 0.5;
ANALYZE;
"""
#: The status CASE as the ORM writes it (``Inventory.status_case`` / ``status_severity``).
WHEN = ("WHEN (inventory.current_stock <= 0) THEN {} WHEN (inventory.minimum_stock_recommendation > 0 AND "
        "inventory.current_stock <= inventory.minimum_stock_recommendation) THEN {} WHEN "
        "(inventory.minimum_stock_recommendation > 0 AND inventory.current_stock > "
        "inventory.minimum_stock_recommendation * 3) THEN {} ELSE {} END")
STATUS, SEVERITY = "CASE " + WHEN.format("'out'", "'low'", "'excess'", "'ok'"), "CASE " + WHEN.format(0, 1, 3, 2)
QUERIES = {
    "count of the low lines": f"SELECT count(*) FROM inventory WHERE {STATUS} = 'low'",
    "first page sorted by status": f"SELECT id FROM inventory ORDER BY {SEVERITY}, id LIMIT 25",
    "page 80 sorted by status": f"SELECT id FROM inventory ORDER BY {SEVERITY} DESC, id DESC LIMIT 25 OFFSET 2000",
}

TIMED = """
import time
from app import create_app
app = create_app()
with app.app_context():
    from app.extensions import db
    from app.workflows import reorder
    started = time.perf_counter()
    outcome = reorder.suggest_reorder_points(db.session, "bench")
    db.session.commit()
    computed = time.perf_counter()
    accepted = reorder.accept_suggestions(db.session, reorder.pending_suggestion_ids(db.session), "bench")
    db.session.commit()
    done = time.perf_counter()
    print(outcome.lines, outcome.suggestions, accepted, f"{computed - started:.2f}", f"{done - computed:.2f}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=84_000, help="stock lines (rounded to 60 parts a warehouse)")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="a PostgreSQL URL (any database of the server)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    name = "abparts_bench_reorder"
    admin = re.sub(r"/[^/]*$", "/postgres", args.server)
    url = re.sub(r"/[^/]*$", f"/{name}", args.server)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    env = {**os.environ, "DATABASE_URL": url, "ABPARTS_ENV": "development", "PYTHONPATH": str(ROOT)}
    try:
        subprocess.run([sys.executable, "-m", "flask", "--app", "run", "db", "upgrade"], cwd=ROOT, env=env,
                       check=True, capture_output=True)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(SETUP % {"warehouses": max(1, args.lines // PARTS), "parts": PARTS})
            print(machine_description(conn))
            lines = conn.execute("SELECT count(*) FROM inventory").fetchone()[0]
            used = conn.execute("SELECT count(*) FROM transactions").fetchone()[0]
        print(f"{lines} stock lines, {used} consumption rows in the last 90 days")
        out = subprocess.run([sys.executable, "-c", TIMED], cwd=ROOT, env=env, check=True, capture_output=True,
                             text=True).stdout.split()
        print(f"suggest_reorder_points: {out[0]} lines, {out[1]} suggestions in {out[3]} s")
        print(f"accept every suggestion: {out[2]} reorder points in {out[4]} s")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE")
            for label, sql in QUERIES.items():
                plan = [row[0] for row in conn.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}")]
                index = next((m.group(1) for row in plan if (m := re.search(r"(?:using|on) (idx_inventory_\w+)", row))),
                             "no index")
                took = next(row for row in plan if row.startswith("Execution Time"))
                print(f"{label}: {took.split(': ')[1]} ({index})")
        print(f"load average: {os.getloadavg()[0]:.1f}")
    finally:
        if not args.keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name}")


if __name__ == "__main__":
    main()
