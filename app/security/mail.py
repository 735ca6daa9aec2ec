"""Outgoing mail (invitations, password resets) through Flask-Mail, with a local outbox.

- With ``MAIL_SERVER`` set, messages go to that SMTP server (``MAIL_PORT``,
  ``MAIL_USE_TLS``, ``MAIL_USERNAME``, ``MAIL_PASSWORD``, ``MAIL_DEFAULT_SENDER``:
  Flask-Mail's settings).
- Without it (the embedded default, and the tests) nothing is sent
  (``MAIL_SUPPRESS_SEND``): every message is written to the outbox instead,
  one JSON line per message in ``MAIL_OUTBOX_FILE`` (``instance/mail-outbox.log``)
  and the ``abparts.mail`` log, where an administrator reads the links, so
  invitations and resets work offline.  Tests read Flask-Mail's
  ``mail.record_messages()``.
"""
from __future__ import annotations

import datetime as dt
import json
import logging

from flask import Flask
from flask_mail import Mail, Message, email_dispatched

log = logging.getLogger("abparts.mail")

mail = Mail()


def init_mail(app: Flask) -> None:
    """Bind Flask-Mail to ``app``; without ``MAIL_SERVER`` every message goes to the outbox only."""
    if not app.config.get("MAIL_SERVER"):
        app.config["MAIL_SUPPRESS_SEND"] = True
    app.config.setdefault("MAIL_DEFAULT_SENDER", "ABParts Admin <no-reply@abparts.invalid>")
    mail.init_app(app)
    if not getattr(email_dispatched, "abparts_outbox", False):
        email_dispatched.connect(_to_outbox)
        email_dispatched.abparts_outbox = True


def _to_outbox(app: Flask, message: Message, **_kwargs) -> None:
    entry = {"at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "to": message.recipients,
             "subject": message.subject, "body": message.body,
             "sent": not app.config.get("MAIL_SUPPRESS_SEND", False)}
    log.info("mail to %s: %s", ", ".join(message.recipients), message.subject)
    path = app.config.get("MAIL_OUTBOX_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as outbox:
            outbox.write(json.dumps(entry) + "\n")


def send(to: str, subject: str, body: str) -> None:
    """Send one plain-text message to ``to`` (or write it to the outbox, see above)."""
    mail.send(Message(subject=subject, recipients=[to], body=body))
