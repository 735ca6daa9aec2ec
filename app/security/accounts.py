"""Invitations and password resets (issue 12): single-use links whose token is stored hashed.

A link carries a random token; the user's row keeps only its SHA-256
(``invitation_token``, ``password_reset_token``) and an expiry, so a copy of
the table opens nothing.  Using a link clears its token: it works once.

Invitations (``INVITATION_EXPIRY_HOURS``, 72 h):
  an organization's admin invites a user of its own organization as Admin or
  User (nothing more, nowhere else: the rules of :mod:`app.rules.users` hold
  for the new, inactive ``pending_invitation`` user row); a Super Admin invites
  for any organization.  Resend (a new link; the old one stops working),
  revoke, accept (by setting a password).  Each step writes an
  ``invitation_audit_logs`` row and a security event.

Password reset (``PASSWORD_RESET_EXPIRY_HOURS``, 1 h):
  asking answers the same whether or not the address is known (no user
  enumeration); the link sets a new password (the policy applies), clears a
  lockout, and ends every session of the user (its API tokens too).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import uuid

import sqlalchemy as sa
from flask import current_app, has_request_context, request, url_for
from werkzeug.security import generate_password_hash

from ..errors import Forbidden, RuleViolation, flush_checked
from ..extensions import db
from ..models import InvitationAuditLog, PortalUser
from ..models.enums import UserStatus
from ..models.types import utcnow
from ..scoping import ORGANIZATION_ROLES, current_actor, system
from ..i18n import _
from . import events, lockout, mail, passwords

INVALID_LINK = "This link is invalid, used already or expired: ask for a new one."
RESET_ANSWER = ("If an active account uses this address, a link to set a new password is on its way. "
                "It works for {hours:g} hour(s), once.")


def new_token() -> tuple[str, str]:
    """A fresh link token and its stored form: ``(token, sha256 hex)``."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    """The stored form of a link token."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def link(endpoint: str, token: str) -> str:
    """The absolute address of a link page, on ``PUBLIC_BASE_URL`` when set (behind a proxy)."""
    path = url_for(endpoint, token=token)
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + path
    return (request.host_url.rstrip("/") + path) if has_request_context() else path


def _log_invitation(user_id: int, action: str, by: int | None, **details) -> None:
    db.session.execute(sa.insert(InvitationAuditLog.__table__).values(
        id=uuid.uuid4(), user_id=user_id, performed_by_user_id=by, action=action, timestamp=utcnow(),
        details=json.dumps(details, default=str, sort_keys=True) if details else None))


def _acting_id() -> int | None:
    actor = current_actor()
    return actor.user_id if actor else None


def invite(email: str, first_name: str, last_name: str, role_name: str, organization_id=None,
           username: str | None = None) -> PortalUser:
    """Invite a new user by e-mail; commits and sends the link.

    :param role_name: ``Admin`` or ``User`` (a Super Admin may also give the
        other roles; the rules keep Super Admins in Oraseas EE).
    :param organization_id: the new user's organization; an organization's
        admin always invites into its own.
    :param username: defaults to the e-mail address.
    :returns: the new, inactive user (``pending_invitation``).
    :raises Forbidden: an organization's admin asking for a role beyond Admin and User,
        or for another organization.
    :raises RuleViolation: a missing or malformed field, an unknown role, a taken
        username or e-mail, a cap reached.
    """
    actor = current_actor()
    for name, value in (("email", email), ("first_name", first_name), ("last_name", last_name)):
        if not isinstance(value, str) or not value.strip():
            raise RuleViolation(_("%(name)s is required.", name=name))
    if "@" not in email or len(email) > 255:
        raise RuleViolation(_("email must be an e-mail address."))
    with system():  # a restricted actor does not see the roles beyond its reach; named, they are refused
        role = current_app.appbuilder.sm.find_role(role_name) if isinstance(role_name, str) else None
    if role is None:
        raise RuleViolation(_("role must name a role (Admin or User)."))
    if actor is not None and actor.is_restricted:
        if role.name not in ORGANIZATION_ROLES:
            raise Forbidden(_("An organization's admin invites only Admins and Users."))
        if organization_id not in (None, "", str(actor.organization_id), actor.organization_id):
            raise Forbidden(_("An organization's admin invites only into its own organization."))
        organization_id = actor.organization_id
    if not organization_id:
        raise RuleViolation(_("organization_id is required."))
    token, digest = new_token()
    user = PortalUser(
        first_name=first_name.strip(), last_name=last_name.strip(), email=email.strip(),
        username=(username or email).strip(), organization_id=organization_id, roles=[role],
        active=False, user_status=UserStatus.pending_invitation,
        password=generate_password_hash(secrets.token_urlsafe(32)),  # unusable until accepted
        invitation_token=digest, invitation_expires_at=utcnow() + dt.timedelta(hours=invitation_hours()),
        invited_by_user_id=actor.user_id if actor else None)
    db.session.add(user)
    flush_checked(db.session)
    _log_invitation(user.id, "sent", _acting_id(), email=user.email, role=role.name)
    events.record(events.INVITATION_SENT, user.id, "low", by=_acting_id(), role=role.name)
    db.session.commit()
    _send_invitation(user, token)
    return user


def invitation_hours() -> float:
    """``INVITATION_EXPIRY_HOURS``: how long an invitation link works (72)."""
    return float(current_app.config.get("INVITATION_EXPIRY_HOURS", 72))


def _send_invitation(user: PortalUser, token: str) -> None:
    hours = invitation_hours()
    mail.send(user.email, "Your ABParts Admin invitation",
              f"Hello {user.first_name},\n\nyou are invited to ABParts Admin as {user.username}. "
              f"Set your password here (the link works once, for {hours:g} hours):\n\n"
              f"{link('AccountRecoveryView.invitation', token)}\n")


def pending(user: PortalUser) -> bool:
    """Whether ``user`` has an invitation not yet accepted or revoked."""
    return user.user_status == UserStatus.pending_invitation and user.invitation_token is not None


def resend(user: PortalUser) -> None:
    """Send a new invitation link (the old one stops working); commits.

    :raises RuleViolation: when the user has no pending invitation.
    """
    if not pending(user):
        raise RuleViolation(_("This user has no pending invitation."))
    token, user.invitation_token = new_token()
    user.invitation_expires_at = utcnow() + dt.timedelta(hours=invitation_hours())
    flush_checked(db.session)
    _log_invitation(user.id, "resent", _acting_id())
    events.record(events.INVITATION_SENT, user.id, "low", by=_acting_id(), resent=True)
    db.session.commit()
    _send_invitation(user, token)


def revoke(user: PortalUser) -> None:
    """Withdraw a pending invitation: the link stops working, the user stays inactive; commits.

    :raises RuleViolation: when the user has no pending invitation.
    """
    if not pending(user):
        raise RuleViolation(_("This user has no pending invitation."))
    user.invitation_token = None
    user.invitation_expires_at = None
    user.user_status = UserStatus.inactive
    flush_checked(db.session)
    _log_invitation(user.id, "revoked", _acting_id())
    events.record(events.INVITATION_REVOKED, user.id, "low", by=_acting_id())
    db.session.commit()


def _by_token(column, expires_column, token) -> PortalUser | None:
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    return db.session.execute(
        sa.select(PortalUser).where(column == token_digest(token), expires_column > utcnow())
    ).scalar_one_or_none()


@system()  # the link is the authority: no one is signed in yet
def invited_user(token: str) -> PortalUser | None:
    """The user a live invitation link was sent to, or ``None``."""
    user = _by_token(PortalUser.invitation_token, PortalUser.invitation_expires_at, token)
    return user if user is not None and pending(user) else None


def _set_password(user: PortalUser | None, password: str) -> PortalUser:
    """Set the password of the user a link names, under the policy (not flushed).

    :raises RuleViolation: no user (an invalid, used or expired link).
    :raises passwords.WeakPassword: a password the policy refuses.
    """
    if user is None:
        raise RuleViolation(INVALID_LINK)
    passwords.check_password(password, user.username)
    user.password = passwords.hash_password(password)
    return user


@system()  # the link is the authority: no one is signed in yet
def accept(token: str, password: str) -> PortalUser:
    """Accept an invitation by setting a password: the user becomes active; commits.

    :raises RuleViolation: an invalid, used or expired link.
    :raises passwords.WeakPassword: a password the policy refuses (the link still works).
    """
    user = _set_password(invited_user(token), password)
    user.active = True
    user.user_status = UserStatus.active
    user.invitation_token = None
    user.invitation_expires_at = None
    flush_checked(db.session)
    _log_invitation(user.id, "accepted", user.id)
    events.record(events.INVITATION_ACCEPTED, user.id, "low")
    db.session.commit()
    db.session.refresh(user)  # for the caller, who has no actor yet
    return user


@system()  # the link is the authority: no one is signed in yet
def request_reset(email: str) -> str:
    """Send a password-reset link to the active user with this e-mail, if there is one; commits.

    :returns: the answer to show, the same whether or not the address is known.
    """
    hours = float(current_app.config.get("PASSWORD_RESET_EXPIRY_HOURS", 1))
    answer = RESET_ANSWER.format(hours=hours)
    if not isinstance(email, str) or "@" not in email or len(email) > 255:
        return answer
    user = db.session.execute(
        sa.select(PortalUser).where(sa.func.lower(PortalUser.email) == email.strip().lower(),
                                    PortalUser.active.is_(True))
    ).scalar_one_or_none()
    if user is None:
        events.commit(events.PASSWORD_RESET_REQUESTED, None, "low", known=False)
        return answer
    token, user.password_reset_token = new_token()
    user.password_reset_expires_at = utcnow() + dt.timedelta(hours=hours)
    events.record(events.PASSWORD_RESET_REQUESTED, user.id, "low", known=True)
    db.session.commit()
    mail.send(user.email, "Set a new ABParts Admin password",
              f"Hello {user.first_name},\n\nsomeone (hopefully you) asked to set a new password for "
              f"{user.username}. The link works once, for {hours:g} hour(s):\n\n"
              f"{link('AccountRecoveryView.reset', token)}\n\nIf it was not you, ignore this message.\n")
    return answer


@system()  # the link is the authority: no one is signed in yet
def reset_user(token: str) -> PortalUser | None:
    """The active user a live reset link was sent to, or ``None``."""
    user = _by_token(PortalUser.password_reset_token, PortalUser.password_reset_expires_at, token)
    return user if user is not None and user.active else None


@system()  # the link is the authority: no one is signed in yet
def confirm_reset(token: str, password: str) -> PortalUser:
    """Set a new password through a reset link; clears a lockout, ends every session; commits.

    :raises RuleViolation: an invalid, used or expired link.
    :raises passwords.WeakPassword: a password the policy refuses (the link still works).
    """
    user = _set_password(reset_user(token), password)  # the audit hook ends its sessions
    user.password_reset_token = None
    user.password_reset_expires_at = None
    flush_checked(db.session)
    lockout.unlock(user.id)
    events.record(events.PASSWORD_RESET, user.id, "medium")
    db.session.commit()
    db.session.refresh(user)  # for the caller, who has no actor yet
    return user
