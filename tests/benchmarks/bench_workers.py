"""Benchmark: requests per second of one portal instance by gunicorn worker model (issue 15).

Run by hand (pytest does not collect it)::

    python tests/benchmarks/bench_workers.py --postgres postgresql://postgres@127.0.0.1/postgres
    python tests/benchmarks/bench_workers.py --postgres ... --models sync:1 sync:2 sync:4 gthread:2x4 --clients 8

It seeds the demo (``seed-demo --scale``, 1 by default: a year of ledger) into a
database of its own on the PostgreSQL server (``abparts_bench_workers_<random>``,
dropped at the end), then for each worker model starts ``gunicorn run:create_app()``
and lets ``--clients`` signed-in users (Oraseas EE's admin: it sees every
organization, the heaviest pages) open the dashboard, the ledger list and the stock
list in a loop for ``--seconds`` (``--rounds`` times).  It prints, per model, the
requests per second, the median and 95th-percentile answer time of the best round,
the answers of that round that were not 200, the workers' mean resident memory,
and the CPU time the workers spent per request (Linux ``/proc``): with one client
(``--clients 1 --models sync:1``), the answer time less that CPU time is the time a
worker waits (on PostgreSQL, mostly), which sets how many workers a core can keep busy.

A model is ``sync:<workers>`` (gunicorn's sync workers: one request at a time
each) or ``gthread:<workers>x<threads>``.  The clients run in this process, on
the same machine: they take some of its CPU, as a proxy would.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from config import database_url  # noqa: E402
from tests import servers  # noqa: E402

PAGES = ["/", "/transactionmodelview/list/", "/inventorymodelview/list/"]
USER = "oraseas.admin"


def _admin(url: str):
    return sa.create_engine(make_url(database_url(url)).set(database="postgres"), isolation_level="AUTOCOMMIT")


def gunicorn_options(model: str) -> list[str]:
    """``sync:4`` -> ``-w 4``; ``gthread:2x4`` -> ``-w 2 -k gthread --threads 4``."""
    kind, _, size = model.partition(":")
    if kind == "sync":
        return ["-w", size]
    workers, _, threads = size.partition("x")
    return ["-w", workers, "-k", "gthread", "--threads", threads]


def load(instance: servers.Instance, cookies: list[str], seconds: float) -> tuple[list[float], int]:
    """Each cookie's user opens :data:`PAGES` in turn for ``seconds``, all at once.

    :returns: the answer times (seconds) and the number of answers that were not 200.
    """
    times, failures, lock = [], [0], threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(cookie: str, offset: int) -> None:
        i = offset
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            status = instance.request("GET", PAGES[i % len(PAGES)], cookie=cookie)[0]
            elapsed = time.perf_counter() - started
            with lock:
                times.append(elapsed)
                failures[0] += status != 200
            i += 1

    threads = [threading.Thread(target=client, args=(cookie, n)) for n, cookie in enumerate(cookies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, failures[0]


def _workers(master_pid: int) -> list[str]:
    return Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()


def worker_rss_mb(master_pid: int) -> float | None:
    """The mean resident memory (MB) of a gunicorn master's workers (Linux ``/proc``), or ``None``."""
    try:
        sizes = [int(line.split()[1]) for pid in _workers(master_pid)
                 for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS:")]
    except OSError:
        return None
    return sum(sizes) / len(sizes) / 1024 if sizes else None


def workers_cpu_seconds(master_pid: int) -> float | None:
    """The CPU time (user + system, seconds) a gunicorn master's workers have used (Linux ``/proc``)."""
    try:
        ticks = sum(int(f) for pid in _workers(master_pid)
                    for f in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11:13])
    except OSError:
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


def measured_round(instance: servers.Instance, cookies: list[str], seconds: float) -> dict:
    """One round of :func:`load`, with the CPU time the workers spent on it."""
    before = workers_cpu_seconds(instance.process.pid)
    times, failures = load(instance, cookies, seconds)
    after = workers_cpu_seconds(instance.process.pid)
    cpu = (after - before) / len(times) * 1000 if before is not None and after is not None and times else None
    return {"times": sorted(times), "failures": failures, "cpu_ms": cpu}


def bench_model(model: str, env: dict, folder: str, args) -> dict:
    instance = servers.start(model, env, os.path.join(folder, f"{model.replace(':', '-')}.log"),
                             *gunicorn_options(model), "--timeout", "120")
    try:
        instance.wait_until_serving(time.monotonic() + 120)
        cookies = [instance.form_login(USER, args.password) for _ in range(args.clients)]
        load(instance, cookies, args.warmup)  # every worker has started and filled its caches
        # Best of the rounds: other work on the machine only slows a round down.
        best = max((measured_round(instance, cookies, args.seconds) for _ in range(args.rounds)),
                   key=lambda result: len(result["times"]))
        rss = worker_rss_mb(instance.process.pid)
    finally:
        instance.stop()
    times = best["times"]
    return {"model": model, "rps": len(times) / args.seconds, "p50": statistics.median(times) * 1000,
            "p95": times[int(len(times) * 0.95) - 1] * 1000, "failures": best["failures"], "rss": rss,
            "cpu_ms": best["cpu_ms"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", required=True, help="a PostgreSQL URL; a database of its own is made there")
    parser.add_argument("--models", nargs="+", default=["sync:1", "sync:2", "sync:4", "gthread:2x4"])
    parser.add_argument("--clients", type=int, default=8, help="users requesting at once")
    parser.add_argument("--seconds", type=float, default=10, help="length of one round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per model; the best one is shown")
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--scale", default="1.0", help="seed-demo --scale")
    parser.add_argument("--password", default="abparts-demo", help=f"{USER}'s password (the demo's)")
    args = parser.parse_args(argv)

    name = f"abparts_bench_workers_{uuid.uuid4().hex[:8]}"
    url = make_url(database_url(args.postgres)).set(database=name).render_as_string(hide_password=False)
    admin = _admin(args.postgres)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    folder = tempfile.mkdtemp(prefix="abparts-bench-workers-")
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-" + "x" * 40, "ABPARTS_INSTANCE_DIR": folder,
           "AUTH_RATE_LIMIT_ADDRESS": "100000 per minute", "AUTH_RATE_LIMIT_USERNAME": "100000 per minute",
           "PYTHONPATH": str(ROOT)}
    env.pop("ABPARTS_ENV", None)
    try:
        flask = [sys.executable, "-m", "flask", "--app", "run"]
        print(f"seeding the demo (scale {args.scale}) ...", flush=True)
        for command in (["db", "upgrade"], ["abparts", "sync-roles"], ["abparts", "seed-demo", "--scale", args.scale]):
            subprocess.run([*flask, *command], cwd=ROOT, env=env, check=True, capture_output=True)
        print(f"{os.cpu_count()} CPUs; {args.clients} clients, best of {args.rounds} rounds of {args.seconds:.0f} s; pages: "
              + ", ".join(PAGES), flush=True)
        print(f"{'model':<14} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'not 200':>8} {'MB/worker':>10} "
              f"{'worker CPU ms/req':>18}")
        for model in args.models:
            row = bench_model(model, env, folder, args)
            rss = f"{row['rss']:.0f}" if row["rss"] else "?"
            cpu = f"{row['cpu_ms']:.0f}" if row["cpu_ms"] else "?"
            print(f"{row['model']:<14} {row['rps']:>7.1f} {row['p50']:>8.0f} {row['p95']:>8.0f} "
                  f"{row['failures']:>8} {rss:>10} {cpu:>18}", flush=True)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
