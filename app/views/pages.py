"""Portal pages outside FAB's model screens: the error pages (400, 403, 404, 413), the favicon,
and the template filters of the portal's own templates: ``quantity``, ``timestamp``, ``day``,
``month``, ``localized``, ``money``, ``state``
(in the user's language, issue 13)."""
from __future__ import annotations

from pathlib import Path

from flask import g, render_template, request, send_from_directory
from flask_babel import lazy_gettext

from ..i18n import localize
from .rows import list_rows

STATIC = Path(__file__).resolve().parent.parent / "static"


#: Status -> (title, text) of the portal's own error pages; a 400 page says what was wrong
#: (the error's description, e.g. which filter values are allowed), else this text.
ERROR_PAGES = {
    400: (lazy_gettext("Not understood"), lazy_gettext("The address asks for something this page does not offer.")),
    403: (lazy_gettext("Not available to your role"),
          lazy_gettext("Your role may not open this page. If you need it for your work, ask an administrator "
                       "of your organization.")),
    # The same words for a record that does not exist and one of another organization.
    404: (lazy_gettext("Not found"), lazy_gettext("There is no such page or record, or it is not yours to see.")),
    413: (lazy_gettext("File too large"),
          lazy_gettext("An upload may be at most %(size)s: split the file into smaller ones.")),
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

        text = str(text) % {"size": human_size(max_bytes())}
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

    return localize(format_quantity(value, unit))


def state(value) -> str:
    """``{{ e.to_status|state }}``: a stored state ("partially_received") as its label, lower case,
    in the user's language ("partially received"; Greek "μερικώς παραλήφθηκε")."""
    from ..models.enums import _LABELS

    label = _LABELS.get(value)
    return localize(label).lower() if label is not None else (value or "").replace("_", " ")


def money(value) -> str:
    """``{{ order_value|money }}``: an amount of money (price currency) with two decimals, the
    locale's way ("1234.50"; Greek "1.234,50")."""
    from flask_babel import format_decimal

    from ..i18n import translating

    if value is None:
        return ""
    return format_decimal(value, format="#,##0.00") if translating() else f"{value:.2f}"


def register_pages(app) -> None:
    """Bind the error pages, ``/favicon.ico``, the ``quantity`` filter and the list rows to ``app``."""
    for status in ERROR_PAGES:
        app.register_error_handler(status, error_page)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.add_template_filter(quantity, "quantity")
    app.add_template_global(list_rows, "abparts_list_rows")
    from .base import format_datetime, format_day, format_month

    app.add_template_filter(format_datetime, "timestamp")
    app.add_template_filter(state, "state")
    app.add_template_filter(money, "money")
    # A count the locale's way ("1234"; Greek "1.234"), a rule's message in the user's language.
    app.add_template_filter(localize, "localized")
    app.add_template_filter(format_month, "month")
    app.add_template_filter(format_day, "day")
