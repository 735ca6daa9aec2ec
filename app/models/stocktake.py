"""Stocktakes: counting a warehouse's stock and correcting the books (issue 9).

A stocktake is this portal's addition to the seed 001 schema (seed 004 lists
"stocktake management (plan, execute, complete), individual and batch item
counting, inventory adjustments with transaction logging").  The seed defines
no tables for it; the names here follow the seed's style (``stock_adjustments``,
``reason_code``).  The state machine lives in :mod:`app.workflows.stocktake`.

- :class:`Stocktake`: one warehouse, a planned date, whether the count is
  blind, who counts (:class:`StocktakeCounter`), and who did each step.
- :class:`StocktakeLine`: one part; ``snapshot_quantity`` is the book quantity
  when counting started; after completion the variance and, once posted, the
  :class:`~app.models.StockAdjustment` that corrected the books.
- :class:`StocktakeCount`: one counter's count of one line, with the book
  quantity at the moment it was entered (snapshot plus the postings since).

Quantities are in the part's unit of measure; money in the price currency.
"""
from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Optional

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import CreatedAt, label_property, Timestamps, UUIDPrimaryKey
from ..i18n import Lower, _
from .enums import PartType, StocktakeStatus
from .types import Money, Quantity, TZDateTime, UUIDType, pg_enum
from .warehouse import warehouse_label, warehouse_label_order


#: The words of a stocktake's ``scope`` (``part_type:<type>`` is :attr:`Stocktake.scope_label`'s).
SCOPE_LABELS = {"all": _("all"), "parts": _("parts"), "below_reorder_point": _("below reorder point")}


class Stocktake(UUIDPrimaryKey, Timestamps, Model):
    """A count of one warehouse's stock (``stocktakes``).

    ``organization_id`` repeats the warehouse's organization for scoping.
    ``scope`` says how the lines were chosen (``all``, ``parts``,
    ``part_type:<type>``, ``below_reorder_point``).  ``status`` changes only
    through the workflow commands; who did each step, and when, is on the row.
    """

    __tablename__ = "stocktakes"
    __table_args__ = (
        sa.Index("idx_stocktakes_organization", "organization_id", "created_at"),
        sa.Index("idx_stocktakes_warehouse", "warehouse_id"),
        sa.Index("idx_stocktakes_status", "status"),
    )

    reference_number: Mapped[str] = mapped_column(sa.String(100), nullable=False, unique=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("organizations.id"), nullable=False)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("warehouses.id"), nullable=False)
    status: Mapped[StocktakeStatus] = mapped_column(
        pg_enum(StocktakeStatus, "stocktake_status_enum"), nullable=False, default=StocktakeStatus.planned,
        server_default=StocktakeStatus.planned.value)
    planned_date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    is_blind: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True, server_default=sa.true())
    scope: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="all", server_default="all")
    notes: Mapped[Optional[str]] = mapped_column(sa.Text)
    created_by_user_id: Mapped[int] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id"), nullable=False)
    started_by_user_id: Mapped[Optional[int]] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id"))
    started_at: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    completed_by_user_id: Mapped[Optional[int]] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id"))
    completed_at: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    approved_by_user_id: Mapped[Optional[int]] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id"))
    approved_at: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    cancelled_by_user_id: Mapped[Optional[int]] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id"))
    cancelled_at: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    #: The thresholds in force when the variances were computed (percent of the book quantity; money).
    threshold_percent: Mapped[Optional[decimal.Decimal]] = mapped_column(sa.Numeric(7, 2))
    threshold_value: Mapped[Optional[decimal.Decimal]] = mapped_column(Money)

    warehouse = relationship("Warehouse")
    organization = relationship("Organization")
    created_by_user = relationship("PortalUser", foreign_keys=[created_by_user_id])
    lines: Mapped[list["StocktakeLine"]] = relationship(
        "StocktakeLine", back_populates="stocktake", order_by="StocktakeLine.line_number")
    counters: Mapped[list["StocktakeCounter"]] = relationship("StocktakeCounter", back_populates="stocktake")

    @property
    def scope_label(self) -> str:
        """How the lines were chosen, in words ("part type: bulk material"), in the request's language."""
        if self.scope.startswith("part_type:"):
            kind = self.scope.split(":", 1)[1]
            known = kind in PartType.__members__
            return _("part type: %(part_type)s", part_type=Lower(PartType(kind).label) if known else kind)
        return SCOPE_LABELS.get(self.scope) or self.scope.replace("_", " ")

    def __str__(self) -> str:
        return self.reference_number

    __repr__ = __str__


class StocktakeCounter(UUIDPrimaryKey, Model):
    """A user who counts a stocktake (``stocktake_counters``): a user of the warehouse's organization."""

    __tablename__ = "stocktake_counters"
    __table_args__ = (
        sa.UniqueConstraint("stocktake_id", "user_id", name="uq_stocktake_counters_user"),
        sa.Index("idx_stocktake_counters_user", "user_id"),
    )

    stocktake_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("stocktakes.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id"), nullable=False)

    stocktake = relationship("Stocktake", back_populates="counters")
    user = relationship("PortalUser")


class StocktakeLine(UUIDPrimaryKey, Model):
    """One part of a stocktake (``stocktake_lines``); one line per part.

    ``snapshot_quantity``: the book quantity when counting started.
    ``agreed_quantity``/``book_quantity``: the count the line settled on and the
    book quantity it is compared with (set at completion, or by an admin's
    decision with ``resolution_note``).  ``variance_quantity`` =
    agreed - book, ``variance_value`` = ``unit_price`` x variance;
    ``needs_approval`` when over the threshold.  ``stock_adjustment_id``: the
    posted correction.
    """

    __tablename__ = "stocktake_lines"
    __table_args__ = (
        sa.UniqueConstraint("stocktake_id", "part_id", name="uq_stocktake_lines_part"),
        sa.CheckConstraint("agreed_quantity IS NULL OR agreed_quantity >= 0", name="agreed_not_negative"),
        sa.Index("idx_stocktake_lines_part", "part_id"),
    )

    stocktake_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("stocktakes.id"), nullable=False)
    line_number: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    part_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("parts.id"), nullable=False)
    snapshot_quantity: Mapped[Optional[decimal.Decimal]] = mapped_column(Quantity)
    agreed_quantity: Mapped[Optional[decimal.Decimal]] = mapped_column(Quantity)
    book_quantity: Mapped[Optional[decimal.Decimal]] = mapped_column(Quantity)
    resolution_note: Mapped[Optional[str]] = mapped_column(sa.Text)
    resolved_by_user_id: Mapped[Optional[int]] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id"))
    resolved_at: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    variance_quantity: Mapped[Optional[decimal.Decimal]] = mapped_column(Quantity)
    unit_price: Mapped[Optional[decimal.Decimal]] = mapped_column(Money)
    variance_value: Mapped[Optional[decimal.Decimal]] = mapped_column(Money)
    needs_approval: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False,
                                                 server_default=sa.false())
    stock_adjustment_id: Mapped[Optional[uuid.UUID]] = mapped_column(
        UUIDType, sa.ForeignKey("stock_adjustments.id"), unique=True)

    stocktake = relationship("Stocktake", back_populates="lines")
    part = relationship("Part")
    stock_adjustment = relationship("StockAdjustment")
    counts: Mapped[list["StocktakeCount"]] = relationship(
        "StocktakeCount", back_populates="line", order_by="StocktakeCount.counted_at")

    def __str__(self) -> str:
        return f"{self.stocktake_id} line {self.line_number}"


class StocktakeCount(UUIDPrimaryKey, CreatedAt, Model):
    """One counter's count of one line (``stocktake_counts``); a counter corrects it in place.

    ``book_quantity``: the line's book quantity when the count was entered
    (the snapshot plus the net postings to the warehouse and part since).
    """

    __tablename__ = "stocktake_counts"
    __table_args__ = (
        sa.UniqueConstraint("stocktake_line_id", "counted_by_user_id", name="uq_stocktake_counts_counter"),
        sa.CheckConstraint("counted_quantity >= 0", name="counted_not_negative"),
        sa.Index("idx_stocktake_counts_user", "counted_by_user_id"),
    )

    stocktake_line_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("stocktake_lines.id"), nullable=False)
    counted_by_user_id: Mapped[int] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id"), nullable=False)
    counted_quantity: Mapped[decimal.Decimal] = mapped_column(Quantity, nullable=False)
    book_quantity: Mapped[decimal.Decimal] = mapped_column(Quantity, nullable=False)
    counted_at: Mapped[dt.datetime] = mapped_column(TZDateTime, nullable=False)

    line = relationship("StocktakeLine", back_populates="counts")
    counted_by_user = relationship("PortalUser")


Stocktake.warehouse_name = label_property(warehouse_label, Stocktake.__table__.c.warehouse_id, warehouse_label_order)
