"""Reading the JSON bodies of the REST workflow steps (transfers, orders).

Shapes are checked here, rules in the workflow commands: a malformed body is a
422 naming the field, never a 500.  Ids are UUID strings; quantities are
decimal strings (or numbers) in the part's unit of measure.
"""
from __future__ import annotations

import decimal

from flask import request

from ..errors import RuleViolation
from ..i18n import _


def text(value) -> str | None:
    """A value as the API writes it: quantities as the rest of the API shows them
    (``"4.000"``), other values as text, ``None`` as null."""
    if isinstance(value, decimal.Decimal):
        return str(value.quantize(decimal.Decimal("0.001")))
    return None if value is None else str(value)


def body() -> dict:
    """The JSON object of the request (an empty one when there is no body).

    :raises RuleViolation: the body is JSON but not an object.
    """
    found = request.get_json(silent=True)
    if found is None:
        return {}
    if not isinstance(found, dict):
        raise RuleViolation(_("The request body must be a JSON object."))
    return found


def object_list(data: dict, name: str) -> list[dict]:
    """``data[name]``, a list of JSON objects.

    :raises RuleViolation: missing or not a list of objects.
    """
    value = data.get(name)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise RuleViolation(_('"%(name)s" must be a list of objects.', name=name))
    return value


def quantity(value, field: str):
    """A quantity from JSON: a decimal string or a number (floats arrive as Decimal here).

    :raises RuleViolation: any other JSON value (the message names ``field``).
    """
    if isinstance(value, (str, int, decimal.Decimal)) and not isinstance(value, bool):
        return value
    raise RuleViolation(_('"%(field)s" must be a decimal number, e.g. "2.5".', field=field))


def quantities_by_part(data: dict, field: str, name: str = "lines") -> dict:
    """``{part id: quantity}`` from ``data[name]``: objects ``{"part": id, field: quantity}``.

    :raises RuleViolation: not a list of objects, a malformed quantity, or a part listed twice.
    """
    lines = object_list(data, name)
    out = {line.get("part"): quantity(line.get(field), field) for line in lines}
    if len(out) != len(lines):
        raise RuleViolation(_('"%(name)s" lists each part once; a part appears twice.', name=name))
    return out
