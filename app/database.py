"""Engine settings per database (SQLite needs a write lock taken up front), the request
session's teardown, and the long reads' session on a read replica (:func:`read_session`)."""
from __future__ import annotations

import contextlib
from typing import Iterator

from flask import current_app, g, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from config import READ_BIND

from .extensions import db as _db

#: Execution option of a connection that only reads (:func:`snapshot_session`).
SNAPSHOT_READ = "abparts_snapshot_read"


def configure_engine(engine: Engine, config) -> None:
    """Make SQLite safe for concurrent requests; on PostgreSQL, send each transaction's
    organization scope to the database's row-level security (:mod:`app.row_security`).

    SQLite ignores ``SELECT ... FOR UPDATE`` and upgrades a reading
    transaction to a writing one only if no other writer came first ("database
    is locked").  So every transaction starts with ``BEGIN IMMEDIATE`` (the
    write lock up front) and waits up to ``SQLITE_BUSY_TIMEOUT`` seconds for
    it; foreign keys are enforced; file databases use write-ahead logging.
    """
    if engine.dialect.name == "postgresql":
        from .row_security import init_row_security

        init_row_security(engine, config)
        return
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


_READ_SESSIONS = "abparts_read_sessions"
_READ_SESSION = "abparts_read_session"


def init_read_bind(app, db) -> None:
    """Prepare the long reads' sessions on the read replica, when ``DATABASE_READ_URL`` names one.

    Why a session of its own (and not a routing ``Session.get_bind`` or per-statement
    ``bind_arguments``): everything a long read loads, its rows and the
    relations its cells print (lazy and ``selectinload`` loads alike), comes
    through the session that loaded the rows, so one session bound to the
    replica sends all of it there, and nothing else can: the ledger's postings,
    the rule hooks, the security events and every screen that shows what was just
    written keep ``db.session`` on the primary.  The engine is Flask-SQLAlchemy's
    (``SQLALCHEMY_BINDS``: pooled with ``SQLALCHEMY_ENGINE_OPTIONS``, disposed
    with the app); :mod:`app.scoping`'s listener is on every :class:`~sqlalchemy.orm.Session`,
    so reads there are scoped as on the primary.  The session is opened on first
    use in an app context and closed at its end (a read replica transaction is
    rolled back, never committed); it refuses to flush.

    :param app: the portal, inside its app context.
    :param db: the Flask-SQLAlchemy extension (``db.engines``).
    """
    if READ_BIND not in (app.config.get("SQLALCHEMY_BINDS") or {}):
        return
    factory = sessionmaker(bind=db.engines[READ_BIND], autoflush=False)

    @event.listens_for(factory, "before_flush")
    def _refuse_writes(_session, _context, _instances):
        raise RuntimeError("The read replica's session writes nothing: write through db.session (the primary).")

    app.extensions[_READ_SESSIONS] = factory

    @app.teardown_appcontext
    def _close_read_session(_exc=None):
        session = g.pop(_READ_SESSION, None)
        if session is not None:
            session.close()


def read_session():
    """The session for long reads (list exports, dashboard figures): on the read replica
    when ``DATABASE_READ_URL`` is set, else the request's ``db.session`` itself.

    What it reads may lag the primary by the replica's replication delay: use it
    only for reads that need not show a write made an instant before.  Never
    write through it (a flush raises ``RuntimeError``; on PostgreSQL the bind's
    transactions are ``READ ONLY``).

    :returns: a :class:`~sqlalchemy.orm.Session`, one per app context.
    """
    factory = current_app.extensions.get(_READ_SESSIONS)
    if factory is None:
        return _db.session
    session = g.get(_READ_SESSION)
    if session is None:
        session = factory()
        setattr(g, _READ_SESSION, session)
    return session


def read_engine() -> Engine:
    """The engine of long streamed reads (exports, :func:`snapshot_session`): the read
    replica's when ``DATABASE_READ_URL`` is set, else the primary's."""
    return _db.engines[READ_BIND] if READ_BIND in _db.engines else _db.engine


#: The response header of :func:`init_query_count_header`.
QUERY_COUNT_HEADER = "X-Query-Count"


def init_query_count_header(app, db) -> None:
    """With ``QUERY_COUNT_HEADER`` on, answer every request with ``X-Query-Count``: the SQL
    statements it sent to the database, the read replica's bind included
    (``before_cursor_execute`` on each engine, one per statement, an ``executemany``
    counting once).

    For the page benchmark (``tests/benchmarks/bench_pages.py``, issue 15), which reads
    the count of each page over HTTP from gunicorn.  Off (the default), nothing is
    registered: requests pay nothing for it.
    """
    if not app.config.get("QUERY_COUNT_HEADER"):
        return

    def _count(*_args):
        if has_request_context():
            g.abparts_query_count = g.get("abparts_query_count", 0) + 1

    for engine in db.engines.values():
        event.listen(engine, "before_cursor_execute", _count)

    @app.after_request
    def _header(response):
        response.headers[QUERY_COUNT_HEADER] = str(g.get("abparts_query_count", 0))
        return response
