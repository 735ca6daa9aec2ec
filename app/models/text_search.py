"""Indexes for the lists' free-text search (:mod:`app.views.search`).

``ILIKE '%text%'`` cannot use a B-tree index; on PostgreSQL a ``pg_trgm`` GIN
index answers it (for text of three characters or more).  SQLite has no such
index and scans, which is fine at its scale, so these indexes exist on
PostgreSQL only: :meth:`sqlalchemy.schema.Index.ddl_if` keeps them out of
SQLite's DDL, and :func:`include_object_for` keeps autogenerate from asking for
them there (``migrations/env.py`` and ``tests/test_migrations.py``).
"""
from __future__ import annotations

import sqlalchemy as sa

#: ``Index.info`` key naming the only dialect an index exists on.
ONLY_DIALECT = "abparts_only_dialect"
#: ``Index.info`` key of an index on a SQL expression, which autogenerate cannot compare
#: (each database prints the expression back its own way): its migration creates it.
EXPRESSION = "abparts_expression_index"


def trigram_index(table: str, column: str) -> sa.Index:
    """A PostgreSQL ``gin (column gin_trgm_ops)`` index named ``idx_<table>_<column>_trgm``.

    :param table: the table's name, for the index name.
    :param column: the searched column.
    """
    index = sa.Index(f"idx_{table}_{column}_trgm", column, postgresql_using="gin",
                     postgresql_ops={column: "gin_trgm_ops"}, info={ONLY_DIALECT: "postgresql"})
    return index.ddl_if(dialect="postgresql")


def include_object_for(dialect_name: str):
    """An Alembic ``include_object`` hook that leaves out the indexes of other dialects, and
    the expression indexes (:data:`EXPRESSION`).

    :param dialect_name: the migrated database's dialect, e.g. ``"sqlite"``.
    """

    def include_object(obj, _name, type_, _reflected, compare_to) -> bool:
        if type_ == "index" and obj is not None:
            if any(getattr(index, "info", {}).get(EXPRESSION) for index in (obj, compare_to)):
                return False
            only = getattr(obj, "info", {}).get(ONLY_DIALECT)
            return only is None or only == dialect_name
        return True

    return include_object
