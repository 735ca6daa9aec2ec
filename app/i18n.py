"""Messages of the portal in the user's language (issue 13, "Translations").

English is the source language; catalogs are in ``translations/`` (Greek: ``el``).

- Screens use Flask-Babel directly: ``lazy_gettext`` for labels, menus and titles,
  ``_()`` in templates.
- A rule's message is built where the rule is, without a request at hand:
  :func:`_` returns a :class:`Message`, a ``str`` holding the **English** text (so
  logs, the command line and ``error.message`` stay English) that remembers its
  msgid and named parameters.  Where the message is shown (a flash, a 422, a page
  cell), :func:`localize` translates it into the request's language.
- :func:`select_locale` is the request's language: the user's saved choice,
  else the browser's.
"""
from __future__ import annotations

import decimal
import os
from pathlib import Path

from flask import current_app, has_request_context, request, session
from flask_babel import format_decimal, get_locale, gettext, ngettext

#: The source language: messages in it are shown exactly as built.
SOURCE_LOCALE = "en"


class Message(str):
    """The English text of a user-facing message that can be shown translated.

    ``Message("Not enough stock of %(part)s.", part="AB-1")`` is the ``str``
    ``"Not enough stock of AB-1."``; :meth:`localized` gives the same message in
    the current request's language, with its parameters localized too (a
    parameter may itself be a :class:`Message`, e.g. a field name or a quantity).

    :param msgid: the catalog's msgid, with ``%(name)s`` placeholders.
    :param plural: the plural msgid, for a message counting ``n`` things.
    :param n: the count choosing singular or plural (also a parameter ``n``; Flask-Babel
        gives it as ``num`` too, so no parameter may be called ``num``).
    """

    msgid: str
    plural: str | None
    n: int | None
    params: dict

    def __new__(cls, msgid: str, plural: str | None = None, n: int | None = None, **params):
        if plural is not None:
            params.setdefault("n", n)
        source = msgid if plural is None or n == 1 else plural
        text = source % {k: english(v) for k, v in params.items()} if params else source
        obj = super().__new__(cls, text)
        obj.msgid, obj.plural, obj.n, obj.params = msgid, plural, n, params
        return obj

    def __reduce__(self):
        return (_rebuild, (self.msgid, self.plural, self.n, self.params))

    def localized(self) -> str:
        """The message in the current request's language (English without a request)."""
        if not translating():
            return str.__str__(self)
        params = {k: localize(v) for k, v in self.params.items()}
        if self.plural is not None:
            return ngettext(self.msgid, self.plural, self.n, **params)
        return gettext(self.msgid, **params)


def _rebuild(msgid, plural, n, params):
    return Message(msgid, plural=plural, n=n, **params)


def _(msgid: str, **params) -> Message:
    """Mark a rule's message for translation: the English :class:`Message` of ``msgid``.

    Use named placeholders (``%(part)s``) so translators can reorder them.
    """
    return Message(msgid, **params)


def n_(singular: str, plural: str, n: int, **params) -> Message:
    """Like :func:`_` for a message counting ``n`` things ("1 line", "3 lines")."""
    return Message(singular, plural=plural, n=n, **params)


class Number(str):
    """A number as English text writes it (``"2.5"``) that a page shows the locale's way
    (Greek: ``"2,5"``, ``"1.234"``)."""

    def __new__(cls, value, text: str):
        obj = super().__new__(cls, text)
        obj.value = value
        return obj

    def localized(self) -> str:
        if not translating():
            return str.__str__(self)
        return format_decimal(self.value, format="#,##0.###")


class Joined(str):
    """Message parts joined by ``separator`` (``"missing column: x; unknown column: y"``), each
    shown in the request's language.

    :param separator: what goes between the parts: a text, or a :class:`Message` (``_(" or ")``).
    :param parts: :class:`Message` s or plain texts.
    """

    def __new__(cls, separator: str, parts):
        parts = list(parts)
        obj = super().__new__(cls, english(separator).join(english(p) for p in parts))
        obj.separator, obj.parts = separator, parts
        return obj

    def __reduce__(self):
        return (Joined, (self.separator, self.parts))

    def localized(self) -> str:
        return str(localize(self.separator)).join(str(localize(p)) for p in self.parts)


class Lower(str):
    """A label in lower case inside a sentence ("it is received with discrepancy"), in the
    request's language ("μερικώς παραλήφθηκε").

    :param label: a :class:`Message` (an enum's label, a step's name).
    """

    def __new__(cls, label):
        obj = super().__new__(cls, english(label).lower())
        obj.label = label
        return obj

    def __reduce__(self):
        return (Lower, (self.label,))

    def localized(self) -> str:
        return str(localize(self.label)).lower()


def english(value) -> str:
    """A message parameter as the English text shows it (as ``str`` always did)."""
    if hasattr(value, "english"):
        return value.english()
    return str.__str__(value) if isinstance(value, str) else str(value)


def translating() -> bool:
    """Whether text is being shown in a language other than the source (in a request)."""
    if not has_request_context():
        return False
    locale = get_locale()
    return locale is not None and locale.language != SOURCE_LOCALE


def localize(value):
    """``value`` as the current request shows it.

    A :class:`Message` (or anything with ``localized()``, such as an enum label)
    is translated; a number is written the locale's way ("1.234,5" in Greek);
    anything else is returned unchanged.  In English (and without a request)
    the text is exactly the English one.
    """
    if hasattr(value, "localized"):
        return value.localized()
    if not translating():
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, decimal.Decimal)):
        return format_decimal(value, format="#,##0.###")
    return value


def localize_messages(value):
    """``value`` (a JSON answer: dicts, lists, strings) with every :class:`Message` in it
    translated; numbers and other data are left exactly as they are."""
    if isinstance(value, dict):
        return {key: localize_messages(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [localize_messages(item) for item in value]
    if isinstance(value, Message):
        return value.localized()
    return value


def error_text(error) -> str:
    """A domain error's message in the current request's language (for a flash or a 422)."""
    return localize(getattr(error, "message", None) or str(error))


# --- the request's language -----------------------------------------------------------------

def languages() -> dict:
    """``LANGUAGES`` of the configuration: ``{code: {"flag": ..., "name": ...}}``."""
    return current_app.config["LANGUAGES"]


def select_locale() -> str:
    """The language of this request (Flask-Babel's locale selector).

    In order: FAB's ``?_l_=`` argument of the API; the signed-in user's saved
    choice (``ab_user.locale``; for the REST API the token's user); the choice made
    on the login page (the session); the browser's ``Accept-Language``; English.
    """
    if not has_request_context():
        return current_app.config.get("BABEL_DEFAULT_LOCALE", SOURCE_LOCALE)
    codes = languages()
    asked = request.args.get("_l_")
    if asked in codes:
        return asked
    user = _request_user()
    saved = getattr(user, "locale", None)
    if saved in codes:
        return saved
    chosen = session.get("locale")
    if chosen in codes:
        return chosen
    return request.accept_languages.best_match(list(codes)) or current_app.config["BABEL_DEFAULT_LOCALE"]


def _request_user():
    """The signed-in user of this request (screens: the session; API: a valid bearer token)."""
    from flask import g
    from flask_login import current_user

    user = getattr(g, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return user
    if current_user and getattr(current_user, "is_authenticated", False):
        return current_user
    if request.headers.get("Authorization", "").startswith("Bearer "):
        try:
            from flask_jwt_extended import get_current_user, verify_jwt_in_request

            verify_jwt_in_request(optional=True)
            return get_current_user()
        except Exception:  # an invalid token: the API answers 401 itself
            return None
    return None


# --- catalogs -----------------------------------------------------------------------------

def compile_catalogs(directory: str | os.PathLike) -> list[Path]:
    """Compile every ``<lang>/LC_MESSAGES/messages.po`` under ``directory`` whose ``.mo``
    is missing or older (the portal compiles its catalogs when it starts; no ``.mo`` is kept in git).

    Each ``.mo`` is written to a temporary file and renamed, so processes starting
    together never read half a file.

    :returns: the ``.mo`` files written.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(Path(directory).glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=po.parent.parent.name)
        tmp = mo.with_name(f".{mo.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            write_mo(handle, catalog)
        os.replace(tmp, mo)
        written.append(mo)
    return written


def init_i18n(app, before_appbuilder: bool = False) -> None:
    """Bind the portal's languages to ``app``, around FAB's ``init_app``.

    Before FAB: compile the catalogs of ``BABEL_TRANSLATION_DIRECTORIES`` (FAB then
    merges them over its own, ours winning).  After: Flask-Babel asks
    :func:`select_locale` for each request's language (FAB's selector knows only the
    session), and templates get ``current_language()``.
    """
    if before_appbuilder:
        try:
            compile_catalogs(app.config["BABEL_TRANSLATION_DIRECTORIES"])
        except OSError as exc:  # a read-only install: the .mo files must be there already
            app.logger.warning("Translations not compiled: %s", exc)
        return
    # Flask-Babel 4 keeps the selector in its per-app configuration.
    app.extensions["babel"].locale_selector = select_locale
    app.jinja_env.globals["current_language"] = lambda: str(get_locale() or SOURCE_LOCALE)


#: ``pybabel extract`` keywords beyond Babel's defaults (``_``, ``gettext``, ``ngettext`` ...):
#: FAB's ``lazy_gettext`` and the plural rule messages :func:`n_`.
EXTRACT_KEYWORDS = ("lazy_gettext", "n_:1,2")


def extract_messages(root: str | os.PathLike) -> set:
    """Every msgid of the portal's sources, as ``pybabel extract -F babel.cfg`` finds them.

    :param root: the checkout (holding ``babel.cfg``).
    :returns: msgids; a plural message is its ``(singular, plural)`` pair.
    """
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_keywords, parse_mapping_cfg

    root = Path(root)
    with (root / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {**DEFAULT_KEYWORDS, **parse_keywords(EXTRACT_KEYWORDS)}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            root, method_map, options_map, keywords=keywords):
        found.add(message if isinstance(message, str) else tuple(message))
    return found
