"""The language switcher of the navbar (issue 13): English or Greek, remembered per user."""
from __future__ import annotations

from flask import abort, g, redirect, request, session
from flask_appbuilder import BaseView, expose
from flask_babel import refresh

from ..extensions import db
from ..i18n import languages


def _safe_next(target: str | None) -> str:
    """Where to go back to: a path of this portal, never another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


class LanguageView(BaseView):
    """``POST /language/<code>``: show the portal in that language from now on.

    A signed-in user's choice is saved on the user (``ab_user.locale``), so it
    survives logout and login, applies on every device and to the REST API's
    messages; before login it lives in the HTTP session.  The request carries a
    CSRF token like every other POST of the screens.
    """

    route_base = "/language"
    default_view = "switch"

    @expose("/<string:locale>", methods=["POST"])
    def switch(self, locale):
        """Save ``locale`` and go back to the page the user was on (``next``).

        :raise 404: a language the portal does not offer (``LANGUAGES``).
        """
        if locale not in languages():
            abort(404)
        session["locale"] = locale
        user = getattr(g, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            user.locale = locale
            db.session.commit()
        refresh()
        return redirect(_safe_next(request.form.get("next")))
