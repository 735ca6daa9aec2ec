"""Dashboard benchmark (issue 11): each role's landing page at the demo's scale, on PostgreSQL.

Reuses the page benchmark's harness (``harness.py``): the PostgreSQL database of
the demo at ``--scale/--years`` (built with the portal's own commands when it is
missing, else reused: migrated and analyzed only), the portal under gunicorn as
in production, real form logins.  Each demo login (a Super Admin and an
Oraseas EE admin: the staff's boards; a customer's admin and user: theirs; the
auditor: the auditors') opens ``/`` once to warm up, then ``--rounds`` times;
it prints the time of each answer (p50, p95; the request on 127.0.0.1 from
first byte sent to last byte read: the server's time plus a loopback round
trip), the SQL statements it sent (``X-Query-Count``) and the page's size.
It changes nothing in the database but what logging in writes (sessions and
security events).  Target (issue 11): p50 <= 300 ms at ``--scale 10``.

    python tests/benchmarks/bench_dashboard.py --scale 10 --years 10 [--rounds 20]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    Gunicorn,
    add_arguments,
    demo_size,
    form_login,
    machine_description,
    percentile,
    prepared_database,
)

#: The demo logins, one per kind of dashboard (and both kinds of staff and of customers).
LOGINS = [("superadmin", "staff (all organizations)"), ("oraseas.admin", "staff (Oraseas EE)"),
          ("aegean.admin", "customer admin"), ("aegean.user", "customer user"), ("auditor", "auditor")]
#: The target of issue 11, milliseconds.
TARGET_MS = 300


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--rounds", type=int, default=10, help="timed requests per login (default 10)")
    args = parser.parse_args(argv)
    database, seeded = prepared_database(args)
    with database.connect() as conn:
        machine = machine_description(conn)
        ledger, stock = (conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                         for table in ("transactions", "inventory"))
    print(f"Dashboards on {database.name} ({demo_size(seeded)}: {ledger:,} ledger rows, {stock:,} stock lines); "
          f"{machine}; gunicorn {args.workers} sync workers; {args.rounds} rounds.")
    print(f"{'login':<15} {'dashboard':<27} {'p50 ms':>7} {'p95 ms':>7} {'queries':>8} {'KB':>6}"
          f"  target {TARGET_MS} ms")
    worst = 0.0
    with Gunicorn(database, workers=args.workers, redis_url=args.redis) as server:
        for username, kind in LOGINS:
            session = form_login(server.url, username)
            times, queries, size = [], 0, 0
            for round_number in range(args.rounds + 1):
                started = time.perf_counter()
                answer = session.get(server.url + "/", timeout=300, allow_redirects=False)
                body = answer.content
                elapsed = time.perf_counter() - started
                if answer.status_code != 200 or "abparts-dashboard" not in answer.text:
                    raise SystemExit(f"{username}: HTTP {answer.status_code}, not the dashboard")
                if round_number:  # the first answer warms the worker's caches up
                    times.append(elapsed)
                queries, size = int(answer.headers.get("X-Query-Count", "0")), len(body)
            p50, p95 = percentile(times, 0.5) * 1000, percentile(times, 0.95) * 1000
            worst = max(worst, p50)
            print(f"{username:<15} {kind:<27} {p50:>7.0f} {p95:>7.0f} {queries:>8} {size / 1024:>6.0f}"
                  f"  {'ok' if p50 <= TARGET_MS else 'OVER'}")
    print(f"Slowest p50: {worst:.0f} ms ({'within' if worst <= TARGET_MS else 'over'} the {TARGET_MS} ms target).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
