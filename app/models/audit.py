"""Security and audit tables (seed 001 "Security & Audit Tables")."""
from __future__ import annotations

import datetime as dt
from typing import Optional

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import UUIDPrimaryKey
from .types import TZDateTime, utcnow


class SecurityEvent(UUIDPrimaryKey, Model):
    """A security-relevant event (login, lockout, ledger repair ...), append-only."""

    __tablename__ = "security_events"
    __table_args__ = (
        sa.Index("idx_security_events_user", "user_id"),
        sa.Index("idx_security_events_type", "event_type"),
        sa.Index("idx_security_events_timestamp", "timestamp"),
        sa.Index("idx_security_events_risk", "risk_level"),
    )

    #: Kept when the user is deleted (the event's details name the username).
    user_id: Mapped[Optional[int]] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id", ondelete="SET NULL"))
    event_type: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    ip_address: Mapped[Optional[str]] = mapped_column(sa.String(45))
    user_agent: Mapped[Optional[str]] = mapped_column(sa.Text)
    session_id: Mapped[Optional[str]] = mapped_column(sa.String(255))
    details: Mapped[Optional[str]] = mapped_column(sa.Text)
    timestamp: Mapped[dt.datetime] = mapped_column(
        TZDateTime, nullable=False, default=utcnow, server_default=sa.func.now()
    )
    risk_level: Mapped[str] = mapped_column(
        sa.String(20), nullable=False, default="low", server_default="low"
    )

    user = relationship("PortalUser")


class UserSession(UUIDPrimaryKey, Model):
    """A login session of a user."""

    __tablename__ = "user_sessions"
    __table_args__ = (
        sa.Index("idx_user_sessions_user", "user_id"),
        sa.Index("idx_user_sessions_token", "session_token"),
        sa.Index("idx_user_sessions_expires", "expires_at"),
        sa.Index("idx_user_sessions_active", "is_active"),
    )

    user_id: Mapped[int] = mapped_column(
        sa.Integer, sa.ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    session_token: Mapped[str] = mapped_column(sa.String(255), unique=True, nullable=False)
    ip_address: Mapped[Optional[str]] = mapped_column(sa.String(45))
    user_agent: Mapped[Optional[str]] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        TZDateTime, nullable=False, default=utcnow, server_default=sa.func.now()
    )
    expires_at: Mapped[dt.datetime] = mapped_column(TZDateTime, nullable=False)
    last_activity: Mapped[dt.datetime] = mapped_column(
        TZDateTime, nullable=False, default=utcnow, server_default=sa.func.now()
    )
    is_active: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=True, server_default=sa.true()
    )

    user = relationship("PortalUser")


class _UserAuditLog(UUIDPrimaryKey):
    """Columns shared by the two user audit logs."""

    action: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    timestamp: Mapped[dt.datetime] = mapped_column(
        TZDateTime, nullable=False, default=utcnow, server_default=sa.func.now()
    )
    details: Mapped[Optional[str]] = mapped_column(sa.Text)


class InvitationAuditLog(_UserAuditLog, Model):
    """What happened to a user's invitation, and who did it."""

    __tablename__ = "invitation_audit_logs"
    __table_args__ = (
        sa.Index("idx_invitation_audit_user", "user_id"),
        sa.Index("idx_invitation_audit_action", "action"),
        sa.Index("idx_invitation_audit_timestamp", "timestamp"),
    )

    #: Both kept, emptied, when the user is deleted (``details`` names the username).
    user_id: Mapped[Optional[int]] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id", ondelete="SET NULL"))
    performed_by_user_id: Mapped[Optional[int]] = mapped_column(
        sa.Integer, sa.ForeignKey("ab_user.id", ondelete="SET NULL")
    )

    user = relationship("PortalUser", foreign_keys=[user_id])
    performed_by_user = relationship("PortalUser", foreign_keys=[performed_by_user_id])


class UserManagementAuditLog(_UserAuditLog, Model):
    """A user-management action (create, role change, deactivation ...) and its author."""

    __tablename__ = "user_management_audit_logs"
    __table_args__ = (
        sa.Index("idx_user_mgmt_audit_user", "user_id"),
        sa.Index("idx_user_mgmt_audit_action", "action"),
        sa.Index("idx_user_mgmt_audit_timestamp", "timestamp"),
    )

    #: Both kept, emptied, when the user is deleted (``details`` names the username).
    user_id: Mapped[Optional[int]] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id", ondelete="SET NULL"))
    performed_by_user_id: Mapped[Optional[int]] = mapped_column(
        sa.Integer, sa.ForeignKey("ab_user.id", ondelete="SET NULL")
    )

    user = relationship("PortalUser", foreign_keys=[user_id])
    performed_by_user = relationship("PortalUser", foreign_keys=[performed_by_user_id])


class UnknownLoginFailure(Model):
    """Failed sign-ins under a name that is no active account (issue 12, "no user enumeration").

    Counted and locked exactly as ``ab_user.failed_login_attempts`` / ``locked_until``
    are (:mod:`app.security.lockout`), so that a name that is no account locks after the
    same failures, with the same message, as one that is.  ``name_key`` is the SHA-256
    of the case-folded name: the names themselves are not kept.  Belongs to no organization.
    """

    __tablename__ = "unknown_login_failures"

    name_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failed_login_attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, server_default="0")
    locked_until: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)


unknown_login_failures = UnknownLoginFailure.__table__
