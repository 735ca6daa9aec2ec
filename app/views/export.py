"""``/<view>/export/``: every list as CSV or XLSX, exactly its rows, streamed (issue 11).

What a user gets (see also :mod:`app.exports.formats`):

- the rows the list shows for the same query string - filters (``_flt_``),
  search (``q``), sort (``_oc_``/``_od_``), the view's base filters and the
  organization scope - in the list's order, every page of them;
- the list's columns under their labels, then ``ID`` (the row's id, as in its
  page's address); a quantity printed with its unit on the page is a number
  followed by a ``Unit`` column; related rows are their names; dates and
  numbers are typed in XLSX;
- ``format=csv`` (the default) or ``format=xlsx``; anything else answers 400
  naming both; an unknown filter value answers 400 naming the allowed ones
  (:func:`app.views.interface.checked_filter_value`);
- access as the list's: ``read`` of the view's domain, else 403 (FAB's
  ``has_access``).

Rows are read in batches (``yield_per``) on a connection of their own, one
consistent snapshot (:func:`app.database.snapshot_session`), and written to
the download as they come, so memory does not grow with the number of rows.

Every export is logged (:mod:`app.exports.log`).  A list whose rows are
append-only and stamped with their writing time (the stock ledger,
``export_as_of_column``) is exported **as of** a time: the rows written at or
before it, by default the export's start, which the log records; the same
export with ``as_of=<that time>`` gives the same rows again.
"""
from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Callable, Iterator, Sequence

from flask import Response, g, request, stream_with_context
from flask_appbuilder import expose, has_access
from flask_appbuilder.urltools import get_filter_args, get_order_args
from werkzeug.exceptions import BadRequest

from ..database import read_engine, snapshot_session
from ..exports import formats, log
from ..models.types import TIMESTAMP_HELP, parse_timestamp, utcnow
from ..scoping import current_actor
from .search import SEARCH_ARG

#: The query-string arguments of an export that are not the list's.
FORMAT_ARG, AS_OF_ARG = "format", "as_of"
#: Rows fetched per round trip (and loaded relations per batch).
BATCH_ROWS = 1000


def export_format() -> str:
    """The requested format (``format``, default ``csv``).

    :raises BadRequest: an unknown format, naming the allowed ones.
    """
    fmt = request.args.get(FORMAT_ARG, "csv").strip().lower()
    if fmt not in formats.FORMATS:
        raise BadRequest(f"Unknown export format {request.args.get(FORMAT_ARG)!r}; allowed: "
                         f"{', '.join(formats.FORMATS)}.")
    return fmt


def _attribute(item, path: str):
    """``item.a.b`` for ``path`` ``a.b``; ``None`` when a step is empty."""
    for name in path.split("."):
        if item is None:
            return None
        item = getattr(item, name, None)
    return item


def cell_value(value):
    """A list value as an export cell: typed values stay, related rows are their names.

    Numbers, dates, booleans, text and enum members (written as their labels)
    are kept; a method of the row (FAB's ``@renders``) is called; a to-many
    relation is its rows' names separated by commas.
    """
    if callable(value):
        value = value()
    if value is None or isinstance(value, (str, bool, int, float, decimal.Decimal, dt.date, enum.Enum)):
        return value
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(item) for item in value) or None
    return str(value)


def _quantity(value):
    """A stored quantity as a number: ``85.000`` and ``85`` alike are 85 (both engines)."""
    return None if value is None else value.normalize() if isinstance(value, decimal.Decimal) else value


class Exportable:
    """View mixin: ``/export/`` of the list (see the module); put before FAB's ``ModelView``."""

    #: The column of an append-only list's rows holding when each was written; with it
    #: the list exports "as of" a time (the stock ledger: ``created_at``).
    export_as_of_column: str | None = None

    def export_values_as_of(self, session, as_of: dt.datetime) -> dict[str, Callable]:
        """Cells of an as-of export that changed after ``as_of``, as they were then.

        :param session: the export's session (its snapshot).
        :returns: column name -> function(row) giving the cell's value as of ``as_of``.
        """
        return {}

    def export_columns(self) -> list[tuple[str, str, Callable]]:
        """The export's columns: ``(label, column, value(row))``, the list's then ``ID``.

        A ``@renders_quantity`` method becomes its number, followed by a ``Unit``
        column the first time its unit appears.
        """
        columns, units = [], set()
        for col in self.list_columns:
            label = str(self.label_columns.get(col, col))
            method = getattr(self.datamodel.obj, col, None)
            unit = getattr(method, "_quantity_unit", None)
            if unit:
                number = method._col_name
                columns.append((label, col, lambda row, number=number: _quantity(getattr(row, number))))
                if unit not in units:
                    units.add(unit)
                    columns.append(("Unit", unit, lambda row, unit=unit: _attribute(row, unit)))
            else:
                columns.append((label, col, lambda row, col=col: cell_value(_attribute(row, col))))
        get_pk = self.datamodel.get_pk_value
        columns.append(("ID", "id", lambda row: str(get_pk(row))))
        return columns

    def _export_as_of(self) -> dt.datetime | None:
        """The ``as_of`` argument (aware UTC), or ``None``.

        :raises BadRequest: not a time, or a list that cannot be exported as of a time.
        """
        text = request.args.get(AS_OF_ARG, "").strip()
        if not text:
            return None
        if not self.export_as_of_column:
            raise BadRequest(f"{AS_OF_ARG} is offered only by append-only lists (the stock ledger).")
        try:
            return parse_timestamp(text)
        except ValueError:
            raise BadRequest(f"Invalid {AS_OF_ARG}: {TIMESTAMP_HELP}") from None

    @expose("/export/")
    @has_access
    def export(self):
        """The list's rows as a CSV or XLSX download (see the module).

        :raise 400: an unknown format, filter value or ``as_of``.
        :raise 403: the user may not read the list.
        """
        fmt = export_format()
        as_of = self._export_as_of()
        get_filter_args(self._filters)
        order_column, order_direction = get_order_args().get(self.__class__.__name__, ("", ""))
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        filters = self._filters.get_joined_filters(self._base_filters)
        # The list's own query (FAB's filters, order with the id as tie-breaker, search,
        # base filters; the relations it prints are loaded with each batch).
        query = self.datamodel.apply_all(self.datamodel.session.query(self.datamodel.obj), filters,
                                         order_column, order_direction)
        started = utcnow()
        if self.export_as_of_column:
            as_of = as_of or started
            query = query.filter(getattr(self.datamodel.obj, self.export_as_of_column) <= as_of)
        list_name = str(self.list_title or self.__class__.__name__)
        log_id = log.start(g.user, current_actor(), list_name=list_name, view_name=self.__class__.__name__,
                           query=request.query_string.decode("utf-8", "replace"), fmt=fmt, started_at=started,
                           as_of=as_of, filters={
                               "filters": [[flt.column_name, flt.arg_name, value]
                                           for flt, value in self._filters.get_filters_values()],
                               "search": request.args.get(SEARCH_ARG, ""),
                               "order": [order_column, order_direction]})
        columns = self.export_columns()

        def rows() -> Iterator[list]:
            with snapshot_session(read_engine()) as session:
                then = self.export_values_as_of(session, as_of) if as_of else {}
                values = [then.get(col, value) for _label, col, value in columns]
                for item in query.with_session(session).yield_per(BATCH_ROWS):
                    yield [value(item) for value in values]

        name = (self.class_permission_name or self.__class__.__name__).lower()
        return download(fmt, [label for label, _col, _value in columns], rows(), log_id,
                        filename=name, sheet_name=list_name)


def download(fmt: str, header: Sequence[str], rows, log_id, *, filename: str, sheet_name: str) -> Response:
    """A streamed download of ``rows`` in ``fmt``; the export log ``log_id`` is finished
    with the row count once the last byte is out.

    :param rows: an iterable of typed rows, consumed while the download is sent.
    :param filename: the file's name without its extension.
    """
    def body() -> Iterator[bytes]:
        count = 0

        def counted():
            nonlocal count
            for row in rows:
                count += 1
                yield row

        yield from formats.chunks(fmt, header, counted(), sheet_name)
        log.finish(log_id, count)

    return Response(stream_with_context(body()), mimetype=formats.FORMATS[fmt],
                    headers={"Content-Disposition": f"attachment; filename={filename}.{fmt}"})
