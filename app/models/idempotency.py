"""Stored answers of POSTs sent with an ``Idempotency-Key`` header (issue 8, "Safe retries")."""
from __future__ import annotations

from typing import Optional

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column

from .base import CreatedAt, UUIDPrimaryKey


class IdempotencyKey(UUIDPrimaryKey, CreatedAt, Model):
    """The first answer to a user's POST with a given ``Idempotency-Key``.

    Written in the same database transaction as the change the POST made, so
    a key is stored exactly when its change is: a retry finds either both or
    neither.  ``request_hash`` (SHA-256 of method, path and body) tells a
    retry from a different request that reuses the key.  Keys live 24 hours.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),
        sa.Index("idx_idempotency_keys_created", "created_at"),
    )

    user_id: Mapped[int] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id"), nullable=False)
    key: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    request_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    status_code: Mapped[Optional[int]] = mapped_column(sa.Integer)
    response_body: Mapped[Optional[str]] = mapped_column(sa.Text)
