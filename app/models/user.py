"""Users: Flask-AppBuilder's ``ab_user``, extended with the seed's user columns.

Where this departs from seed 001's ``users`` table, and why:

- The table is FAB's ``ab_user`` with FAB's integer primary key, so FAB's
  login, password hashing, JWT and user screens work unchanged; every
  ``*_user_id`` column of the domain tables refers to ``ab_user.id``.
- ``password_hash`` is FAB's ``password``; ``is_active`` is FAB's ``active``;
  ``name`` is FAB's ``first_name`` + ``last_name``; ``created_at`` /
  ``updated_at`` are FAB's ``created_on`` / ``changed_on``; ``last_login`` is FAB's.
- ``role`` (one enum value) becomes FAB roles (``ab_user_role``): Super Admin,
  Admin, User, and the portal's own Auditor.  ``idx_users_org_role`` is
  therefore an index on ``organization_id`` with ``user_status``.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Optional

import sqlalchemy as sa
from flask_appbuilder.security.sqla.models import User as FabUser
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .enums import UserStatus
from .types import TZDateTime, UUIDType, pg_enum


class PortalUser(FabUser):
    """A portal user of one organization (seed 001 "users").

    Rules: super admins only in Oraseas EE; each organization keeps at least
    one admin; at most ``LIMIT_USERS`` users (see ``app.rules.users``).
    """

    __tablename__ = "ab_user"
    __table_args__ = (
        sa.Index("idx_users_org_status", "organization_id", "user_status"),
        sa.Index("idx_users_status", "user_status"),
        sa.Index("idx_users_invitation_token", "invitation_token"),
        # Lists sorted by a user column walk users in name order (sort_columns).
        sa.Index("idx_users_name", "first_name", "last_name"),
        {"extend_existing": True},
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("organizations.id"), nullable=False
    )
    user_status: Mapped[UserStatus] = mapped_column(
        pg_enum(UserStatus, "user_status_enum"),
        nullable=False,
        default=UserStatus.active,
        server_default=UserStatus.active.value,
    )
    failed_login_attempts: Mapped[int] = mapped_column(
        sa.Integer, nullable=False, default=0, server_default="0"
    )
    locked_until: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    invitation_token: Mapped[Optional[str]] = mapped_column(sa.String(255))
    invitation_expires_at: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    invited_by_user_id: Mapped[Optional[int]] = mapped_column(
        sa.Integer, sa.ForeignKey("ab_user.id")
    )
    password_reset_token: Mapped[Optional[str]] = mapped_column(sa.String(255))
    password_reset_expires_at: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    email_verification_token: Mapped[Optional[str]] = mapped_column(sa.String(255))
    email_verification_expires_at: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    pending_email: Mapped[Optional[str]] = mapped_column(sa.String(255))
    #: The language the user chose in the navbar (a ``LANGUAGES`` code, "en" or "el");
    #: ``None``: the browser's (issue 13, :func:`app.i18n.select_locale`).
    locale: Mapped[Optional[str]] = mapped_column(sa.String(8))

    organization = relationship("Organization", foreign_keys=[organization_id])
    invited_by = relationship(
        "PortalUser", remote_side="PortalUser.id", foreign_keys=[invited_by_user_id], uselist=False
    )

    #: What a list sorts a column of users by (``app.views.interface``): the name as shown.
    sort_columns = ("first_name", "last_name")

    @property
    def name(self) -> str:
        """The seed's ``name``: first and last name."""
        return self.get_full_name()

    @property
    def role_names(self) -> set[str]:
        """Names of the FAB roles this user holds."""
        return {role.name for role in self.roles}

    def __str__(self) -> str:
        return f"{self.get_full_name()} ({self.username})"


# FAB's own ``User`` class keeps that name in the mapper registry; ours is
# ``PortalUser`` so that FAB's string relationships ("User") stay unambiguous.
