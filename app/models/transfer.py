"""Two-sided stock transfers: a document with lines, moved through a transit location.

A transfer is this portal's addition to the seed 001 schema ("transfer"
transactions move stock between warehouses; issue 8 makes it a document with a
state machine, see :mod:`app.workflows.transfers`).  Stock dispatched and not
yet received sits in the source organization's transit location, a
:class:`~app.models.Warehouse` with ``is_transit`` set: the ledger stays the
only source of truth, and ``verify-ledger`` checks transit balances like any other.
"""
from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Optional

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import label_property, QuantityDisplay, Timestamps, UUIDPrimaryKey
from .enums import TransferStatus
from .types import Quantity, TZDateTime, UUIDType, pg_enum
from .warehouse import warehouse_label, warehouse_label_order


class StockTransfer(UUIDPrimaryKey, Timestamps, Model):
    """A transfer of stock from one warehouse to another (``stock_transfers``).

    ``source_organization_id`` and ``destination_organization_id`` repeat the
    warehouses' organizations so that both parties reach the document through
    an index (organization scoping).  ``status`` changes only through the
    workflow commands; who did each step, and when, is recorded on the row.
    """

    __tablename__ = "stock_transfers"
    __table_args__ = (
        sa.CheckConstraint("from_warehouse_id <> to_warehouse_id", name="transfer_warehouses_differ"),
        sa.Index("idx_stock_transfers_source_org", "source_organization_id", "created_at"),
        sa.Index("idx_stock_transfers_destination_org", "destination_organization_id", "created_at"),
        sa.Index("idx_stock_transfers_status", "status"),
        sa.Index("idx_stock_transfers_from", "from_warehouse_id"),
        sa.Index("idx_stock_transfers_to", "to_warehouse_id"),
        sa.Index("idx_stock_transfers_customer_order", "customer_order_id"),
    )

    reference_number: Mapped[str] = mapped_column(sa.String(100), nullable=False, unique=True)
    from_warehouse_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("warehouses.id"), nullable=False)
    #: Empty only on a customer order's shipment until the customer receives it
    #: into a warehouse of its choice.
    to_warehouse_id: Mapped[Optional[uuid.UUID]] = mapped_column(UUIDType, sa.ForeignKey("warehouses.id"))
    source_organization_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("organizations.id"), nullable=False)
    destination_organization_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("organizations.id"), nullable=False)
    status: Mapped[TransferStatus] = mapped_column(
        pg_enum(TransferStatus, "transfer_status_enum"), nullable=False, default=TransferStatus.draft,
        server_default=TransferStatus.draft.value)
    notes: Mapped[Optional[str]] = mapped_column(sa.Text)
    created_by_user_id: Mapped[int] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id"), nullable=False)
    dispatched_by_user_id: Mapped[Optional[int]] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id"))
    dispatched_at: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    received_by_user_id: Mapped[Optional[int]] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id"))
    received_at: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    cancelled_by_user_id: Mapped[Optional[int]] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id"))
    cancelled_at: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    #: The customer order this transfer ships (issue 10): Oraseas EE's shipment to its customer.
    customer_order_id: Mapped[Optional[uuid.UUID]] = mapped_column(UUIDType, sa.ForeignKey("customer_orders.id"))

    from_warehouse = relationship("Warehouse", foreign_keys=[from_warehouse_id])
    to_warehouse = relationship("Warehouse", foreign_keys=[to_warehouse_id])
    source_organization = relationship("Organization", foreign_keys=[source_organization_id])
    destination_organization = relationship("Organization", foreign_keys=[destination_organization_id])
    created_by_user = relationship("PortalUser", foreign_keys=[created_by_user_id])
    dispatched_by_user = relationship("PortalUser", foreign_keys=[dispatched_by_user_id])
    received_by_user = relationship("PortalUser", foreign_keys=[received_by_user_id])
    cancelled_by_user = relationship("PortalUser", foreign_keys=[cancelled_by_user_id])
    customer_order = relationship("CustomerOrder", back_populates="shipments")
    lines: Mapped[list["StockTransferLine"]] = relationship(
        "StockTransferLine", back_populates="stock_transfer", order_by="StockTransferLine.line_number")

    @property
    def is_internal(self) -> bool:
        """Both warehouses belong to one organization."""
        return self.source_organization_id == self.destination_organization_id

    def __str__(self) -> str:
        return self.reference_number

    __repr__ = __str__


class StockTransferLine(QuantityDisplay, UUIDPrimaryKey, Model):
    """One part of a transfer (``stock_transfer_lines``); one line per part.

    Quantities are in the part's unit of measure: ``quantity`` is what is sent
    (planned in a draft, dispatched afterwards), ``received_quantity`` what
    the destination counted on receipt.  What was returned to the source or
    written off is read from the ledger rows of the transfer
    (:func:`app.workflows.transfers.line_figures`).
    """

    __tablename__ = "stock_transfer_lines"
    __table_args__ = (
        sa.UniqueConstraint("stock_transfer_id", "part_id", name="uq_stock_transfer_lines_part"),
        sa.CheckConstraint("quantity > 0", name="positive_quantity"),
        sa.CheckConstraint("received_quantity IS NULL OR (received_quantity >= 0 AND received_quantity <= quantity)",
                           name="received_within_dispatched"),
        sa.Index("idx_stock_transfer_lines_part", "part_id"),
    )

    stock_transfer_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("stock_transfers.id"), nullable=False)
    line_number: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    part_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("parts.id"), nullable=False)
    quantity: Mapped[decimal.Decimal] = mapped_column(Quantity, nullable=False)
    received_quantity: Mapped[Optional[decimal.Decimal]] = mapped_column(Quantity)

    stock_transfer = relationship("StockTransfer", back_populates="lines")
    part = relationship("Part")

    def __str__(self) -> str:
        return f"{self.quantity_with_unit()} {self.part}"


StockTransfer.from_warehouse_name = label_property(warehouse_label, StockTransfer.__table__.c.from_warehouse_id,
                                                  warehouse_label_order)
StockTransfer.to_warehouse_name = label_property(warehouse_label, StockTransfer.__table__.c.to_warehouse_id,
                                                warehouse_label_order)
