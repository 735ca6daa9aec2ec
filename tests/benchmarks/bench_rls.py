"""Benchmark: what PostgreSQL's row-level security costs the ledger list (issue 14).

Run by hand (pytest does not collect it), on a copy of the 10x10 demo (the migrations
of this change apply to the database it names)::

    psql -c "CREATE DATABASE abparts_bench_s10_y10_rls TEMPLATE abparts_bench_s10_y10"
    python tests/benchmarks/bench_rls.py --database abparts_bench_s10_y10_rls --rounds 20

1. The database is built or reused and migrated as by ``bench_pages.py`` (``harness.py``):
   as the server's user, the tables' owner.
2. Two gunicorns serve the portal on it: one connecting as the owner (row-level
   security does not apply: the portal as before issue 14) and one as ``abparts_app``
   (every transaction sends its scope; the policies confine the customer admin's rows).
3. ``superadmin`` and a customer admin (``--customer-admin``) log in on both.  Each round
   requests the ledger's page 1, page 100, the type filter, the search and the sort by
   quantity (100 rows a page) as each role from both servers, one right after the other,
   alternating which goes first.  The first round warms up and is not counted.
   Then, --sql-rounds times, each page's SQL floor (``bench_pages.py``: the least SQL the page needs,
   the customer's narrowed by its organizations) straight through psycopg, as the owner
   and as ``abparts_app`` with the scope set in the same transaction (alternating which
   goes first), as the portal sets it (``set_config`` of the role and the organizations, then the floor): the
   database's own share of the cost, without the HTTP noise.
4. It prints p50 and p95 (ms) per page and role, without and with row-level security,
   their ratio, and the plan of the customer's ledger page 1 with no ORM criteria at all
   (the policy alone) through ``abparts_app``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg  # noqa: E402

from bench_pages import PAGES, Figures, get_page, run_floor, run_parameters, variants  # noqa: E402
from harness import (  # noqa: E402
    Gunicorn,
    add_arguments,
    demo_size,
    form_login,
    machine_description,
    percentile,
    prepared_database,
)

MODES = ("without", "with")


def policy_plan(app_url: str, organizations: list[str]) -> list[str]:
    """``EXPLAIN ANALYZE`` of the customer's ledger page 1 as ``abparts_app`` with no WHERE at all:
    the rows come from the policy alone."""
    with psycopg.connect(app_url) as conn:
        conn.execute("SELECT set_config('abparts.organization_ids', %s, true)",
                     ["{" + ",".join(organizations) + "}"])
        rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT id FROM transactions "
                            "ORDER BY transaction_date DESC, id DESC LIMIT 100").fetchall()
        conn.rollback()
    return [row[0] for row in rows]


def floor(conn, scope, variant, scoped: bool, params: dict, figures: Figures) -> None:
    """The page's SQL floor in one transaction of ``conn``; with ``scope`` (``(role, organization ids)``)
    set first, as the portal sets it (its time counted)."""
    if scope is None:
        run_floor(conn, variant, scoped, params, figures)
    else:
        timed = Figures()
        started = time.perf_counter()
        conn.execute("SELECT set_config('role', %s, true), set_config('abparts.organization_ids', %s, true)", scope)
        run_floor(conn, variant, scoped, params, timed)
        figures.floor.append(time.perf_counter() - started)
        figures.floor_rows = timed.floor_rows
    conn.rollback()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds (default 15)")
    parser.add_argument("--sql-rounds", type=int, default=100, help="timed rounds of the SQL floors (default 100)")
    parser.add_argument("--customer-admin", default="aegean.admin", help="the customer admin's login")
    args = parser.parse_args(argv)

    database, seeded = prepared_database(args)
    params = run_parameters(database, args.customer_admin)
    logins = {"super admin": "superadmin", "customer admin": args.customer_admin}
    ledger = next(page for page in PAGES if page.name == "ledger")
    plan = [v for v in variants(ledger, ["quantity_with_unit"], params)
            if v.label in ("page 1", "page 100", "filter transaction_type", "search", "sort quantity_with_unit")]
    results = {(mode, role, v.label): Figures() for mode in MODES for role in logins for v in plan}
    scopes = {"super admin": ("abparts_system", ""), "customer admin": ("none", "{" + ",".join(params["orgs"]) + "}")}
    role_params = {role: {**params, "user_id": database.user(login)[0]} for role, login in logins.items()}
    with Gunicorn(database, args.workers, args.redis) as owner, \
            Gunicorn(database, args.workers, args.redis, app_role=True) as confined, \
            psycopg.connect(database.url) as owner_sql, psycopg.connect(database.app_url) as admin_sql, \
            psycopg.connect(database.app_url) as customer_sql:
        # One connection per role, as a worker serving one user: a change of role between two
        # runs of a prepared statement re-plans it (PostgreSQL ties plans of tables with
        # row-level security to the role), which the floors would otherwise pay every time.
        app_sql = {"super admin": admin_sql, "customer admin": customer_sql}
        servers = {"without": owner, "with": confined}
        sessions = {(mode, role): form_login(server.url, login)
                    for mode, server in servers.items() for role, login in logins.items()}
        for round_number in range(args.rounds + 1):
            print(f"round {round_number}/{args.rounds}" + (" (warm-up)" if round_number == 0 else ""),
                  file=sys.stderr)
            for index, variant in enumerate(plan):  # HTTP
                for role in logins:
                    order = MODES if (round_number + index) % 2 == 0 else MODES[::-1]
                    for mode in order:
                        figures = results[mode, role, variant.label] if round_number else Figures()
                        get_page(sessions[mode, role], servers[mode].url, variant, figures)
                        if figures.errors:
                            raise SystemExit(f"{mode} row-level security, {role}, {variant.label}: {figures.errors}")
        # The floors apart, many more times: a few ms each, and the machine's noise is larger.
        for round_number in range(args.sql_rounds + 1):
            for index, variant in enumerate(plan):
                for role in logins:
                    order = MODES if (round_number + index) % 2 == 0 else MODES[::-1]
                    for mode in order:
                        figures = results[mode, role, variant.label] if round_number else Figures()
                        floor(owner_sql if mode == "without" else app_sql[role], None if mode == "without" else scopes[role],
                              variant, role == "customer admin", role_params[role], figures)
        with database.connect() as conn:
            machine = machine_description(conn)
            rows = conn.execute("SELECT count(*) FROM transactions").fetchone()[0]
    print(f"\nDatabase {database.name}, {demo_size(seeded)} ({rows:,} ledger rows); {args.workers} sync gunicorn "
          f"workers per server; {args.rounds} rounds; 100 rows a page; {machine}.")
    print(f"Customer admin: {args.customer_admin} (organizations {', '.join(params['orgs'])}).\n")
    print("| ledger page | role | HTTP p50 without RLS | with RLS | with / without | p95 without | p95 with | "
          "SQL floor p50 without | with | with / without |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for variant in plan:
        for role in logins:
            without, with_ = (results[mode, role, variant.label] for mode in MODES)
            p50 = [percentile(x.http, 0.5) * 1000 for x in (without, with_)]
            p95 = [percentile(x.http, 0.95) * 1000 for x in (without, with_)]
            sql = [percentile(x.floor, 0.5) * 1000 for x in (without, with_)]
            print(f"| {variant.label} | {role} | {p50[0]:.0f} | {p50[1]:.0f} | {p50[1] / p50[0]:.2f} | "
                  f"{p95[0]:.0f} | {p95[1]:.0f} | {sql[0]:.1f} | {sql[1]:.1f} | {sql[1] / sql[0]:.2f} |")
    print("\nThe customer's ledger page 1 through the policy alone (no ORM criteria), as abparts_app:")
    for line in policy_plan(database.app_url, params["orgs"]):
        print(f"    {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
