"""Stock on hand per warehouse and part, and reason-coded stock adjustments."""
from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Optional

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .enums import StockStatus
from .text_search import EXPRESSION
from .base import CreatedAt, format_quantity, renders_quantity, Timestamps, UUIDPrimaryKey
from .types import FILLED_BY_RULES, Quantity, TZDateTime, UUIDType, utcnow


#: The SQL type of :attr:`Inventory.status`: the :class:`StockStatus` names, no database type of its own.
STOCK_STATUS_TYPE = sa.Enum(StockStatus, native_enum=False, create_constraint=False, length=10)


class Inventory(UUIDPrimaryKey, CreatedAt, Model):
    """The balance of one part in one warehouse (seed 001 "inventory").

    ``current_stock`` (stock on hand, in ``unit_of_measure``) changes only by
    ledger postings (``app.rules.ledger``); it always equals the sum of the
    posted transactions for the pair.  ``minimum_stock_recommendation`` is the
    reorder point.
    """

    __tablename__ = "inventory"
    __table_args__ = (
        sa.UniqueConstraint("warehouse_id", "part_id", name="_warehouse_part_uc"),
        sa.Index("idx_inventory_warehouse_part", "warehouse_id", "part_id"),
        sa.Index("idx_inventory_stock", "current_stock"),
        sa.Index("idx_inventory_low_stock", "current_stock", "minimum_stock_recommendation"),
        sa.Index("idx_inventory_warehouse_stock", "warehouse_id", "current_stock"),
        sa.Index("idx_inventory_part_stock", "part_id", "current_stock"),
        # The stock levels list's default order (the id breaks ties).
        sa.Index("idx_inventory_last_updated", "last_updated", "id"),
        # The stock levels sorted by stock on hand or reorder point (migration 0018).
        sa.Index("idx_inventory_stock_id", "current_stock", "id"),
        sa.Index("idx_inventory_reorder_point_id", "minimum_stock_recommendation", "id"),
    )

    warehouse_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("warehouses.id"), nullable=False
    )
    part_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("parts.id"), nullable=False)
    current_stock: Mapped[decimal.Decimal] = mapped_column(
        Quantity, nullable=False, default=decimal.Decimal(0), server_default="0"
    )
    minimum_stock_recommendation: Mapped[decimal.Decimal] = mapped_column(
        Quantity, nullable=False, default=decimal.Decimal(0), server_default="0"
    )
    unit_of_measure: Mapped[str] = mapped_column(sa.String(50), nullable=False, info=FILLED_BY_RULES)
    reorder_threshold_set_by: Mapped[Optional[str]] = mapped_column(sa.String(50))
    last_recommendation_update: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    last_updated: Mapped[dt.datetime] = mapped_column(
        TZDateTime, nullable=False, default=utcnow, server_default=sa.func.now()
    )

    warehouse = relationship("Warehouse")
    part = relationship("Part")
    #: Relations ``__str__`` reads: lists and dropdowns load them with the page.
    str_relations = ("part", "warehouse")

    @property
    def is_negative(self) -> bool:
        """A negative balance (possible only with ``ALLOW_NEGATIVE_STOCK``)."""
        return self.current_stock is not None and self.current_stock < 0

    #: Above this many times its reorder point a line holds excess stock.
    EXCESS_FACTOR = 3

    @hybrid_property
    def status(self) -> StockStatus:
        """The line's :class:`StockStatus`; in SQL, a CASE giving the same value (typed as the enum)."""
        stock, point = self.current_stock, self.minimum_stock_recommendation
        if stock <= 0:
            return StockStatus.out
        if point > 0 and stock <= point:
            return StockStatus.low
        if point > 0 and stock > point * self.EXCESS_FACTOR:
            return StockStatus.excess
        return StockStatus.ok

    @status.inplace.expression
    @classmethod
    def _status_expression(cls):
        # Typed as the enum: a query reads StockStatus members, and the list screens and the
        # REST API treat it as an enum column (filter "equal"/"not equal", labels, 400 on an
        # unknown value: app.views.interface).
        return sa.type_coerce(cls.status_case(), STOCK_STATUS_TYPE)

    @classmethod
    def status_case(cls):
        """The status in SQL as a plain string CASE (``'out'``, ...): what migration 0013 indexes."""
        return cls._by_status(lambda status: sa.literal_column(f"'{status.value}'", sa.String))

    @classmethod
    def status_severity(cls):
        """The status as its severity, worst first: 0 out, 1 low, 2 ok, 3 excess (SQL, an integer).

        What the lists sort the status column by (its ``info["order_by"]``, read by
        :class:`app.views.interface.ABPartsInterface`); indexed by migration 0013.
        """
        rank = list(StockStatus)
        return cls._by_status(lambda status: sa.literal_column(str(rank.index(status)), sa.Integer))

    @classmethod
    def _by_status(cls, outcome):
        """A SQL CASE giving ``outcome(status)`` for the line's :class:`StockStatus`.

        Written with literals, not bound parameters, so that the expression indexes of
        migration 0013 match the list's filter and sort on PostgreSQL.
        """
        stock, point = cls.current_stock, cls.minimum_stock_recommendation
        zero, factor = sa.literal_column("0"), sa.literal_column(str(cls.EXCESS_FACTOR))
        return sa.case(
            (stock <= zero, outcome(StockStatus.out)),
            (sa.and_(point > zero, stock <= point), outcome(StockStatus.low)),
            (sa.and_(point > zero, stock > point * factor), outcome(StockStatus.excess)),
            else_=outcome(StockStatus.ok),
        )

    #: Computed columns the list screens and the REST API show, filter and sort like columns.
    hybrid_columns = ("status",)

    def _fmt(self, value) -> str:
        part = self.part
        return format_quantity(value, self.unit_of_measure, whole=bool(part and part.is_whole_units))

    @renders_quantity("current_stock", unit="unit_of_measure")
    def stock_on_hand(self) -> str:
        """Stock on hand with its unit, flagged when negative."""
        text = self._fmt(self.current_stock)
        return f"{text} (NEGATIVE)" if self.is_negative else text

    @renders_quantity("minimum_stock_recommendation", unit="unit_of_measure")
    def reorder_point(self) -> str:
        return self._fmt(self.minimum_stock_recommendation)

    def __str__(self) -> str:
        return f"{self.part} @ {self.warehouse}"

    __repr__ = __str__


class StockAdjustment(UUIDPrimaryKey, Timestamps, Model):
    """A reason-coded correction of one inventory balance (seed 001 "stock_adjustments").

    ``quantity_adjusted`` is signed, in the part's unit of measure: positive
    adds stock, negative takes it away.  Each adjustment posts its own
    ``adjustment`` transaction (``transaction_id``, this portal's addition) in
    the same database transaction.
    """

    __tablename__ = "stock_adjustments"
    __table_args__ = (
        sa.CheckConstraint("quantity_adjusted <> 0", name="nonzero_quantity_adjusted"),
        sa.Index("idx_stock_adjustments_inventory", "inventory_id"),
        sa.Index("idx_stock_adjustments_user", "user_id"),
        sa.Index("idx_stock_adjustments_date", "adjustment_date"),
        sa.Index("idx_stock_adjustments_reason", "reason_code"),
    )

    inventory_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("inventory.id"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id"), nullable=False)
    adjustment_date: Mapped[dt.datetime] = mapped_column(
        TZDateTime, nullable=False, default=utcnow, server_default=sa.func.now(), info=FILLED_BY_RULES
    )
    quantity_adjusted: Mapped[decimal.Decimal] = mapped_column(Quantity, nullable=False)
    reason_code: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    notes: Mapped[Optional[str]] = mapped_column(sa.Text)
    transaction_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("transactions.id"), nullable=False, unique=True
    )

    inventory = relationship("Inventory")
    user = relationship("PortalUser")
    transaction = relationship("Transaction")

    @renders_quantity("quantity_adjusted", unit="inventory.unit_of_measure")
    def quantity_with_unit(self) -> str:
        inv = self.inventory
        unit = inv.unit_of_measure if inv else None
        text = format_quantity(abs(self.quantity_adjusted), unit)
        return ("+" if self.quantity_adjusted > 0 else "-") + text

    def __str__(self) -> str:
        return f"{self.reason_code}: {self.quantity_adjusted}"


# Migration 0013: the status filter and the severity sort of the stock levels list read these.
sa.Index("idx_inventory_status", Inventory.status_case(), Inventory.id, info={EXPRESSION: True})
sa.Index("idx_inventory_status_severity", Inventory.status_severity(), Inventory.id, info={EXPRESSION: True})
# The lists sort the status by severity (out, low, ok, excess), not by its name.
Inventory.__mapper__.all_orm_descriptors["status"].info["order_by"] = lambda: ([], [Inventory.status_severity()])
