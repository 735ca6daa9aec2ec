"""Engine settings per database: SQLite needs a write lock taken up front."""
from __future__ import annotations

from flask import g, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine


def configure_engine(engine: Engine, config) -> None:
    """Make SQLite safe for concurrent requests; PostgreSQL needs nothing here.

    SQLite ignores ``SELECT ... FOR UPDATE`` and upgrades a reading
    transaction to a writing one only if no other writer came first ("database
    is locked").  So every transaction starts with ``BEGIN IMMEDIATE`` (the
    write lock up front) and waits up to ``SQLITE_BUSY_TIMEOUT`` seconds for
    it; foreign keys are enforced; file databases use write-ahead logging.
    """
    if engine.dialect.name != "sqlite" or getattr(engine, "_abparts_configured", False):
        return
    timeout_ms = int(float(config.get("SQLITE_BUSY_TIMEOUT", 30)) * 1000)
    in_memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={timeout_ms}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    engine._abparts_configured = True


def init_session_teardown(app, db) -> None:
    """End each request's session without letting a dead connection reach the user.

    Flask-SQLAlchemy's own teardown rolls the session back; if the database
    closed the connection meanwhile (a restart, ``pg_terminate_backend``, a
    proxy's idle timeout) that rollback raises during teardown, after the
    answer was made, and the server shows its bare error page.  This teardown
    runs first (teardowns run in reverse order of registration): it removes
    the session, and a disconnect there only invalidates the connection (the
    pool drops it; ``pool_pre_ping`` replaces it at the next checkout).
    """
    from sqlalchemy.exc import DBAPIError

    @app.teardown_appcontext
    def _remove_session(_exc=None):
        try:
            db.session.remove()
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                app.logger.warning("Rolling back the request's session failed: %s", exc.__class__.__name__)
            try:
                db.session.remove()
            except DBAPIError:
                pass


#: The response header of :func:`init_query_count_header`.
QUERY_COUNT_HEADER = "X-Query-Count"


def init_query_count_header(app, engine: Engine) -> None:
    """With ``QUERY_COUNT_HEADER`` on, answer every request with ``X-Query-Count``: the SQL
    statements it sent to the database (``before_cursor_execute``, one per statement,
    an ``executemany`` counting once).

    For the page benchmark (``tests/benchmarks/bench_pages.py``, issue 15), which reads
    the count of each page over HTTP from gunicorn.  Off (the default), nothing is
    registered: requests pay nothing for it.
    """
    if not app.config.get("QUERY_COUNT_HEADER"):
        return

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_args):
        if has_request_context():
            g.abparts_query_count = g.get("abparts_query_count", 0) + 1

    @app.after_request
    def _header(response):
        response.headers[QUERY_COUNT_HEADER] = str(g.get("abparts_query_count", 0))
        return response
