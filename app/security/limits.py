"""Rate limits of the login paths (issue 12), and the client address they count by.

- Every login path (the form ``POST /login/``, ``POST /api/v1/security/login``
  and ``/refresh``) and the account endpoints that take no login (password
  reset, invitations) share two limits (Flask-Limiter ``shared_limit``, scope
  ``login``): one per client address (``AUTH_RATE_LIMIT_ADDRESS``) and one
  per username asked for (``AUTH_RATE_LIMIT_USERNAME``), whatever the path.
  One counter per key across the paths: switching from the form to the API
  gains an attacker nothing.
- Counters live in ``RATELIMIT_STORAGE_URI``: Redis in production (one count
  across all gunicorn workers), ``memory://`` only for the embedded default.
- A refused request answers 429 with ``Retry-After`` (seconds); the REST API
  answers JSON ``{"message": ...}``.
- The client address is ``request.remote_addr`` after
  :class:`~werkzeug.middleware.proxy_fix.ProxyFix` trusted ``PROXY_FIX_X_FOR``
  hops of ``X-Forwarded-For`` (0, the default: the header is ignored), so a
  client cannot pick its own address by sending the header.
"""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

#: The scope shared by every login path's limits.
SCOPE = "login"


def username_key() -> str:
    """The username a login (or a reset request) asks for, lower-cased: the key of the per-user limit.

    Read from the form's ``username`` field or the JSON body's ``username``
    (or ``email`` for the reset and invitation endpoints); ``""`` when there is none.
    """
    value = request.form.get("username") or request.form.get("email")
    if value is None and request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            value = body.get("username") or body.get("email")
    return value.strip().lower()[:255] if isinstance(value, str) else ""


def _address_limit() -> str:
    return current_app.config.get("AUTH_RATE_LIMIT_ADDRESS", "30 per minute")


def _username_limit() -> str:
    return current_app.config.get("AUTH_RATE_LIMIT_USERNAME", "10 per minute")


#: Blueprints limited already: the limiter is one object for every app built in a
#: process (tests build several); a second registration would count each request twice.
_LIMITED: set[str] = set()


def limit_logins(limiter: Limiter, blueprint) -> None:
    """Put the shared login limits on ``blueprint``'s POSTs (once per blueprint name).

    :param blueprint: FAB's login view's or security API's blueprint, or the account pages'.
    """
    if blueprint.name in _LIMITED:
        return
    _LIMITED.add(blueprint.name)
    target = blueprint
    limiter.shared_limit(_address_limit, SCOPE, key_func=get_remote_address, methods=["POST"])(target)
    limiter.shared_limit(_username_limit, SCOPE + "-user", key_func=lambda: "user:" + username_key(),
                         methods=["POST"], exempt_when=lambda: not username_key())(target)


def _too_many_requests(error):
    message = "Too many attempts: wait a moment before trying again."
    if request.path.startswith("/api/"):
        response = jsonify(message=message)
    else:  # the portal's error page (app/views/pages.py)
        response = current_app.make_response(render_template(
            "abparts/error.html", appbuilder=current_app.appbuilder, base_template=current_app.appbuilder.base_template,
            title="Too many attempts", text=message, icon="fa-clock-o"))
    response.status_code = 429
    return response


def init_limiter(app: Flask, limiter: Limiter) -> Limiter:
    """Bind ``limiter`` to ``app``: the trusted proxy hops, the storage, the 429 answer.

    :param app: the portal; reads ``PROXY_FIX_X_FOR`` (trusted hops, 0 = no proxy)
        and ``RATELIMIT_*`` (Flask-Limiter's settings).
    :returns: ``limiter``, bound.
    """
    hops = int(app.config.get("PROXY_FIX_X_FOR", 0) or 0)
    if hops > 0 and not getattr(app.wsgi_app, "abparts_proxy_fix", False):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)
        app.wsgi_app.abparts_proxy_fix = True
    limiter.init_app(app)
    app.register_error_handler(429, _too_many_requests)
    return limiter
