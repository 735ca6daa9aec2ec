"""Engine settings per database: SQLite needs a write lock taken up front."""
from __future__ import annotations

import contextlib
from typing import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

#: Execution option of a connection that only reads (:func:`snapshot_session`).
SNAPSHOT_READ = "abparts_snapshot_read"


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
        # A snapshot read takes no write lock: with write-ahead logging it blocks no writer.
        connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get(SNAPSHOT_READ)
                                   else "BEGIN IMMEDIATE")

    engine._abparts_configured = True


@contextlib.contextmanager
def snapshot_session(engine: Engine) -> Iterator[Session]:
    """A read-only ORM session on a connection of its own, reading one consistent snapshot.

    For long reads that stream their rows (exports): every statement of the
    session sees the database as it was at its first statement, and nothing it
    does holds up writers.  PostgreSQL: a ``REPEATABLE READ``, ``READ ONLY``
    transaction (streamed statements use server-side cursors).  SQLite: a
    deferred ``BEGIN`` instead of the usual ``BEGIN IMMEDIATE`` (a reader in
    write-ahead-log mode reads its snapshot while others write).  The
    organization scope applies as in any session (:mod:`app.scoping`).
    Rolled back and closed on leaving.
    """
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        else:
            connection.execution_options(**{SNAPSHOT_READ: True})
        with Session(bind=connection, autoflush=False) as session:
            yield session


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
