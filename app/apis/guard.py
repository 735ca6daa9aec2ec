"""Hostile input to the REST API: refused with a 400 and a message before any view runs.

The class of input that used to reach the database or FAB's parser and answer
500 (issue 12):

- text that Python holds but UTF-8 cannot encode: a lone surrogate
  (``"\\ud800"``, JSON's ``\\ud800`` escape) in the body, a query argument or a
  filter value (PostgreSQL's driver fails to encode it; SQLite stores it);
- a ``q`` argument that is valid Rison or JSON but not an object (``1e+5``,
  ``!t``, ``[]``), or neither;
- a filter value of the wrong kind for its column: a number, boolean, list or
  object for a text column (``ct``, ``sw``, ``ew``, ``eq`` ... on ``name``);
  anything but a list of plain values for ``in`` and ``not_in``.

:class:`InputGuard` puts the first two checks in front of every route of an
API's blueprint; :func:`check_filter_values` is called by the base API when it
reads the filters.
"""
from __future__ import annotations

import json
from typing import Any

import prison
from flask import request
from werkzeug.exceptions import BadRequest
from ..i18n import _

#: Operators whose value is compared as text on a text column.
TEXT_OPERATORS = frozenset({"sw", "nsw", "ew", "new", "ct", "nct", "eq", "neq"})
#: Operators whose value is a list.
LIST_OPERATORS = frozenset({"in", "not_in"})
SCALARS = (str, int, float)


def has_lone_surrogate(value: Any) -> bool:
    """Whether ``value`` (a JSON-like structure) holds a string UTF-8 cannot encode."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_lone_surrogate(v) for v in value)
    return False


def parse_q(value: str) -> Any:
    """The ``q`` argument as Rison, else as JSON.

    :raises BadRequest: when it is neither.
    """
    try:
        return prison.loads(value)
    except Exception:  # noqa: BLE001 - the parser raises more than ParserException
        pass
    try:
        return json.loads(value)
    except ValueError:
        raise BadRequest(_("The q argument is neither valid Rison nor valid JSON.")) from None


def check_request() -> None:
    """Refuse a request whose ``q`` is not an object, or whose input holds a lone surrogate.

    :raises BadRequest: with the message the client sees.
    """
    raw_q = request.args.get("q")
    if raw_q:
        parsed = parse_q(raw_q)
        if not isinstance(parsed, dict):
            raise BadRequest(_('The q argument must be an object, such as (page:0) or {"page": 0}.'))
        if has_lone_surrogate(parsed):
            raise BadRequest(_("The q argument holds text that is not valid Unicode (a lone surrogate)."))
    if request.is_json and has_lone_surrogate(request.get_json(silent=True)):
        raise BadRequest(_("The request body holds text that is not valid Unicode (a lone surrogate)."))


def check_filter_values(datamodel, filters: list) -> None:
    """Refuse a filter whose value does not fit its column (a number for a text column ...).

    :param datamodel: the API's :class:`~flask_appbuilder.models.sqla.interface.SQLAInterface`.
    :param filters: the ``filters`` of the ``q`` argument: ``[{"col", "opr", "value"}, ...]``.
    :raises BadRequest: naming the column and the operator.
    """
    if not isinstance(filters, list):
        raise BadRequest(_("filters must be a list of {col, opr, value} objects."))
    for item in filters:
        if not isinstance(item, dict):
            raise BadRequest(_("filters must be a list of {col, opr, value} objects."))
        col, opr, value = item.get("col"), item.get("opr"), item.get("value")
        if not isinstance(col, str) or not isinstance(opr, str):
            raise BadRequest(_("A filter names its column (col) and operator (opr) as text."))
        text = _is_text_column(datamodel, col)
        if opr in TEXT_OPERATORS and text and not isinstance(value, str):
            raise BadRequest(_("The filter %(opr)s on %(col)s takes a text value.",
                               opr=repr(opr), col=repr(col)))
        if opr in LIST_OPERATORS:
            if not isinstance(value, list) or not all(isinstance(v, str if text else SCALARS) for v in value):
                kind = "text values" if text else "values (text or numbers)"
                raise BadRequest(_("The filter %(opr)s on %(col)s takes a list of %(kind)s.",
                                   opr=repr(opr), col=repr(col), kind=kind))


def _is_text_column(datamodel, col: str) -> bool:
    try:
        return bool(datamodel.is_string(col) or datamodel.is_text(col))
    except Exception:  # noqa: BLE001 - an unknown column: FAB ignores it, so do we
        return False


class InputGuard:
    """A mixin of FAB APIs: :func:`check_request` before every route of the blueprint."""

    def create_blueprint(self, appbuilder, *args, **kwargs):
        blueprint = super().create_blueprint(appbuilder, *args, **kwargs)
        blueprint.before_request(self._refuse_hostile_input)
        return blueprint

    def _refuse_hostile_input(self):
        try:
            check_request()
        except BadRequest as exc:
            return self.response_400(message=exc.description)
        return None
