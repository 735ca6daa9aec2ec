"""OpenAPI of the workflow routes: one description of their parameters and answers.

FAB reads a route's OpenAPI operation from its docstring, after ``---``;
:func:`documented` writes it from a few arguments instead of repeated YAML.
"""
from __future__ import annotations

import yaml

_PK = {"in": "path", "name": "pk", "required": True, "schema": {"type": "string", "format": "uuid"}}
_KEY = {"in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string"},
        "description": "A retry with the same key within 24 hours gets the first answer and posts nothing more."}
_ERROR_ANSWERS = {
    "400": {"$ref": "#/components/responses/400"},
    "401": {"$ref": "#/components/responses/401"},
    "403": {"description": "Visible, but this user's role or side may not take the step"},
    "404": {"$ref": "#/components/responses/404"},
    "409": {"description": "The document's state does not allow the step (or it was done already)"},
    "422": {"$ref": "#/components/responses/422"},
}
UUID = {"type": "string", "format": "uuid"}
NOTES = {"type": "object", "properties": {"notes": {"type": "string"}}}


def json_object(required: list, **properties) -> dict:
    """A JSON schema of an object with ``properties``, those in ``required`` required."""
    return {"type": "object", "required": required, "properties": properties}


def json_lines(**properties) -> dict:
    """A JSON schema of a list of line objects, every property required."""
    return {"type": "array", "items": json_object(list(properties), **properties)}


def documented(summary: str, ok: str, status: int = 200, body: dict | None = None, body_required: bool = True,
               pk: str | None = "The document's id"):
    """Write a workflow route's OpenAPI operation (FAB reads it from the docstring, after ``---``).

    :param summary: the operation's summary; ``ok``: what the success answer holds, with ``status``.
    :param body: the JSON schema of the request body, if any.
    :param pk: the description of the ``pk`` path parameter, ``None`` for a route without one.
    """
    def wrap(func):
        parameters = ([{**_PK, "description": pk}] if pk else []) + [_KEY]
        operation = {"summary": summary, "parameters": parameters,
                     "responses": {str(status): {"description": ok}, **_ERROR_ANSWERS}}
        if body is not None:
            operation["requestBody"] = {"required": body_required,
                                        "content": {"application/json": {"schema": body}}}
        func.__doc__ = f"{func.__doc__.strip()}\n---\n{yaml.safe_dump({'post': operation}, sort_keys=False)}"
        return func

    return wrap
