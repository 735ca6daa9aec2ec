"""Test fixtures: the app per database engine, a fresh copy of the base data per
test, and clients that log in for real (form login with CSRF, or JWT).

Engines: SQLite always; PostgreSQL too when ``TEST_DATABASE_URL`` points at a
PostgreSQL server (the tests create and drop their own databases there).  With
``ABPARTS_REQUIRE_POSTGRES=1`` (CI) a missing PostgreSQL fails instead of skipping.
The schema always comes from the migrations.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import tempfile
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from config import TestConfig, database_url

from . import factories

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
REQUIRE_PG = os.environ.get("ABPARTS_REQUIRE_POSTGRES") == "1"
ENGINES = ["sqlite", "postgresql"]


def pg_admin_url():
    if not PG_URL.startswith(("postgres://", "postgresql")):
        return None
    return make_url(database_url(PG_URL)).set(database="postgres")


def _pg_execute(sql: str) -> None:
    engine = sa.create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


def ensure_app_roles() -> None:
    """Create the portal's PostgreSQL roles (``abparts_app``, ``abparts_system``) once per cluster.

    CI connects as the ``postgres`` superuser, which bypasses row-level security: the
    suite's app connects as ``abparts_app`` instead, so that the whole suite runs
    under the database's own wall (issue 14).  Other test sessions may run this at
    the same time: a concurrent change of the same role is retried.
    """
    from sqlalchemy.exc import DBAPIError

    from app.row_security import create_roles_sql

    engine = sa.create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        for attempt in range(5):
            try:
                with engine.connect() as conn:
                    for statement in create_roles_sql():
                        conn.exec_driver_sql(statement)
                return
            except DBAPIError:
                if attempt == 4:
                    raise
    finally:
        engine.dispose()


def app_role_url(url: str) -> str:
    """``url`` (a superuser's) with the portal's role as its user (trust auth: no password)."""
    from app.row_security import APP_ROLE

    return make_url(url).set(username=APP_ROLE, password=None).render_as_string(hide_password=False)


class Database:
    """One test database per engine, restored from a template before each test."""

    def __init__(self, engine_name: str):
        self.engine_name = engine_name
        token = uuid.uuid4().hex[:8]
        if engine_name == "sqlite":
            self.dir = tempfile.mkdtemp(prefix="abparts-test-")
            self.path = os.path.join(self.dir, "test.db")
            self.template = os.path.join(self.dir, "template.db")
            self.url = f"sqlite:///{self.path}"
        else:
            self.name = f"abparts_test_{token}"
            self.owner_url = str(pg_admin_url().set(database=self.name).render_as_string(hide_password=False))
            ensure_app_roles()
            self.url = app_role_url(self.owner_url)
            _pg_execute(f'CREATE DATABASE "{self.name}"')

    def config_overrides(self) -> dict:
        """The settings that connect the app as the portal's role and migrate as the owner."""
        if self.engine_name == "sqlite":
            return {}
        return {"DATABASE_OWNER_URL": self.owner_url}

    def owner_engine(self, engine):
        """An engine of the tables' owner (snapshots, restores, tampering in tests)."""
        if self.engine_name == "sqlite":
            return engine
        return sa.create_engine(self.owner_url, poolclass=sa.pool.NullPool)

    def snapshot(self, engine) -> None:
        engine.dispose()
        if self.engine_name == "sqlite":
            shutil.copyfile(self.path, self.template)
            return
        engine = self.owner_engine(engine)
        # PostgreSQL: a copy of every table in a schema of its own; restoring is
        # DELETE + INSERT ... SELECT, far faster than a new database per test.
        with engine.begin() as conn:
            self.tables = [r[0] for r in conn.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
            conn.exec_driver_sql("CREATE SCHEMA abparts_tpl")
            for table in self.tables:
                conn.exec_driver_sql(f'CREATE TABLE abparts_tpl."{table}" AS TABLE public."{table}"')
            self.sequences = list(conn.exec_driver_sql(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"))
        engine.dispose()

    def restore(self, engine) -> None:
        engine.dispose()
        if self.engine_name == "sqlite":
            for suffix in ("-wal", "-shm"):
                if os.path.exists(self.path + suffix):
                    os.remove(self.path + suffix)
            shutil.copyfile(self.template, self.path)
            return
        engine = self.owner_engine(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL lock_timeout = '20s'")
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")  # no FK checks while copying
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
            for table in self.tables:  # DELETE beats TRUNCATE on a few hundred rows
                conn.exec_driver_sql(f'DELETE FROM public."{table}"')
            for table in self.tables:
                conn.exec_driver_sql(f'INSERT INTO public."{table}" SELECT * FROM abparts_tpl."{table}"')
            for name, last_value in self.sequences:
                if last_value is None:
                    conn.exec_driver_sql(f"SELECT setval('public.\"{name}\"', 1, false)")
                else:
                    conn.exec_driver_sql(f"SELECT setval('public.\"{name}\"', {int(last_value)}, true)")
        engine.dispose()

    def drop(self, engine) -> None:
        engine.dispose()
        if self.engine_name == "sqlite":
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            _pg_execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def require_engine(engine_name: str) -> None:
    """Skip a PostgreSQL test without a server (fail instead when CI requires one)."""
    if engine_name == "postgresql" and pg_admin_url() is None:
        if REQUIRE_PG:
            pytest.fail("ABPARTS_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not a PostgreSQL URL")
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL=postgresql://...")


@contextlib.contextmanager
def empty_database(engine_name: str, prefix: str):
    """The URL of a brand-new, empty database of ``engine_name``, dropped afterwards."""
    require_engine(engine_name)
    if engine_name == "sqlite":
        directory = tempfile.mkdtemp(prefix=f"abparts-{prefix}-")
        try:
            yield f"sqlite:///{os.path.join(directory, 'empty.db')}"
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return
    name = f"abparts_{prefix}_{uuid.uuid4().hex[:8]}"
    _pg_execute(f'CREATE DATABASE "{name}"')
    try:
        yield pg_admin_url().set(database=name).render_as_string(hide_password=False)
    finally:
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on (for a server a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_available() -> bool:
    """Whether Redis answers on 127.0.0.1:6379 (the tests of limits shared across processes)."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def make_config(url: str, **overrides):
    return type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url, **overrides})


@pytest.fixture(scope="session", params=ENGINES)
def engine_name(request):
    """The database engine under test: every test runs on SQLite and on PostgreSQL."""
    require_engine(request.param)
    return request.param


@pytest.fixture(scope="session")
def database(engine_name):
    dbase = Database(engine_name)
    yield dbase


@pytest.fixture(scope="session")
def app(database):
    """The portal on a migrated database holding :func:`factories.build_base_data`."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.security.setup import sync_roles

    application = create_app(make_config(database.url, **database.config_overrides()))
    with application.app_context():
        upgrade()
        sync_roles()
        factories.build_base_data()
        db.session.remove()
        database.snapshot(db.engine)
    yield application
    with application.app_context():
        database.drop(db.engine)


@pytest.fixture(autouse=True)
def fresh_data(request):
    """Restore the base data before each test that uses the app."""
    if "app" not in request.fixturenames:
        yield
        return
    application = request.getfixturevalue("app")
    database = request.getfixturevalue("database")
    from app.extensions import db

    with application.app_context():
        db.session.remove()
        database.restore(db.engine)
    yield
    with application.app_context():
        db.session.remove()


@pytest.fixture
def ctx(app):
    """An application context (for direct model work), torn down after the test."""
    from app.extensions import db

    with app.app_context():
        yield db.session
        db.session.remove()


@pytest.fixture
def config(app):
    """Change settings for one test; restored afterwards."""
    saved = dict(app.config)
    yield app.config
    app.config.clear()
    app.config.update(saved)


@pytest.fixture
def client(app):
    return app.test_client()


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of a rendered FAB form."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def submit_form(client, url: str, data: dict, **kwargs):
    """Open the form at ``url`` and submit ``data`` with the form's CSRF token, as a browser does.

    :param kwargs: passed to ``client.post`` (``follow_redirects=True`` ...).
    :returns: the response to the POST.
    """
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data}, **kwargs)


@pytest.fixture
def client_as(app):
    """``client_as("acme.admin")``: a test client logged in through the real login form."""

    def login(username, password=factories.PASSWORD):
        c = app.test_client()
        page = c.get("/login/")
        token = csrf_token(page.get_data(as_text=True))
        resp = c.post("/login/", data={"username": username, "password": password, "csrf_token": token})
        assert resp.status_code == 302 and "/login" not in resp.headers["Location"], f"login failed for {username}"
        return c

    return login


@pytest.fixture
def api_token(app):
    """``api_token("acme.admin")``: a JWT access token from ``/api/v1/security/login``."""

    def token(username, password=factories.PASSWORD):
        resp = app.test_client().post("/api/v1/security/login", json={
            "username": username, "password": password, "provider": "db", "refresh": False})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp.get_json()["access_token"]

    return token


@pytest.fixture
def api_as(app, api_token):
    """``api_as("acme.admin")``: a test client that sends that user's JWT with every request."""

    class ApiClient:
        def __init__(self, username):
            self.client = app.test_client()
            self.headers = {"Authorization": f"Bearer {api_token(username)}"}

        def __getattr__(self, method):
            call = getattr(self.client, method)
            return lambda url, **kw: call(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    return ApiClient


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@contextlib.contextmanager
def counted_queries(engine):
    """The SQL statements sent to ``engine`` while the block runs (a list, filled as they go)."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def as_owner(sql: str, params: dict | None = None, autocommit: bool = False) -> None:
    """Run ``sql`` as the tables' owner and commit (inside an app context): what the portal's
    role may not do on PostgreSQL (migration 0015), such as editing a ledger row to test
    ``verify-ledger``, or ``VACUUM`` (``autocommit=True``).  On SQLite, and without
    ``DATABASE_OWNER_URL``, through the app's own session (or engine, for ``autocommit``)."""
    from flask import current_app

    from app.extensions import db

    owner_url = current_app.config.get("DATABASE_OWNER_URL")
    if not owner_url and not autocommit:
        # The session's own connection: on SQLite another one would wait for its write lock.
        db.session.execute(sa.text(sql), params or {})
        db.session.commit()
        return
    engine = sa.create_engine(owner_url, poolclass=sa.pool.NullPool) if owner_url else db.engine
    try:
        if autocommit:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text(sql), params or {})
        else:
            with engine.begin() as conn:
                conn.execute(sa.text(sql), params or {})
    finally:
        if owner_url:
            engine.dispose()


def get_one(model, **where):
    """The single row of ``model`` matching ``where`` (unscoped; inside an app context)."""
    from app.extensions import db
    from app.scoping import system

    with system():
        return db.session.execute(sa.select(model).filter_by(**where)).scalar_one()


def choices(client, view: str, kind: str, column: str, q: str = "", page: int = 1) -> dict[str, str]:
    """``{text: id}`` of one page of a relation field's on-demand choices (``/<view>/choices/...``).

    :param view: the screen's route base without slashes, e.g. ``"transactionmodelview"``.
    :param kind: ``add``, ``edit`` or ``search``.
    """
    resp = client.get(f"/{view}/choices/{kind}/{column}", query_string={"q": q, "page": page})
    assert resp.status_code == 200, resp.status_code
    return {row["text"]: row["id"] for row in resp.get_json()["results"]}


@pytest.fixture
def w(app):
    """Ids of the base data's warehouses and parts, as strings."""
    from app import models as m
    from app.extensions import db

    with app.app_context():
        out = {name: str(get_one(m.Warehouse, name=name).id)
               for name in ("Central", "Acme Main", "Acme Site", "Beta Main")}
        out.update({number: str(get_one(m.Part, part_number=number).id) for number in ("CON-1", "BULK-1")})
        db.session.remove()
    return out
