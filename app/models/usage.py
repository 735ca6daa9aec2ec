"""Parts consumed by customers in their machines (seed 001 "part_usage")."""
from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Optional

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import QuantityDisplay, Timestamps, UUIDPrimaryKey
from .types import FILLED_BY_RULES, Quantity, TZDateTime, UUIDType


class PartUsage(QuantityDisplay, UUIDPrimaryKey, Timestamps, Model):
    """A customer consuming ``quantity`` (part's unit) of a part from a warehouse.

    Each record posts its own ``consumption`` transaction (``transaction_id``,
    this portal's addition) in the same database transaction; the
    organization is the one that owns ``warehouse``.
    """

    __tablename__ = "part_usage"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="positive_quantity"),
        sa.Index("idx_part_usage_customer", "customer_organization_id"),
        sa.Index("idx_part_usage_part", "part_id"),
        sa.Index("idx_part_usage_date", "usage_date"),
        sa.Index("idx_part_usage_machine", "machine_id"),
        sa.Index("idx_part_usage_machine_date", "machine_id", "usage_date"),
    )

    customer_organization_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("organizations.id"), nullable=False
    )
    part_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("parts.id"), nullable=False)
    usage_date: Mapped[dt.datetime] = mapped_column(TZDateTime, nullable=False, info=FILLED_BY_RULES)
    quantity: Mapped[decimal.Decimal] = mapped_column(
        Quantity, nullable=False, default=decimal.Decimal(1), server_default="1"
    )
    machine_id: Mapped[Optional[uuid.UUID]] = mapped_column(UUIDType, sa.ForeignKey("machines.id"))
    recorded_by_user_id: Mapped[Optional[int]] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("warehouses.id"), nullable=False
    )
    notes: Mapped[Optional[str]] = mapped_column(sa.Text)
    transaction_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("transactions.id"), nullable=False, unique=True
    )

    customer_organization = relationship("Organization")
    part = relationship("Part")
    machine = relationship("Machine")
    recorded_by_user = relationship("PortalUser")
    warehouse = relationship("Warehouse")
    transaction = relationship("Transaction")
    #: Relations ``__str__`` reads: lists and dropdowns load them with the page.
    str_relations = ("part",)

    def __str__(self) -> str:
        return f"{self.quantity} of {self.part}"
