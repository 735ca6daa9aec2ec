"""What the page and load benchmarks share (issue 15): the demo database at a scale, gunicorn, logins.

Not a benchmark itself; ``bench_pages.py`` and ``bench_load.py`` import it.

- :class:`BenchDatabase`: a PostgreSQL database holding the demo at ``--scale/--years``,
  built with the portal's own commands (``flask --app run db upgrade`` and
  ``flask --app run abparts seed-demo``) when it does not exist or is empty,
  else reused (and migrated to the current schema).
- :class:`Gunicorn`: the portal as in production (``ABPARTS_ENV=production``, sync
  workers, rate limits in Redis under a key prefix of its own) on a free port.
- :func:`form_login` and :func:`api_login`: a real login, through the form (with its
  CSRF token) or ``/api/v1/security/login``.
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests import servers  # noqa: E402  (gunicorn in a process of its own)
#: The PostgreSQL server the benchmarks create their databases on (any database of it).
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
#: The demo's password (``app.demo.DEMO_PASSWORD``).
DEMO_PASSWORD = "abparts-demo"
#: The comment the harness gives a database it seeded (with ``--scale S --years Y``).
SEED_MARK = "abparts benchmark: seed-demo"
#: Every business cap lifted: the demo above scale 1 needs it, and the load test posts beyond a year's cap.
UNCAPPED = {name: "none" for name in (
    "LIMIT_CUSTOMER_ORGANIZATIONS", "LIMIT_USERS", "LIMIT_PARTS", "LIMIT_MACHINES", "LIMIT_WAREHOUSES",
    "LIMIT_TRANSACTIONS_PER_YEAR")}


def demo_size(seeded: tuple[float, int] | None) -> str:
    """``seed-demo --scale 1 --years 1``, or that the harness did not seed the database."""
    return f"seed-demo --scale {seeded[0]:g} --years {seeded[1]}" if seeded else "demo data of unknown size"


def default_database_name(scale: float, years: int) -> str:
    """``abparts_bench_s1_y1``, ``abparts_bench_s2_5_y3``: one database per demo size."""
    return f"abparts_bench_s{scale:g}_y{years}".replace(".", "_")


def percentile(values, fraction: float) -> float:
    """The ``fraction`` (0..1) percentile of ``values``, nearest rank; ``nan`` when empty."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def machine_description(conn) -> str:
    """``2 cores, 23 GB RAM, PostgreSQL 15.20, Python 3.11.2``: the machine a table of figures came from."""
    with open("/proc/meminfo") as meminfo:
        kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    version = conn.execute("SHOW server_version").fetchone()[0].split()[0]
    return (f"{os.cpu_count()} cores, {kb / 1024 / 1024:.0f} GB RAM, PostgreSQL {version}, "
            f"Python {platform.python_version()}")


def _process_cpu(stat_text: str) -> int:
    """utime + stime (clock ticks) from a ``/proc/<pid>/stat`` line (fields 14 and 15)."""
    fields = stat_text.rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


def process_cpu_seconds(pids) -> float:
    """User + system CPU seconds used so far by the processes ``pids`` (those still running)."""
    ticks = 0
    for pid in pids:
        try:
            ticks += _process_cpu(Path(f"/proc/{pid}/stat").read_text())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores, every process: ``/proc/stat``)."""
    with open("/proc/stat") as stat:
        user, nice, system, idle, iowait, irq, softirq, steal, *_ = (int(v) for v in stat.readline().split()[1:])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class BenchDatabase:
    """A PostgreSQL database holding the demo data at one size.

    :param server_url: ``postgresql://user@host:port/any_database`` of the server.
    :param name: the benchmark's database on that server.
    """

    def __init__(self, server_url: str, name: str):
        if not re.fullmatch(r"[A-Za-z0-9_]+", name):
            raise SystemExit(f"--database {name!r}: letters, digits and _ only")
        self.name = name
        server_url = server_url.replace("postgresql+psycopg://", "postgresql://")
        base, _, _old = server_url.rpartition("/")
        self.admin_url = server_url
        self.url = f"{base}/{name}"
        # The portal's role (migration 0015, README "Database roles"), with no password:
        # the benchmark server trusts local connections.
        self.app_url = re.sub(r"//[^@/]*@", "//abparts_app@", self.url) if "@" in self.url else \
            self.url.replace("//", "//abparts_app@", 1)

    def connect(self, **kwargs) -> psycopg.Connection:
        """A psycopg connection to the benchmark's database (autocommit)."""
        return psycopg.connect(self.url, autocommit=True, **kwargs)

    def _exists(self) -> bool:
        return bool(self._admin("SELECT 1 FROM pg_database WHERE datname = %s", [self.name]))

    def _organizations(self) -> int:
        with self.connect() as conn:
            if conn.execute("SELECT to_regclass('public.organizations')").fetchone()[0] is None:
                return 0
            return conn.execute("SELECT count(*) FROM organizations").fetchone()[0]

    def _flask(self, *args: str) -> None:
        env = {**os.environ, **UNCAPPED, "DATABASE_URL": self.url, "SECRET_KEY": secrets.token_hex(32)}
        env.pop("ABPARTS_ENV", None)
        subprocess.run([sys.executable, "-m", "flask", "--app", "run", *args], cwd=ROOT, env=env, check=True)

    def _admin(self, sql: str, params=None) -> list:
        """Run ``sql`` on the server's database named by ``--postgres`` (autocommit); its rows, if any."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def seeded_with(self) -> tuple[float, int] | None:
        """``(scale, years)`` the harness seeded the database with (kept as the database's
        comment), or ``None`` for a database it did not seed."""
        rows = self._admin("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                           [self.name])
        match = re.fullmatch(rf"{SEED_MARK} --scale (\S+) --years (\d+)", (rows[0][0] or "") if rows else "")
        return (float(match.group(1)), int(match.group(2))) if match else None

    def ensure(self, scale: float, years: int, echo=print) -> tuple[float, int] | None:
        """Create, migrate and seed the database unless it holds data already (then migrate and
        ``ANALYZE`` it only).

        A seeding that fails or is interrupted drops the database, so that the next run
        starts afresh rather than reusing half the demo.

        :returns: ``(scale, years)`` of the demo data, or ``None`` when the harness did not seed it.
        :raises subprocess.CalledProcessError: a command failed (its output is on the terminal).
        """
        if not self._exists():
            self._admin(f'CREATE DATABASE "{self.name}"')
        self._flask("db", "upgrade")
        if self._organizations():
            seeded = self.seeded_with()
            echo(f"Reusing database {self.name}, " + (f"seeded with --scale {seeded[0]:g} --years {seeded[1]}."
                                                     if seeded else "not seeded by this benchmark."))
            # Fresh planner statistics: a migration may have filled new columns, the load
            # benchmark adds rows, and autovacuum may be off (it is on the development server).
            with self.connect() as conn:
                conn.execute("ANALYZE")
            return seeded
        echo(f"Seeding {self.name}: seed-demo --scale {scale:g} --years {years} ...")
        started = time.perf_counter()
        try:
            self._flask("abparts", "seed-demo", "--scale", f"{scale:g}", "--years", str(years))
        except BaseException:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            raise
        echo(f"Seeded in {time.perf_counter() - started:.0f} s.")
        with self.connect() as conn:
            conn.execute("VACUUM ANALYZE")
        self._admin(f"COMMENT ON DATABASE \"{self.name}\" IS '{SEED_MARK} --scale {scale:g} --years {years}'")
        return scale, years

    def backend_pids(self) -> list[int]:
        """The PostgreSQL server processes connected to this database (the portal's pooled
        connections), for their CPU time (:func:`process_cpu_seconds`; a local server only)."""
        with self.connect() as conn:
            return [row[0] for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [self.name])]

    def user(self, username: str) -> tuple[int, str]:
        """``(id, organization id)`` of a login."""
        with self.connect() as conn:
            row = conn.execute("SELECT id, organization_id FROM ab_user WHERE username = %s", [username]).fetchone()
        if row is None:
            raise SystemExit(f"no user {username!r} in {self.name}: is it the demo data?")
        return row[0], str(row[1])

    def organization_family(self, organization_id: str) -> list[str]:
        """The organization and the suppliers whose parent it is (``app.scoping.organization_family``)."""
        with self.connect() as conn:
            children = conn.execute(
                "SELECT id FROM organizations WHERE parent_organization_id = %s AND organization_type = 'supplier'",
                [organization_id]).fetchall()
        return [organization_id, *sorted(str(row[0]) for row in children)]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments both benchmarks take: the database, its demo size, gunicorn's workers, Redis."""
    parser.add_argument("--postgres", default=DEFAULT_SERVER, help=f"the PostgreSQL server (default {DEFAULT_SERVER})")
    parser.add_argument("--database", help="the benchmark's database (default abparts_bench_s<scale>_y<years>)")
    parser.add_argument("--scale", type=float, default=1.0, help="seed-demo --scale for a new database (default 1)")
    parser.add_argument("--years", type=int, default=1, help="seed-demo --years for a new database (default 1)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--redis", default=DEFAULT_REDIS, help=f"Redis for the rate limits (default {DEFAULT_REDIS})")


def prepared_database(args: argparse.Namespace) -> tuple[BenchDatabase, tuple[float, int] | None]:
    """The database :func:`add_arguments` names, built or reused (:meth:`BenchDatabase.ensure`),
    and ``(scale, years)`` of its demo data (``None``: not seeded by the harness)."""
    database = BenchDatabase(args.postgres, args.database or default_database_name(args.scale, args.years))
    return database, database.ensure(args.scale, args.years, echo=lambda text: print(text, file=sys.stderr))


class Gunicorn:
    """``gunicorn --workers N 'run:create_app()'`` (sync workers) on a free port, as in production
    (started and stopped by :mod:`tests.servers`).

    ``ABPARTS_ENV=production`` with a random ``SECRET_KEY``; session cookies not
    marked ``Secure`` (plain HTTP on 127.0.0.1); the login rate limits in Redis
    under a key prefix of this run, and set high enough for the benchmark's logins;
    every business cap lifted.  A context manager: stopped on exit.

    :param query_count: answer with ``X-Query-Count`` (``ABPARTS_QUERY_COUNT_HEADER``).
    :param app_role: connect as the portal's PostgreSQL role (``abparts_app``, under row-level
        security, as in production; ``DATABASE_OWNER_URL`` the server's user) instead of the
        server's user (the tables' owner, which row-level security does not confine).
    """

    def __init__(self, database: BenchDatabase, workers: int = 2, redis_url: str = DEFAULT_REDIS,
                 query_count: bool = True, app_role: bool = False):
        self.env = {
            **os.environ, **UNCAPPED,
            "ABPARTS_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": database.app_url if app_role else database.url,
            **({"DATABASE_OWNER_URL": database.url} if app_role else {}),
            "SESSION_COOKIE_SECURE": "0",
            "RATELIMIT_STORAGE_URI": redis_url, "RATELIMIT_KEY_PREFIX": f"abparts-bench-{secrets.token_hex(4)}",
            "AUTH_RATE_LIMIT_ADDRESS": "100000 per minute", "AUTH_RATE_LIMIT_USERNAME": "100000 per minute",
            "ABPARTS_QUERY_COUNT_HEADER": "1" if query_count else "0",
        }
        self.workers = workers
        self.log = Path(tempfile.mkstemp(prefix="abparts-bench-gunicorn-", suffix=".log")[1])
        self.instance: servers.Instance | None = None
        self.url = ""

    def __enter__(self) -> "Gunicorn":
        if servers.gunicorn_path() is None:
            raise SystemExit("gunicorn is not installed (pip install -r requirements.txt)")
        self.instance = servers.start("benchmark", self.env, str(self.log), "--workers", str(self.workers),
                                      "--worker-class", "sync", "--timeout", "300")
        self.url = f"http://127.0.0.1:{self.instance.port}"
        deadline = time.monotonic() + 120
        try:
            self.instance.wait_until_serving(deadline)
            while len(self.worker_pids()) < self.workers and time.monotonic() < deadline:
                time.sleep(0.2)
        except AssertionError as exc:
            self.__exit__()
            raise SystemExit(f"gunicorn did not start: {exc}") from None
        return self

    def __exit__(self, *_exc) -> None:
        if self.instance is not None:
            self.instance.stop()
        self.log.unlink(missing_ok=True)

    def worker_pids(self) -> list[int]:
        """The worker processes (children of the gunicorn master)."""
        pid = self.instance.process.pid
        path = Path(f"/proc/{pid}/task/{pid}/children")
        return [int(child) for child in path.read_text().split()] if path.exists() else []

    def cpu_seconds(self) -> float:
        """User + system CPU seconds the workers have used so far (``/proc/<pid>/stat``)."""
        return process_cpu_seconds(self.worker_pids())


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def form_login(base_url: str, username: str, password: str = DEMO_PASSWORD) -> requests.Session:
    """A browser-like session logged in through the login form (CSRF token included).

    :raises SystemExit: the login was refused.
    """
    session = requests.Session()
    page = session.get(f"{base_url}/login/", timeout=60)
    match = _CSRF.search(page.text)
    if match is None:
        raise SystemExit("no CSRF token on the login page")
    answer = session.post(f"{base_url}/login/", allow_redirects=False, timeout=60, data={
        "username": username, "password": password, "csrf_token": match.group(1) or match.group(2)})
    if answer.status_code != 302 or "/login" in answer.headers.get("Location", ""):
        raise SystemExit(f"login as {username} failed ({answer.status_code})")
    return session


def api_login(base_url: str, username: str, password: str = DEMO_PASSWORD) -> requests.Session:
    """A session sending ``username``'s JWT (``/api/v1/security/login``) with every request."""
    session = requests.Session()
    answer = session.post(f"{base_url}/api/v1/security/login", timeout=60, json={
        "username": username, "password": password, "provider": "db", "refresh": False})
    if answer.status_code != 200:
        raise SystemExit(f"API login as {username} failed ({answer.status_code}): {answer.text[:200]}")
    session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return session
