"""Free-text search of a list page: one box, several columns, case-insensitive substring.

A view declares the columns it searches (``text_search_columns``; ``relation.column``
searches the related row, e.g. a ledger row's ``part.part_number``).  The text
comes from the list's ``q`` argument and reaches the query as one more of the
view's ``base_filters`` (FAB's documented hook, as ``FilterEqualFunction`` does),
so it combines with FAB's filters, order and paging, with the CSV export, and
with the organization scope (:mod:`app.scoping` narrows every ORM statement).

On PostgreSQL the match is ``ILIKE '%text%'``, served by ``pg_trgm`` GIN indexes
(:func:`app.models.text_search.trigram_index`, migration ``0004_text_search``);
on SQLite it is a plain ``LIKE`` (``lower(column) LIKE lower(pattern)``).
"""
from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from flask import has_request_context, request
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import LazyString, gettext, lazy_gettext
from sqlalchemy.orm import RelationshipDirection

#: The list's query-string argument holding the search text.
SEARCH_ARG = "q"
#: Longer text is cut: a search box, not a document.
MAX_SEARCH_LENGTH = 200


def like_pattern(text: str) -> str:
    """``%text%`` with LIKE's wildcards in ``text`` taken literally (escape character ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matches(column, pattern: str):
    return column.ilike(pattern, escape="\\")


#: At most this many keys of matching related rows are looked up first (``text_search_criterion``).
MAX_LOOKED_UP_KEYS = 500


def text_search_criterion(model: type, columns, text: str, dialect: str = "postgresql",
                          session=None) -> sa.ColumnElement:
    """Rows of ``model`` where any of ``columns`` contains ``text``, ignoring case.

    A many-to-one relation is searched through the related table's own indexes.
    Given a ``session``, the matching related rows' keys are looked up first (one
    small query per relation) and compared as values, ``fk IN (k1, k2, ...)``: the
    planner then knows how many rows they name, and reads a rare part's ledger
    rows through the part index (compared blind, a page of a rare part's rows
    walked the ledger's whole date index: 150 ms at 750,000 rows, 350 ms for a
    text nothing matches; issue 15).  Past :data:`MAX_LOOKED_UP_KEYS` keys, or
    without a session: on PostgreSQL ``fk = ANY (ARRAY(SELECT pk FROM related
    WHERE ...))``, evaluated once and read like a list of keys, so the foreign
    key's index joins the other columns' trigram indexes in one ``BitmapOr``
    (``fk IN (subquery)`` there would make it scan the table); elsewhere
    ``fk IN (SELECT pk ...)``.

    :param columns: column names of ``model``, or ``relation.column``.
    :param text: the user's text; ``%`` and ``_`` match themselves.
    :param dialect: the database's dialect name.
    :param session: the session to look the related keys up in, or ``None``.
    :returns: a SQL criterion (an ``OR`` of the columns' matches).
    """
    pattern = like_pattern(text)
    terms = []
    related: dict[str, list[str]] = defaultdict(list)
    for name in columns:
        root, _, leaf = name.partition(".")
        if leaf:
            related[root].append(leaf)
        else:
            terms.append(_matches(getattr(model, root), pattern))
    for root, leaves in related.items():
        relation = getattr(model, root)
        target = relation.property.mapper.class_
        inner = sa.or_(*(_matches(getattr(target, leaf), pattern) for leaf in leaves))
        pairs = relation.property.local_remote_pairs
        if relation.property.direction is RelationshipDirection.MANYTOONE and len(pairs) == 1:
            local, remote = pairs[0]
            keys = sa.select(remote).where(inner)
            found = _looked_up(session, keys)
            if found is not None:
                if found:
                    terms.append(local.in_(found))
            elif dialect == "postgresql":
                terms.append(local == sa.any_(sa.func.array(keys.scalar_subquery())))
            else:
                terms.append(local.in_(keys))
        elif relation.property.uselist:
            terms.append(relation.any(inner))
        else:
            terms.append(relation.has(inner))
    return sa.or_(*terms) if terms else sa.false()


def _looked_up(session, keys) -> list | None:
    """The values ``keys`` (a select of one key column) returns, or ``None`` without a session
    or past :data:`MAX_LOOKED_UP_KEYS` of them."""
    if session is None:
        return None
    found = session.execute(keys.limit(MAX_LOOKED_UP_KEYS + 1)).scalars().all()
    return found if len(found) <= MAX_LOOKED_UP_KEYS else None


class SearchText:
    """The value of a view's search filter: the request's ``q``, on that view's list and export only.

    Called when the filter applies (like ``FilterEqualFunction``'s function), so
    one view instance serves every request.  A show, edit or action URL of the
    same view never narrows by a search left in its query string.
    """

    def __init__(self, view_name: str, columns):
        self.columns = tuple(columns)
        self.endpoints = frozenset(f"{view_name}.{name}" for name in ("list", "export"))

    def __call__(self) -> str:
        if not has_request_context() or request.endpoint not in self.endpoints:
            return ""
        return request.args.get(SEARCH_ARG, "").strip()[:MAX_SEARCH_LENGTH]


class FilterTextSearch(BaseFilter):
    """Rows matching the search text in any of the view's ``text_search_columns``: for ``base_filters``.

    The value is a :class:`SearchText`; no text, no filter.
    """

    name = "Search"

    def apply(self, query, value):
        text = value() if callable(value) else (value or "")
        if not text:
            return query
        dialect = query.session.get_bind().dialect.name
        return query.filter(text_search_criterion(self.model, value.columns, text, dialect, query.session))


class TextSearch:
    """A list view with one search box above its rows (``text_search_columns``).

    Put before FAB's ``ModelView`` in the bases.  The box is drawn by
    ``abparts/list.html`` from ``text_search`` in the template arguments.
    """

    #: Columns the box searches: names of the model's columns or ``relation.column``.
    text_search_columns: list[str] = []

    def __init__(self, **kwargs):
        if self.text_search_columns:
            value = SearchText(self.__class__.__name__, self.text_search_columns)
            # A new list: views may share their base_filters (e.g. REAL_WAREHOUSES).
            self.base_filters = [*(self.base_filters or []), ["id", FilterTextSearch, value]]
        super().__init__(**kwargs)
        if self.text_search_columns:
            self.extra_args = {**(self.extra_args or {}), "text_search": {
                "arg": SEARCH_ARG,
                "placeholder": LazyString(lambda: gettext("Search %(columns)s",
                                                          columns=", ".join(map(str, self._search_labels())))),
            }}

    def _search_labels(self) -> list:
        """The searched columns as words ("part number"), translatable (:data:`SEARCH_LABELS`)."""
        labels = []
        for name in self.text_search_columns:
            root, _, leaf = name.partition(".")
            text = (f"{root} {leaf}" if leaf and not leaf.startswith(root) else (leaf or root)).replace("_", " ")
            labels.append(SEARCH_LABELS.get(text, text))
        return labels


#: The words of the searched columns in a search box's placeholder ("Search part number, name").
SEARCH_LABELS = {
    "name": lazy_gettext("name"), "location": lazy_gettext("location"), "part number": lazy_gettext("part number"),
    "part name": lazy_gettext("part name"), "notes": lazy_gettext("notes"),
    "reference number": lazy_gettext("reference number"), "description": lazy_gettext("description"),
    "serial number": lazy_gettext("serial number"), "model type": lazy_gettext("model type"),
}
