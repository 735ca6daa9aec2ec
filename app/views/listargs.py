"""The list URLs' page, page size, sort and filter arguments, checked once for every screen (issue 11).

FAB reads ``page_<View>``, ``psize_<View>``, ``_oc_<View>``/``_od_<View>`` and
``_flt_<n>_<column>`` from the query string as typed: ``psize_<View>=abc`` or
``page_<View>=abc`` raised ``ValueError`` (500), a negative page size reached the
database as ``LIMIT -1`` (500 on PostgreSQL), ``_flt_9_status=low`` an ``IndexError``
(500).  Here every request to a generated screen checks them first and answers 400
naming what the argument accepts.
"""
from __future__ import annotations

import re

from flask import request
from werkzeug.exceptions import BadRequest

#: The largest page a list screen serves (FAB's page-size menu offers 25 to 100).
MAX_PAGE_SIZE = 100
#: Largest row offset (``page * page size``) a list may ask for (the REST API's limit too).
MAX_OFFSET = 2**31 - 1
#: FAB's own patterns (``flask_appbuilder.urltools``): what it would read, this checks.
_PAGE, _SIZE, _ORDER_COLUMN, _ORDER_DIRECTION = (re.compile(p) for p in ("page_(.*)", "psize_(.*)", "_oc_(.*)",
                                                                         "_od_(.*)"))
_FILTER = re.compile(r"_flt_(\d)_(.*)")


def whole_number(name: str, text: str, low: int, high: int) -> int:
    """``text`` as an integer from ``low`` to ``high``.

    :raises werkzeug.exceptions.BadRequest: naming the argument ``name`` and the range.
    """
    value = text.strip()
    if not re.fullmatch(r"[+-]?\d{1,12}", value) or not low <= int(value) <= high:
        raise BadRequest(f"Invalid value {text!r} for {name}: expected a whole number from {low} to {high}.")
    return int(value)


class CheckedListArguments:
    """View mixin: the list arguments of a request are checked before FAB reads them.

    The check runs for every route of the view (FAB's show and edit pages read the
    same arguments for their related lists), through Flask's documented
    ``Blueprint.before_request``.
    """

    def create_blueprint(self, appbuilder, endpoint=None, static_folder=None):
        blueprint = super().create_blueprint(appbuilder, endpoint=endpoint, static_folder=static_folder)
        blueprint.before_request(self.check_list_arguments)
        return blueprint

    def check_list_arguments(self) -> None:
        """Check ``page_``, ``psize_``, ``_od_``, ``_oc_`` and ``_flt_`` arguments.

        - page: a whole number from 0; page size: from 1 to :data:`MAX_PAGE_SIZE`;
          their product at most :data:`MAX_OFFSET`;
        - sort direction: ``asc`` or ``desc``; sort column: one the list (this view or
          one of its related lists, by its class name) sorts by;
        - filter: an index the column has (``_flt_0_status`` is "equal", ``_flt_1_`` "not equal").

        :raises werkzeug.exceptions.BadRequest: the first argument that does not fit.
        """
        args = request.args
        views = {type(view).__name__: view for view in (self, *getattr(self, "_related_views", ()))}
        pages: dict = {}
        sizes: dict = {}
        for arg, text in args.items():
            if match := _SIZE.search(arg):
                sizes[match.group(1)] = whole_number(arg, text, 1, MAX_PAGE_SIZE)
            elif match := _PAGE.search(arg):
                pages[match.group(1)] = whole_number(arg, text, 0, MAX_OFFSET)
            elif _ORDER_DIRECTION.search(arg) and text not in ("asc", "desc"):
                raise BadRequest(f"Invalid value {text!r} for {arg}: expected asc or desc.")
            elif (match := _ORDER_COLUMN.search(arg)) and text and match.group(1) in views:
                allowed = views[match.group(1)].order_columns
                if text not in allowed:
                    raise BadRequest(f"The list cannot be sorted by {text!r} ({arg}); "
                                     f"it sorts by: {', '.join(allowed)}.")
            elif match := _FILTER.search(arg):
                self._check_filter_index(arg, int(match.group(1)), match.group(2))
        for name, page in pages.items():
            size = sizes.get(name) or getattr(views.get(name), "page_size", MAX_PAGE_SIZE)
            if page * size > MAX_OFFSET:
                raise BadRequest(f"page_{name} is too large: it starts beyond any list this screen serves.")

    def _check_filter_index(self, arg: str, index: int, column: str) -> None:
        filters = self._filters.get_search_filters().get(column)
        if filters is not None and index >= len(filters):
            raise BadRequest(f"Unknown filter {arg}: the {column} filters are numbered 0 to {len(filters) - 1} "
                             f"({', '.join(str(f.name) for f in filters)}).")
