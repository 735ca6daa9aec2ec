"""Security headers on every response (issue 12, "Web and API hardening"), one after-request hook.

- ``Content-Security-Policy``: scripts only from the portal itself and the
  inline scripts carrying this response's nonce (FAB's templates ask for it
  through ``csp_nonce()``, as they would from Flask-Talisman); no inline
  event handlers, no ``eval``; ``frame-ancestors 'none'`` (no framing).
  Styles allow inline ``style`` attributes, which FAB's widgets write.
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``,
  ``X-Frame-Options: DENY`` (older browsers).
- ``Strict-Transport-Security`` when ``SECURITY_HSTS`` is on (production).
- ``Cache-Control: no-store`` on every answer to a signed-in user (pages,
  exports, API answers): nothing of theirs stays in a shared or browser cache.
"""
from __future__ import annotations

import secrets

from flask import Flask, g, request
from flask_login import current_user

CSP = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def csp_nonce() -> str:
    """This response's script nonce (one per request), for ``<script nonce=...>`` in templates."""
    if "abparts_csp_nonce" not in g:
        g.abparts_csp_nonce = secrets.token_urlsafe(16)
    return g.abparts_csp_nonce


def _signed_in() -> bool:
    try:
        return bool(current_user and current_user.is_authenticated) or "Authorization" in request.headers
    except Exception:  # noqa: BLE001 - no user loader on this request (static files)
        return False


def init_headers(app: Flask) -> None:
    """Add the security headers to every response of ``app``; reads ``SECURITY_HSTS``."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP.format(nonce=csp_nonce()))
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if app.config.get("SECURITY_HSTS"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if _signed_in() and request.endpoint != "static" and not request.path.startswith("/static/"):
            headers["Cache-Control"] = "no-store"
        return response
