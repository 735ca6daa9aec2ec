"""CSRF protection of the screens (Flask-WTF's :class:`~flask_wtf.csrf.CSRFProtect`).

With ``WTF_CSRF_CHECK_DEFAULT`` on (the default, issue 12) CSRFProtect checks
every POST of the screens before its view runs.  Turned off, forms (add, edit,
login, the organization switcher, FAB's password and user-info forms) still
check their own token when they validate, and the screens' form-less POSTs, a
row's delete, the row actions (a transaction's "reverse") and the switcher's
"clear", are checked here.  With
the extension registered, FAB also refuses those mutations over GET (a link
could otherwise delete a row) and puts the token in its delete and action
forms.  The REST API is exempt (FAB exempts its blueprints): it takes a JWT or
a JSON body, which a cross-site form cannot send.
"""
from __future__ import annotations

from flask import Flask, request

from ..extensions import csrf

#: Endpoint names (the view method) of the POSTs that carry no form of their own.
FORMLESS_POSTS = frozenset({"delete", "action", "action_post", "clear"})


def init_csrf(app: Flask) -> None:
    """Register CSRF protection on ``app``; call before FAB registers its views and APIs.

    :param app: the portal; ``WTF_CSRF_ENABLED = False`` turns the checks off.
    """
    csrf.init_app(app)

    @app.before_request
    def _protect_formless_posts():
        if not app.config.get("WTF_CSRF_ENABLED", True) or request.method != "POST":
            return
        if app.config.get("WTF_CSRF_CHECK_DEFAULT", True):
            return  # CSRFProtect checks every POST already
        if request.endpoint and request.endpoint.rsplit(".", 1)[-1] in FORMLESS_POSTS:
            csrf.protect(apply_exemptions=True)
