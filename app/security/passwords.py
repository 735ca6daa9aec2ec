"""The password policy (issue 12): at least ``PASSWORD_MIN_LENGTH`` (12) characters,
not a common password (nor one with a few digits or symbols around it), not
containing the username.

Enforced on every path that sets a password:

- FAB's forms (add user, an admin's "reset password", "reset my password")
  through FAB's documented hook ``FAB_PASSWORD_COMPLEXITY_VALIDATOR``
  (:func:`fab_password_validator`), with the username taken from the form or
  the user whose password is set;
- ``SecurityManager.add_user`` and ``reset_password`` (FAB's command line
  ``flask fab create-admin``/``create-user``/``reset-password``, and the
  invitation and reset pages) through :func:`check_password`.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from flask import current_app, has_request_context, request
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_login import current_user
from werkzeug.security import generate_password_hash

from ..errors import RuleViolation
from ..i18n import _

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


class WeakPassword(RuleViolation, PasswordComplexityValidationError):
    """A password the policy refuses; the message says which rule and what to do."""


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The common passwords (lower case), from ``common_passwords.txt`` beside this module."""
    lines = COMMON_PASSWORDS_FILE.read_text().splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _is_common(password: str) -> bool:
    lowered = password.lower()
    words = common_passwords()
    if lowered in words:
        return True
    # "Password123!", "!!qwerty2024": a common word with digits or symbols around it.
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", lowered)
    if core in words or (core and len(set(core)) <= 2):
        return True
    # one repeated character, or a run along the digits or the alphabet ("123456789012", "abcdefghijkl")
    if len(set(lowered)) <= 2:
        return True
    steps = {ord(b) - ord(a) for a, b in zip(lowered, lowered[1:])}
    return steps <= {1} or steps <= {-1}


def check_password(password: str, username: str | None = None) -> None:
    """Refuse a password the policy does not allow.

    :param password: the new password, in clear.
    :param username: the user's username (and e-mail's local part, if given as an e-mail):
        the password may not contain it.
    :raises WeakPassword: naming the rule broken.
    """
    minimum = int(current_app.config.get("PASSWORD_MIN_LENGTH", 12))
    if not isinstance(password, str) or len(password) < minimum:
        raise WeakPassword(_("The password must have at least %(minimum)s characters.", minimum=minimum))
    if _is_common(password):
        raise WeakPassword(_("This password is too common: choose one that is harder to guess."))
    for name in _names(username):
        if len(name) >= 3 and name in password.lower():
            raise WeakPassword(_("The password must not contain the username."))


def hash_password(password: str) -> str:
    """The stored form of a password, hashed as FAB hashes it (``FAB_PASSWORD_HASH_METHOD``)."""
    return generate_password_hash(
        password=password,
        method=current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
        salt_length=current_app.config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16),
    )


def _names(username: str | None) -> set[str]:
    if not username:
        return set()
    username = username.strip().lower()
    return {username, username.split("@")[0]}


def _username_in_context() -> str | None:
    """The username of the user whose password a FAB form is setting.

    The add-user form names it; an admin's reset names the user by ``pk``;
    "reset my password" is the signed-in user's own.
    """
    if not has_request_context():
        return None
    if request.form.get("username"):
        return request.form["username"]
    pk = request.args.get("pk")
    if pk and pk.isdigit():
        user = current_app.appbuilder.sm.get_user_by_id(int(pk))
        return user.username if user else None
    if current_user and current_user.is_authenticated:
        return current_user.username
    return None


def fab_password_validator(password: str) -> None:
    """FAB's ``FAB_PASSWORD_COMPLEXITY_VALIDATOR``: :func:`check_password` for FAB's forms.

    :raises WeakPassword: (a :class:`PasswordComplexityValidationError`) shown under the field.
    """
    check_password(password, _username_in_context())
