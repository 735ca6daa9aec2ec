"""Customer orders to Oraseas EE and Oraseas EE's orders to suppliers (seed 001)."""
from __future__ import annotations

import datetime as dt
import decimal
import functools
import uuid
from typing import Optional

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import label_property, NamesView, QuantityDisplay, Timestamps, UUIDPrimaryKey
from .enums import CustomerOrderStatus, SupplierOrderStatus
from .organization import Organization
from .types import Money, Quantity, TZDateTime, UUIDType, pg_enum


@functools.cache
def _organization_names() -> NamesView:
    """The ``organization_names`` view: an organization's id and name."""
    o = Organization.__table__
    return NamesView("organization_names", sa.select(o.c.id, o.c.name))


def _name_of_party(column):
    """The name of the organization ``column`` refers to, read with the order row itself.

    A Core subquery of the ``organization_names`` view (:class:`~.base.NamesView`):
    the scoping rule (``with_loader_criteria`` on mapped classes, :mod:`app.scoping`,
    and PostgreSQL's row-level security) does not narrow it, on purpose.  Each party of a customer order sees the other's
    name - Oraseas EE's staff the customer of every order they receive, a
    customer the Oraseas EE organization it orders from - and only the name,
    and only on orders they may already see; the organizations stay out of scope.
    """
    party = _organization_names().alias("order_party")
    return sa.select(party.c.name).where(party.c.id == column).scalar_subquery()


def _party_order(column):
    """How a list sorts a party's name (:func:`_name_of_party`): by that name, read the same way."""
    party = _organization_names().alias("order_party")
    return [(party, party.c.id == column)], [party.c.name]


class CustomerOrder(UUIDPrimaryKey, Timestamps, Model):
    """An order of a customer organization to Oraseas EE; lines in ``items``."""

    __tablename__ = "customer_orders"
    __table_args__ = (
        sa.Index("idx_customer_orders_customer", "customer_organization_id"),
        sa.Index("idx_customer_orders_date", "order_date"),
        sa.Index("idx_customer_orders_status", "status"),
        sa.Index("idx_customer_orders_org_status", "customer_organization_id", "status"),
    )

    customer_organization_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("organizations.id"), nullable=False
    )
    oraseas_organization_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("organizations.id"), nullable=False
    )
    order_date: Mapped[dt.datetime] = mapped_column(TZDateTime, nullable=False)
    expected_delivery_date: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    actual_delivery_date: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    #: Changes only through the workflow commands (``app.workflows.orders``; rule
    #: ``app.rules.orders.check_order_status``).
    status: Mapped[CustomerOrderStatus] = mapped_column(
        pg_enum(CustomerOrderStatus, "customer_order_status_enum"), nullable=False,
        default=CustomerOrderStatus.draft, server_default=CustomerOrderStatus.draft.value)
    ordered_by_user_id: Mapped[Optional[int]] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id"))
    notes: Mapped[Optional[str]] = mapped_column(sa.Text)

    customer_organization = relationship("Organization", foreign_keys=[customer_organization_id])
    oraseas_organization = relationship("Organization", foreign_keys=[oraseas_organization_id])
    ordered_by_user = relationship("PortalUser")
    items = relationship("CustomerOrderItem", back_populates="customer_order")
    #: Oraseas EE's shipments of this order (stock transfers through its transit location).
    shipments = relationship("StockTransfer", back_populates="customer_order", order_by="StockTransfer.created_at")
    #: Relations ``__str__`` reads: lists and dropdowns load them with the page.
    str_relations = ("customer_organization",)

    #: The parties' names, for every user who sees the order (see :func:`_name_of_party`);
    #: the relationships above load only organizations in the user's scope.
    customer_organization_name = label_property(_name_of_party, customer_organization_id, _party_order)
    oraseas_organization_name = label_property(_name_of_party, oraseas_organization_id, _party_order)

    @property
    def reference(self) -> str:
        """A short reference for messages and ledger rows: ``CO-`` and the id's first 8 hex digits."""
        return f"CO-{self.id.hex[:8].upper()}" if self.id else "CO-(new)"

    def __str__(self) -> str:
        org = self.customer_organization_name or (
            self.customer_organization.name if self.customer_organization else "?")
        return f"{org} {self.order_date:%Y-%m-%d} ({self.status})"


class CustomerOrderItem(QuantityDisplay, UUIDPrimaryKey, Timestamps, Model):
    """A line of a customer order: ``quantity`` in the part's unit, ``unit_price`` in money."""

    __tablename__ = "customer_order_items"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="positive_quantity"),
        sa.Index("idx_customer_order_items_order", "customer_order_id"),
        sa.Index("idx_customer_order_items_part", "part_id"),
    )

    customer_order_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("customer_orders.id"), nullable=False
    )
    part_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("parts.id"), nullable=False)
    quantity: Mapped[decimal.Decimal] = mapped_column(
        Quantity, nullable=False, default=decimal.Decimal(1), server_default="1"
    )
    unit_price: Mapped[Optional[decimal.Decimal]] = mapped_column(Money)

    customer_order = relationship("CustomerOrder", back_populates="items")
    part = relationship("Part")
    #: Relations ``__str__`` reads: lists and dropdowns load them with the page.
    str_relations = ("part",)

    def __str__(self) -> str:
        return f"{self.quantity} x {self.part}"


class SupplierOrder(UUIDPrimaryKey, Timestamps, Model):
    """An order of an organization (usually Oraseas EE) to an external supplier."""

    __tablename__ = "supplier_orders"
    __table_args__ = (
        sa.Index("idx_supplier_orders_org", "ordering_organization_id"),
        sa.Index("idx_supplier_orders_date", "order_date"),
        sa.Index("idx_supplier_orders_status", "status"),
    )

    ordering_organization_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("organizations.id"), nullable=False
    )
    supplier_name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    order_date: Mapped[dt.datetime] = mapped_column(TZDateTime, nullable=False)
    expected_delivery_date: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    actual_delivery_date: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    #: Changes only through the workflow commands (``app.workflows.orders``; rule
    #: ``app.rules.orders.check_order_status``).
    status: Mapped[SupplierOrderStatus] = mapped_column(
        pg_enum(SupplierOrderStatus, "supplier_order_status_enum"), nullable=False,
        default=SupplierOrderStatus.ordered, server_default=SupplierOrderStatus.ordered.value)
    notes: Mapped[Optional[str]] = mapped_column(sa.Text)

    ordering_organization = relationship("Organization")
    items = relationship("SupplierOrderItem", back_populates="supplier_order")
    #: Relations ``__str__`` reads: none (the supplier's name is on the row).
    str_relations = ()

    @property
    def reference(self) -> str:
        """A short reference for messages and ledger rows: ``PO-`` and the id's first 8 hex digits."""
        return f"PO-{self.id.hex[:8].upper()}" if self.id else "PO-(new)"

    def __str__(self) -> str:
        return f"{self.supplier_name} {self.order_date:%Y-%m-%d} ({self.status})"


class SupplierOrderItem(QuantityDisplay, UUIDPrimaryKey, Timestamps, Model):
    """A line of a supplier order: ``quantity`` in the part's unit, ``unit_price`` in money."""

    __tablename__ = "supplier_order_items"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="positive_quantity"),
        sa.Index("idx_supplier_order_items_order", "supplier_order_id"),
        sa.Index("idx_supplier_order_items_part", "part_id"),
    )

    supplier_order_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("supplier_orders.id"), nullable=False
    )
    part_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("parts.id"), nullable=False)
    quantity: Mapped[decimal.Decimal] = mapped_column(
        Quantity, nullable=False, default=decimal.Decimal(1), server_default="1"
    )
    unit_price: Mapped[Optional[decimal.Decimal]] = mapped_column(Money)

    supplier_order = relationship("SupplierOrder", back_populates="items")
    part = relationship("Part")
    #: Relations ``__str__`` reads: lists and dropdowns load them with the page.
    str_relations = ("part",)

    def __str__(self) -> str:
        return f"{self.quantity} x {self.part}"


class OrderEvent(UUIDPrimaryKey, Model):
    """One step of an order's history (issue 10, "complete order history and tracking").

    Written by the order workflow (:mod:`app.workflows.orders`) with every
    step it takes, in the same transaction: who (``user_id``), when
    (``occurred_at``), the step, the states before and after, and for a
    shipment or receipt the stock transfer that carried it.  Exactly one of
    ``customer_order_id`` and ``supplier_order_id`` is set.  Append-only.
    """

    __tablename__ = "order_events"
    __table_args__ = (
        sa.CheckConstraint("(customer_order_id IS NULL) <> (supplier_order_id IS NULL)", name="one_order"),
        sa.Index("idx_order_events_customer_order", "customer_order_id", "occurred_at"),
        sa.Index("idx_order_events_supplier_order", "supplier_order_id", "occurred_at"),
    )

    customer_order_id: Mapped[Optional[uuid.UUID]] = mapped_column(UUIDType, sa.ForeignKey("customer_orders.id"))
    supplier_order_id: Mapped[Optional[uuid.UUID]] = mapped_column(UUIDType, sa.ForeignKey("supplier_orders.id"))
    step: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    from_status: Mapped[Optional[str]] = mapped_column(sa.String(30))
    to_status: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    user_id: Mapped[Optional[int]] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id"))
    occurred_at: Mapped[dt.datetime] = mapped_column(TZDateTime, nullable=False)
    stock_transfer_id: Mapped[Optional[uuid.UUID]] = mapped_column(UUIDType, sa.ForeignKey("stock_transfers.id"))
    note: Mapped[Optional[str]] = mapped_column(sa.Text)

    user = relationship("PortalUser")
    stock_transfer = relationship("StockTransfer")
