"""Benchmark: throughput under load, 30 users on 2 sync gunicorn workers (issue 15, "Throughput under load").

Run by hand (pytest does not collect it)::

    python tests/benchmarks/bench_load.py --scale 1 --years 1
    python tests/benchmarks/bench_load.py --users 30 --seconds 60 --workers 2

The database is built or reused as by ``bench_pages.py`` (same ``--postgres``,
``--database``, ``--scale``, ``--years``).  The portal runs under gunicorn
(``--workers`` sync workers, ``ABPARTS_ENV=production``).  The users are the admins
and users of customer organizations that hold stock and a machine, each logged in
through ``/api/v1/security/login`` (a JWT), each its own thread:

- 80% reads: a 100-row page of a REST list (``?q=(order_column:...,page:0,page_size:100)``,
  FAB's rison arguments) of the ledger (an admin; a user reads its part usage instead),
  stock levels, parts, transfers or customer orders, as that user sees it;
- 20% postings of one unit: a customer's user records part usage (``POST
  /api/v1/part_usage/``), a customer's admin a "found" stock adjustment (``POST
  /api/v1/stock_adjustment/``), on a few of its organization's stock lines, topped up
  to 100 by an admin's adjustment before the run, so nothing runs out.

It prints, first for one lone client (each kind in turn), then for all users at
once for ``--seconds``: requests, errors, p50 and p95 per kind, and the workers' CPU
time per request (``/proc/<pid>/stat`` of the gunicorn workers before and after);
then the throughput.  Issue 15's target: a 100-row list costs at most 25 ms of
server CPU, and the load runs at 80 requests/s or more with p95 at most 500 ms.
The postings stay in the database (a few hundred rows a run).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    BenchDatabase,
    Gunicorn,
    add_arguments,
    api_login,
    demo_size,
    machine_busy_seconds,
    machine_description,
    percentile,
    prepared_database,
    process_cpu_seconds,
)

#: REST list -> the column its page is ordered by (newest or first, as a screen shows it).
READS = {"transaction": ("transaction_date", "desc"), "inventory": ("last_updated", "desc"),
         "part": ("part_number", "asc"), "stock_transfer": ("created_at", "desc"),
         "customer_order": ("order_date", "desc"), "part_usage": ("usage_date", "desc")}
#: The lists each role reads (a customer's users may not read the ledger: their part usage instead).
ROLE_READS = {"Admin": ["transaction", "inventory", "part", "stock_transfer", "customer_order"],
              "User": ["part_usage", "inventory", "part", "stock_transfer", "customer_order"]}
#: The share of postings among the requests.
POSTING_SHARE = 0.2
#: Before the load, the stock lines the postings use are topped up to this (one unit moves at a time).
TOP_UP = 100
#: Stock lines per organization the postings use.
LINES = 5


class User:
    """One simulated user: its login, role, and what it may post against."""

    def __init__(self, username: str, role: str, organization: str):
        self.username, self.role, self.organization = username, role, organization
        self.session = None
        self.stock: list[tuple[str, str, str]] = []  # (inventory id, warehouse id, part id)
        self.machines: list[str] = []

    def read(self, base_url: str, resource: str):
        """One 100-row page of a REST list, ordered as :data:`READS` says."""
        column, direction = READS[resource]
        q = f"(order_column:{column},order_direction:{direction},page:0,page_size:100)"  # rison
        return f"read {resource}", self.session.get(f"{base_url}/api/v1/{resource}/", params={"q": q}, timeout=300)

    def post(self, base_url: str, rng: random.Random):
        """One posting of one unit: part usage by a user, a "found" adjustment by an admin."""
        inventory_id, warehouse_id, part_id = rng.choice(self.stock)
        if self.role == "User":
            return "post part usage", self.session.post(f"{base_url}/api/v1/part_usage/", timeout=300, json={
                "warehouse": warehouse_id, "machine": rng.choice(self.machines), "part": part_id,
                "quantity": "1", "notes": "load benchmark"})
        return "post stock adjustment", self.session.post(f"{base_url}/api/v1/stock_adjustment/", timeout=300, json={
            "inventory": inventory_id, "quantity_adjusted": "1", "reason_code": "found", "notes": "load benchmark"})


def load_users(database: BenchDatabase, count: int) -> list[User]:
    """Admins and users of customer organizations with an active machine and consumable
    stock lines in an active warehouse (up to :data:`LINES` each), by organization name."""
    users: list[User] = []
    with database.connect() as conn:
        rows = conn.execute("""
            SELECT u.username, r.name, o.id FROM organizations o
            JOIN ab_user u ON u.organization_id = o.id AND u.active
            JOIN ab_user_role ur ON ur.user_id = u.id JOIN ab_role r ON r.id = ur.role_id
            WHERE o.organization_type = 'customer' AND r.name IN ('Admin', 'User')
              AND EXISTS (SELECT 1 FROM machines m WHERE m.customer_organization_id = o.id AND m.status = 'active')
            ORDER BY o.name, r.name, u.username""").fetchall()
        for username, role, organization in rows:
            user = User(username, role, str(organization))
            user.stock = [tuple(str(v) for v in row) for row in conn.execute("""
                SELECT i.id, i.warehouse_id, i.part_id FROM inventory i
                JOIN warehouses w ON w.id = i.warehouse_id JOIN parts p ON p.id = i.part_id
                WHERE w.organization_id = %s AND w.is_active AND NOT w.is_transit AND p.part_type = 'consumable'
                ORDER BY i.current_stock DESC, i.id LIMIT %s""", [organization, LINES])]
            user.machines = [str(r[0]) for r in conn.execute(
                "SELECT id FROM machines WHERE customer_organization_id = %s AND status = 'active' ORDER BY id",
                [organization])]
            if user.stock:
                users.append(user)
            if len(users) == count:
                break
    if len(users) < count:
        print(f"Only {len(users)} users qualify (stock and a machine); running with them.", file=sys.stderr)
    return users


def top_up(database: BenchDatabase, base_url: str, users: list[User]) -> None:
    """Bring each stock line the postings use to :data:`TOP_UP`, by a "found" adjustment of an
    admin of its organization (through the API, as any posting), so no part usage runs dry."""
    admins = {u.organization: api_login(base_url, u.username) for u in users if u.role == "Admin"}
    lines = {(u.organization, line[0]) for u in users for line in u.stock}
    with database.connect() as conn:
        for organization, inventory_id in sorted(lines):
            stock = conn.execute("SELECT current_stock FROM inventory WHERE id = %s", [inventory_id]).fetchone()[0]
            if stock >= TOP_UP or organization not in admins:
                continue
            answer = admins[organization].post(f"{base_url}/api/v1/stock_adjustment/", timeout=300, json={
                "inventory": inventory_id, "quantity_adjusted": str(TOP_UP - int(stock)), "reason_code": "found",
                "notes": "load benchmark: top-up"})
            if answer.status_code != 201:
                raise SystemExit(f"top-up refused: HTTP {answer.status_code} {answer.text[:300]}")


def summarize(title: str, samples: dict, cpu: dict | None = None) -> None:
    """A markdown table: per kind, requests, errors, p50, p95, and CPU ms per request where measured."""
    print(f"\n**{title}**\n")
    print("| kind | requests | errors | p50 ms | p95 ms | server CPU ms/request |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for kind in sorted(samples):
        times = [t for t, ok in samples[kind] if ok]
        errors = sum(1 for _t, ok in samples[kind] if not ok)
        p50 = f"{statistics.median(times) * 1000:,.0f}" if times else "—"
        p95 = f"{percentile(times, 0.95) * 1000:,.0f}" if times else "—"
        per = f"{cpu[kind] * 1000:.1f}" if cpu and kind in cpu else "—"
        print(f"| {kind} | {len(samples[kind])} | {errors} | {p50} | {p95} | {per} |")


def timed(call):
    started = time.perf_counter()
    kind, answer = call()
    return kind, time.perf_counter() - started, answer.status_code < 300, answer


def lone_client(server: Gunicorn, users: list[User], requests_each: int, rng: random.Random) -> tuple[dict, dict]:
    """Each kind in turn, one request at a time (the first admin's reads and adjustments, the
    first user's part usage and reads of it): latency and the workers' CPU per request."""
    admin = next(u for u in users if u.role == "Admin")
    user = next((u for u in users if u.role == "User"), admin)
    calls = [lambda r=r: admin.read(server.url, r) for r in ROLE_READS["Admin"]]
    calls += [lambda: user.read(server.url, "part_usage"), lambda: admin.post(server.url, rng),
              lambda: user.post(server.url, rng)]
    samples, cpu = defaultdict(list), {}
    for call in calls:
        before = server.cpu_seconds()
        for _ in range(requests_each):
            kind, seconds, ok, _answer = timed(call)
            samples[kind].append((seconds, ok))
        cpu[kind] = (server.cpu_seconds() - before) / requests_each
    return samples, cpu


def under_load(server: Gunicorn, database: BenchDatabase, users: list[User], seconds: float, warmup: float,
               seed: int):
    """Every user at once, as fast as answers come, for ``warmup`` + ``seconds``; only the
    last ``seconds`` count.

    :returns: (samples per kind, CPU seconds in the measured window: the workers', the load
        client's, PostgreSQL's and the whole machine's).
    """
    samples = defaultdict(list)
    reported: set[str] = set()
    lock = threading.Lock()
    start = time.perf_counter()
    window = [start + warmup, start + warmup + seconds]
    marks = {}

    def mark(name):
        # PostgreSQL: the backends of the workers' connections when the window opens (pooled: they last).
        backends = marks.setdefault("backends", database.backend_pids())
        marks[name] = (server.cpu_seconds(), time.process_time(), process_cpu_seconds(backends),
                       machine_busy_seconds())

    timer = [threading.Timer(warmup, mark, ["start"]), threading.Timer(warmup + seconds, mark, ["end"])]

    def work(user: User, rng: random.Random):
        while time.perf_counter() < window[1]:
            began = time.perf_counter()
            if rng.random() < POSTING_SHARE:
                kind, elapsed, ok, answer = timed(lambda: user.post(server.url, rng))
            else:
                kind, elapsed, ok, answer = timed(lambda: user.read(server.url, rng.choice(ROLE_READS[user.role])))
            if not ok and kind not in reported:  # the first refusal of each kind, to see why
                reported.add(kind)
                print(f"{kind} as {user.username}: HTTP {answer.status_code} {answer.text[:300]}", file=sys.stderr)
            if began >= window[0] and began + elapsed <= window[1]:
                with lock:
                    samples[kind].append((elapsed, ok))

    threads = [threading.Thread(target=work, args=(u, random.Random(seed + i))) for i, u in enumerate(users)]
    for t in timer + threads:
        t.start()
    for t in threads + timer:
        t.join()
    cpu = [end - begin for begin, end in zip(marks["start"], marks["end"])]
    return samples, dict(zip(("workers", "client", "postgres", "machine"), cpu))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--users", type=int, default=30, help="concurrent users (default 30)")
    parser.add_argument("--seconds", type=float, default=60, help="measured seconds under load (default 60)")
    parser.add_argument("--warmup", type=float, default=5, help="seconds under load before measuring (default 5)")
    parser.add_argument("--lone", type=int, default=20, help="requests of each kind for the lone client (default 20)")
    args = parser.parse_args(argv)

    database, seeded = prepared_database(args)
    users = load_users(database, args.users)
    if not users:
        raise SystemExit("no customer user holds stock and a machine: is it the demo data?")
    with Gunicorn(database, args.workers, args.redis, query_count=False) as server:
        for user in users:
            user.session = api_login(server.url, user.username)
        top_up(database, server.url, users)
        print("lone client ...", file=sys.stderr)
        lone, lone_cpu = lone_client(server, users, args.lone, random.Random(1))
        print(f"{len(users)} users for {args.warmup:g} + {args.seconds:g} s ...", file=sys.stderr)
        loaded, cpu = under_load(server, database, users, args.seconds, args.warmup, seed=2)
        with database.connect() as conn:
            machine = machine_description(conn)
            ledger = conn.execute("SELECT count(*) FROM transactions").fetchone()[0]

    seconds = args.seconds
    total = sum(len(v) for v in loaded.values())
    reads = sum(len(v) for k, v in loaded.items() if k.startswith("read"))
    every = [t for v in loaded.values() for t, ok in v if ok]
    read_times = [t for k, v in loaded.items() if k.startswith("read") for t, ok in v if ok]
    print(f"\nDatabase {database.name}, {demo_size(seeded)} ({ledger:,} ledger rows); {args.workers} sync gunicorn workers; "
          f"{len(users)} users; {machine}.")
    summarize("one client alone", lone, lone_cpu)
    summarize(f"{len(users)} users at once, {seconds:g} s", loaded)
    print(f"\nThroughput: {total / seconds:.1f} requests/s ({reads / seconds:.1f} reads/s, "
          f"{(total - reads) / seconds:.1f} postings/s); all requests p50 {statistics.median(every) * 1000:,.0f} ms, "
          f"p95 {percentile(every, 0.95) * 1000:,.0f} ms; reads p95 {percentile(read_times, 0.95) * 1000:,.0f} ms.")
    share = {name: f"{used / seconds * 100:.0f}%" for name, used in cpu.items()}
    print(f"Server CPU: {cpu['workers'] * 1000 / max(total, 1):.1f} ms per request in the workers. "
          f"CPU used, in % of one core: workers {share['workers']}, PostgreSQL (the workers' connections) "
          f"{share['postgres']}, "
          f"the load client {share['client']}, the whole machine {share['machine']} of "
          f"{os.cpu_count() * 100}% (other work on it included).")
    print("Issue 15's target: >= 80 requests/s, p95 <= 500 ms, a 100-row list <= 25 ms of server CPU.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
