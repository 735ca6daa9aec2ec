"""Portal pages outside FAB's model screens: the error pages (400, 403, 404, 413), the favicon,
and the ``quantity`` template filter of the portal's own templates."""
from __future__ import annotations

from pathlib import Path

from flask import g, render_template, request, send_from_directory

from .rows import list_rows

STATIC = Path(__file__).resolve().parent.parent / "static"


#: Status -> (title, text) of the portal's own error pages; a 400 page says what was wrong
#: (the error's description, e.g. which filter values are allowed), else this text.
ERROR_PAGES = {
    400: ("Not understood", "The address asks for something this page does not offer."),
    403: ("Not available to your role",
          "Your role may not open this page. If you need it for your work, ask an administrator "
          "of your organization."),
    # The same words for a record that does not exist and one of another organization.
    404: ("Not found", "There is no such page or record, or it is not yours to see."),
    413: ("File too large", "An upload may be at most {size}: split the file into smaller ones."),
}


def error_page(error):
    """A 400, 403, 404 or 413 page in the portal's layout, with a way home.

    FAB and Flask answer Werkzeug's bare pages; the REST API answers its own
    JSON and is left to it.
    """
    if error.code == 413 and "user" not in g:
        # Refused while the form was read, before FAB's own hook put the user in ``g``.
        from flask_login import current_user

        g.user = current_user
    if request.path.startswith("/api/") or "user" not in g:
        # The REST API answers its own JSON; a request refused before its user was
        # loaded (a missing CSRF token) gets Werkzeug's page: the layout needs the user.
        return error
    from ..extensions import appbuilder

    title, text = ERROR_PAGES[error.code]
    if error.code == 413:
        from ..imports.files import human_size, max_bytes

        text = text.format(size=human_size(max_bytes()))
    if error.code == 400 and error.description != type(error).description:
        text = error.description
    icon = {400: "fa-exclamation-triangle", 403: "fa-lock", 413: "fa-file"}.get(error.code, "fa-search")
    return render_template("abparts/error.html", appbuilder=appbuilder, base_template=appbuilder.base_template,
                           title=title, text=text, icon=icon), error.code


def favicon():
    """``/favicon.ico``: browsers ask for it on every page."""
    return send_from_directory(STATIC / "abparts", "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=86400)


def quantity(value, unit: str | None = None) -> str:
    """``{{ line.quantity|quantity(unit) }}``: a quantity as every page prints it ("1 piece", "2.5 litres")."""
    from ..models.base import format_quantity

    return format_quantity(value, unit)


def register_pages(app) -> None:
    """Bind the error pages, ``/favicon.ico``, the ``quantity`` filter and the list rows to ``app``."""
    for status in ERROR_PAGES:
        app.register_error_handler(status, error_page)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.add_template_filter(quantity, "quantity")
    app.add_template_global(list_rows, "abparts_list_rows")
