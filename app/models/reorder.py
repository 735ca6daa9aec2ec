"""Suggested reorder points, computed from each stock line's usage (issue 11)."""
from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Optional

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import format_quantity, renders_quantity, UUIDPrimaryKey
from .types import Quantity, TZDateTime, UUIDType


class ReorderSuggestion(UUIDPrimaryKey, Model):
    """The latest suggested reorder point of one stock line (this portal's addition, migration 0013).

    ``suggested_point = ceil(average_daily_use x (lead_time_days + safety_stock_days))``,
    in the part's unit of measure (whole units for consumables, 3 decimals for bulk
    material); ``average_daily_use`` is what left the warehouse over the last
    ``window_days`` days divided by ``window_days``
    (:func:`app.workflows.reorder.suggest_reorder_points`).  ``current_point`` is the
    line's reorder point when the suggestion was computed.  Accepting writes
    ``suggested_point`` into ``inventory.minimum_stock_recommendation`` and stamps
    ``accepted_at``/``accepted_by``; a new computation replaces the line's suggestion.
    """

    __tablename__ = "reorder_suggestions"
    __table_args__ = (
        sa.UniqueConstraint("inventory_id", name="uq_reorder_suggestions_inventory"),
        sa.Index("idx_reorder_suggestions_organization", "organization_id", "accepted_at"),
        sa.Index("idx_reorder_suggestions_computed", "computed_at"),
    )

    inventory_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("inventory.id"), nullable=False)
    #: The organization owning the warehouse (organization scoping reads it).
    organization_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("organizations.id"), nullable=False)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("warehouses.id"), nullable=False)
    part_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("parts.id"), nullable=False)
    unit_of_measure: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    window_days: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    lead_time_days: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    safety_stock_days: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    #: What left the warehouse over the window (part's unit of measure).
    used_in_window: Mapped[decimal.Decimal] = mapped_column(Quantity, nullable=False)
    current_stock: Mapped[decimal.Decimal] = mapped_column(Quantity, nullable=False)
    current_point: Mapped[decimal.Decimal] = mapped_column(Quantity, nullable=False)
    suggested_point: Mapped[decimal.Decimal] = mapped_column(Quantity, nullable=False)
    computed_at: Mapped[dt.datetime] = mapped_column(TZDateTime, nullable=False)
    computed_by: Mapped[str] = mapped_column(sa.String(256), nullable=False)
    accepted_at: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    accepted_by: Mapped[Optional[str]] = mapped_column(sa.String(256))

    inventory = relationship("Inventory")
    organization = relationship("Organization")
    warehouse = relationship("Warehouse")
    part = relationship("Part")
    #: Relations ``__str__`` reads: lists and dropdowns load them with the page.
    str_relations = ("part", "warehouse")

    @property
    def average_daily_use(self) -> decimal.Decimal:
        """``used_in_window / window_days``, per day in the part's unit of measure."""
        return self.used_in_window / self.window_days

    def _fmt(self, value) -> str:
        return format_quantity(value, self.unit_of_measure)

    @renders_quantity("used_in_window", unit="unit_of_measure")
    def used(self) -> str:
        return self._fmt(self.used_in_window)

    @renders_quantity("current_stock", unit="unit_of_measure")
    def stock_on_hand(self) -> str:
        return self._fmt(self.current_stock)

    @renders_quantity("current_point", unit="unit_of_measure")
    def current_reorder_point(self) -> str:
        return self._fmt(self.current_point)

    @renders_quantity("suggested_point", unit="unit_of_measure")
    def suggested_reorder_point(self) -> str:
        return self._fmt(self.suggested_point)

    def __str__(self) -> str:
        return f"{self.part} @ {self.warehouse}: {self.suggested_point}"
