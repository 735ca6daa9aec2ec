"""The database's own wall on PostgreSQL (issue 14): each transaction tells PostgreSQL
whose rows it may see, so row-level security confines even SQL that forgets the ORM scope.

Two roles besides the owner (migration ``0015_row_security``, README "Database roles"):

- :data:`APP_ROLE` (``abparts_app``): the portal connects as it (``DATABASE_URL``).
  Not the tables' owner and without ``BYPASSRLS``: every organization's table is
  filtered by the policies, keyed on the ``abparts.organization_ids`` setting.
- :data:`SYSTEM_ROLE` (``abparts_system``): ``BYPASSRLS``, no login, granted to the
  app role, which switches to it with ``SET LOCAL ROLE`` while the scope is "every
  organization".  Neither role may update or delete ledger rows.

Which scope a statement runs under is :func:`app.scoping.database_scope`, read
from the same actor as the ORM criteria.  Before each statement on a connection
of the app role, :func:`_set_scope` compares it with what the connection's
transaction was told last and, when it differs (the first statement of a
transaction, entering or leaving :func:`app.scoping.system`), sends one
``SELECT set_config(...)``.  The settings are transaction-local (``is_local``):
a new transaction starts with none, and no setting shows no rows.

A connection of another role (the owner or a superuser, as in a development set-up
on PostgreSQL; SQLite) is left alone: row-level security does not apply to it.
"""
from __future__ import annotations

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.engine import Engine

#: The role the portal logs in as.
APP_ROLE = "abparts_app"
#: The role of the system's work (``BYPASSRLS``), taken with ``SET LOCAL ROLE``.
SYSTEM_ROLE = "abparts_system"

#: ``connection.info`` keys: whether the connection is the app role's, and the scope sent last.
_ENABLED = "abparts_row_security"
_SENT = "abparts_scope_sent"

_TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
_SET = "SELECT set_config('role', %s, true), set_config('abparts.organization_ids', %s, true), " \
       "set_config('abparts.allow_negative_stock', %s, true)"


def create_roles_sql(password: str | None = None) -> list[str]:
    """The statements that create the two roles (a superuser runs them once per cluster).

    :param password: the app role's login password; ``None`` keeps it (or none: trust or peer auth).
    :returns: SQL statements, idempotent.
    """
    statements = [
        f"DO $$ BEGIN CREATE ROLE {SYSTEM_ROLE} NOLOGIN BYPASSRLS; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
        f"DO $$ BEGIN CREATE ROLE {APP_ROLE} LOGIN NOINHERIT; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
        f"ALTER ROLE {SYSTEM_ROLE} NOLOGIN BYPASSRLS",
        f"ALTER ROLE {APP_ROLE} LOGIN NOINHERIT NOBYPASSRLS NOSUPERUSER",
        f"GRANT {SYSTEM_ROLE} TO {APP_ROLE}",
    ]
    if password is not None:
        # A literal: ALTER ROLE takes no bind parameters.
        statements.append(f"ALTER ROLE {APP_ROLE} PASSWORD '{password.replace(chr(39), chr(39) * 2)}'")
    return statements


def init_row_security(engine: Engine, config) -> None:
    """Send each transaction's scope to PostgreSQL when ``engine`` logs in as :data:`APP_ROLE`.

    :param engine: the primary's or the read replica's engine.
    :param config: the app's config (``ALLOW_NEGATIVE_STOCK`` is passed on to the
        balance trigger of migration 0015).
    """
    if engine.dialect.name != "postgresql" or getattr(engine, "_abparts_row_security", False):
        return
    engine._abparts_row_security_config = config

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_auth_members a JOIN pg_roles s ON s.oid = a.roleid "
                           "JOIN pg_roles u ON u.oid = a.member WHERE s.rolname = %s AND u.rolname = session_user "
                           "AND NOT u.rolbypassrls AND NOT u.rolsuper)", (SYSTEM_ROLE,))
            row = cursor.fetchone()
        # The check ran in a transaction of its own: end it, so that the pool hands out a clean connection.
        dbapi_connection.rollback()
        record.info[_ENABLED] = bool(row and row[0])

    @event.listens_for(engine, "before_cursor_execute")
    def _set_scope(conn, _cursor, statement, _parameters, _context, _executemany):
        # Savepoints read no rows (and a ROLLBACK TO follows an error, when nothing else runs).
        if not statement.startswith(_TRANSACTION_CONTROL):
            send_scope(conn)

    def _forget(conn, *_args):
        conn.info.pop(_SENT, None)

    # A transaction's settings end with it (and with a savepoint rolled back).
    for name in ("begin", "commit", "rollback", "rollback_savepoint"):
        event.listen(engine, name, _forget)
    engine._abparts_row_security = True


def confined(connection) -> bool:
    """Whether row-level security confines ``connection`` (a SQLAlchemy connection): it is the
    app role's, and the scope of the statement run now is not every organization."""
    from .scoping import database_scope

    return bool(connection.connection.info.get(_ENABLED)) and not database_scope()[0]


def send_scope(connection) -> None:
    """Tell the connection's transaction the scope of the statement run now, unless it knows it.

    Every statement through SQLAlchemy does this on its own (``before_cursor_execute``);
    call it before sending anything straight to the driver (``COPY``).

    :param connection: a SQLAlchemy :class:`~sqlalchemy.engine.Connection`.
    """
    from .scoping import database_scope

    info = connection.connection.info  # the pooled connection's: survives checkouts
    if not info.get(_ENABLED):
        return
    config = current_app.config if has_app_context() else connection.engine._abparts_row_security_config
    scope = (*database_scope(), "on" if config.get("ALLOW_NEGATIVE_STOCK") else "off")
    if connection.info.get(_SENT) == scope:
        return
    see_all, ids, negative = scope
    # A cursor of its own: the statement's may be a server-side one (a streamed export).
    with connection.connection.cursor() as own:
        own.execute(_SET, (SYSTEM_ROLE if see_all else "none", "" if see_all else ids, negative))
    connection.info[_SENT] = scope
