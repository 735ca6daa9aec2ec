"""Portal pages outside FAB's model screens: the "not allowed" page, the favicon,
and the ``quantity`` template filter of the portal's own templates."""
from __future__ import annotations

from pathlib import Path

from flask import render_template, request, send_from_directory

STATIC = Path(__file__).resolve().parent.parent / "static"


def forbidden(error):
    """A page in the portal's layout saying the user's role may not open the page (403).

    FAB answers Werkzeug's bare "Forbidden" page; the REST API answers its own
    JSON and is left to it.
    """
    if request.path.startswith("/api/"):
        return error
    from ..extensions import appbuilder

    return render_template("abparts/403.html", appbuilder=appbuilder,
                           base_template=appbuilder.base_template), 403


def favicon():
    """``/favicon.ico``: browsers ask for it on every page."""
    return send_from_directory(STATIC / "abparts", "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=86400)


def quantity(value, unit: str | None = None) -> str:
    """``{{ line.quantity|quantity(unit) }}``: a quantity as every page prints it ("1 piece", "2.5 litres")."""
    from ..models.base import format_quantity

    return format_quantity(value, unit)


def register_pages(app) -> None:
    """Bind the 403 page, ``/favicon.ico`` and the ``quantity`` filter to ``app``."""
    app.register_error_handler(403, forbidden)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.add_template_filter(quantity, "quantity")
