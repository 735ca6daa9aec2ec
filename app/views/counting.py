"""How many rows a list shows: exact for small results, the planner's estimate for large ones.

Counting every matching row (``count(*)``) on each page of the ledger reads the
whole result, which costs more than the page itself once the ledger holds
hundreds of thousands of rows.  Above ``LIST_EXACT_COUNT_LIMIT`` (default
10,000) a list on PostgreSQL shows "about N" from the planner's row estimate of
the same query (``EXPLAIN (FORMAT JSON)``: the table's statistics, with the
filters, search and organization scope applied); below it, and always on
SQLite, the count is exact.  Paging works on either number: past the real end,
a page is simply empty.
"""
from __future__ import annotations

from flask import current_app, has_app_context
from markupsafe import Markup
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement

#: Default of ``LIST_EXACT_COUNT_LIMIT``.
DEFAULT_EXACT_COUNT_LIMIT = 10_000


class EstimatedCount(int):
    """A row count from the planner's estimate: a number for paging, "about N" on the page."""

    def __html__(self) -> str:
        return Markup.escape(f"about {int(self):,}")

    def __str__(self) -> str:
        return f"about {int(self):,}"


class Explain(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON) <statement>``, compiled with the statement's own bound values."""

    inherit_cache = False

    def __init__(self, statement):
        self.statement = statement


@compiles(Explain, "postgresql")
def _compile_explain(element, compiler, **kw):
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


def exact_count_limit() -> int | None:
    """``LIST_EXACT_COUNT_LIMIT``: the largest count shown exactly; ``None`` always counts."""
    if not has_app_context():
        return None
    return current_app.config.get("LIST_EXACT_COUNT_LIMIT", DEFAULT_EXACT_COUNT_LIMIT)


def planner_rows(session, statement) -> int:
    """PostgreSQL's estimate of how many rows ``statement`` returns (its plan's top ``Plan Rows``).

    :param statement: an ORM ``select``; the caller adds the scope criteria, since
        an ``EXPLAIN`` is not an ORM statement and :mod:`app.scoping` does not see it.
    """
    plan = session.connection().execute(Explain(statement)).scalar_one()
    if isinstance(plan, str):
        import json

        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def list_count(session, query) -> int:
    """The number of rows ``query`` (a list's filtered query, without order or page) returns.

    :returns: an exact ``int``, or an :class:`EstimatedCount` when the planner expects
        more than ``LIST_EXACT_COUNT_LIMIT`` rows (PostgreSQL only).
    """
    limit = exact_count_limit()
    if limit is not None and session.get_bind().dialect.name == "postgresql":
        from ..scoping import criteria_for, current_actor, in_system

        statement = query.statement
        options = [] if in_system() else criteria_for(current_actor())
        if options:
            statement = statement.options(*options)
        estimate = planner_rows(session, statement)
        if estimate > limit:
            return EstimatedCount(estimate)
    return query.count()
