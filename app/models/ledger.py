"""The stock ledger: one row per movement, append-only (seed 001 "transactions")."""
from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Optional

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import CreatedAt, label_property, QuantityDisplay, UUIDPrimaryKey
from .enums import ApprovalStatus, TransactionType
from .text_search import trigram_index
from .warehouse import warehouse_label, warehouse_label_order, warehouse_label_ranks
from .types import FILLED_BY_RULES, Quantity, TZDateTime, UUIDType, pg_enum, utcnow


class Transaction(QuantityDisplay, UUIDPrimaryKey, CreatedAt, Model):
    """A stock movement of one part, ``quantity`` (> 0) in the part's unit of measure.

    - creation: into ``to_warehouse``; transfer: ``from`` -> ``to``;
      consumption: out of ``from_warehouse`` (optionally into a machine);
      adjustment: into ``to`` or out of ``from`` (exactly one).
    - ``requires_approval``: posts nothing while ``approval_status`` is
      ``pending``; approving posts it, rejecting never does.
    - ``reversal_of_id`` (this portal's addition): the transaction this one
      reverses; unique, so a transaction is reversed at most once.
    - ``stock_transfer_id`` (this portal's addition): the transfer document
      whose dispatch, receipt, return or write-off this row posts.
    - ``supplier_order_id`` (this portal's addition): the supplier order whose
      receipt this ``creation`` posts (issue 10).
    - ``from_organization_id`` / ``to_organization_id`` (this portal's addition,
      issue 15): the organizations owning ``from_warehouse`` and ``to_warehouse``,
      filled by the posting rules (:func:`app.rules.ledger.organizations_of`).
      Organization scoping reads them through their indexes instead of looking
      the warehouses up per row; a warehouse with ledger rows never changes
      organization, so they stay true.

    Posting and every rule live in ``app.rules.ledger``.
    """

    __tablename__ = "transactions"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="positive_quantity"),
        sa.CheckConstraint(
            "(transaction_type = 'creation' AND from_warehouse_id IS NULL"
            " AND to_warehouse_id IS NOT NULL)"
            " OR (transaction_type = 'consumption' AND from_warehouse_id IS NOT NULL"
            " AND to_warehouse_id IS NULL)"
            " OR (transaction_type = 'transfer' AND from_warehouse_id IS NOT NULL"
            " AND to_warehouse_id IS NOT NULL AND from_warehouse_id <> to_warehouse_id)"
            " OR (transaction_type = 'adjustment' AND ((from_warehouse_id IS NULL)"
            " <> (to_warehouse_id IS NULL)))",
            name="valid_transaction_warehouses",
        ),
        sa.Index("idx_transactions_date", "transaction_date"),
        sa.Index("idx_transactions_part", "part_id"),
        sa.Index("idx_transactions_type", "transaction_type"),
        sa.Index("idx_transactions_warehouse", "from_warehouse_id", "to_warehouse_id"),
        # The ledger sorted by its From or To warehouse (migration 0018).
        sa.Index("idx_transactions_from_warehouse_id", "from_warehouse_id", "id"),
        sa.Index("idx_transactions_to_warehouse_id", "to_warehouse_id", "id"),
        sa.Index("idx_transactions_machine", "machine_id"),
        sa.Index("idx_transactions_user", "performed_by_user_id"),
        sa.Index("idx_transactions_approval", "requires_approval", "approval_status"),
        sa.Index("idx_transactions_date_type", "transaction_date", "transaction_type"),
        sa.Index("idx_transactions_part_date", "part_id", "transaction_date"),
        sa.Index("idx_transactions_stock_transfer", "stock_transfer_id"),
        sa.Index("idx_transactions_supplier_order", "supplier_order_id"),
        # Organization scoping (app/scoping.py) and an organization's movements by date.
        sa.Index("idx_transactions_from_organization_date", "from_organization_id", "transaction_date"),
        sa.Index("idx_transactions_to_organization_date", "to_organization_id", "transaction_date"),
        # The ledger sorted by quantity (the list's order adds the id as a tie-breaker).
        sa.Index("idx_transactions_quantity", "quantity", "id"),
        # the ledger sorted by these columns (migration 0011)
        sa.Index("idx_transactions_type_id", "transaction_type", "id"),
        sa.Index("idx_transactions_approval_status_id", "approval_status", "id"),
        sa.Index("idx_transactions_reference_id", "reference_number", "id"),
        trigram_index("transactions", "notes"),
        trigram_index("transactions", "reference_number"),
    )

    transaction_type: Mapped[TransactionType] = mapped_column(
        pg_enum(TransactionType, "transaction_type_enum"), nullable=False
    )
    part_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("parts.id"), nullable=False)
    from_warehouse_id: Mapped[Optional[uuid.UUID]] = mapped_column(
        UUIDType, sa.ForeignKey("warehouses.id")
    )
    to_warehouse_id: Mapped[Optional[uuid.UUID]] = mapped_column(
        UUIDType, sa.ForeignKey("warehouses.id")
    )
    machine_id: Mapped[Optional[uuid.UUID]] = mapped_column(UUIDType, sa.ForeignKey("machines.id"))
    quantity: Mapped[decimal.Decimal] = mapped_column(Quantity, nullable=False)
    unit_of_measure: Mapped[str] = mapped_column(sa.String(50), nullable=False, info=FILLED_BY_RULES)
    performed_by_user_id: Mapped[int] = mapped_column(
        sa.Integer, sa.ForeignKey("ab_user.id"), nullable=False
    )
    transaction_date: Mapped[dt.datetime] = mapped_column(
        TZDateTime, nullable=False, default=utcnow, info=FILLED_BY_RULES
    )
    notes: Mapped[Optional[str]] = mapped_column(sa.Text)
    reference_number: Mapped[Optional[str]] = mapped_column(sa.String(100))
    requires_approval: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )
    approval_status: Mapped[Optional[str]] = mapped_column(sa.String(50))
    reversal_of_id: Mapped[Optional[uuid.UUID]] = mapped_column(
        UUIDType, sa.ForeignKey("transactions.id"), unique=True
    )
    stock_transfer_id: Mapped[Optional[uuid.UUID]] = mapped_column(
        UUIDType, sa.ForeignKey("stock_transfers.id")
    )
    supplier_order_id: Mapped[Optional[uuid.UUID]] = mapped_column(
        UUIDType, sa.ForeignKey("supplier_orders.id")
    )
    from_organization_id: Mapped[Optional[uuid.UUID]] = mapped_column(
        UUIDType, sa.ForeignKey("organizations.id")
    )
    to_organization_id: Mapped[Optional[uuid.UUID]] = mapped_column(
        UUIDType, sa.ForeignKey("organizations.id")
    )

    part = relationship("Part")
    from_warehouse = relationship("Warehouse", foreign_keys=[from_warehouse_id])
    to_warehouse = relationship("Warehouse", foreign_keys=[to_warehouse_id])
    machine = relationship("Machine")
    performed_by_user = relationship("PortalUser")
    reversal_of = relationship("Transaction", remote_side="Transaction.id", uselist=False)
    stock_transfer = relationship("StockTransfer")
    #: Relations ``__str__`` reads: lists and dropdowns load them with the page.
    str_relations = ("part",)

    @property
    def is_posted(self) -> bool:
        """Whether this movement is in the balances (not pending, not rejected)."""
        return (not self.requires_approval) or self.approval_status == ApprovalStatus.approved.value

    def __str__(self) -> str:
        return f"{self.transaction_type} {self.quantity} {self.unit_of_measure} of {self.part}"

    __repr__ = __str__


class TransactionApproval(UUIDPrimaryKey, CreatedAt, Model):
    """A decision on a transaction that requires approval (seed 001 "transaction_approvals").

    Recording ``approved`` posts the transaction; ``rejected`` closes it
    unposted.  Who decided is ``approver_id``, when is ``created_at``.
    """

    __tablename__ = "transaction_approvals"
    __table_args__ = (
        sa.Index("idx_transaction_approvals_transaction", "transaction_id"),
        sa.Index("idx_transaction_approvals_approver", "approver_id"),
        sa.Index("idx_transaction_approvals_status", "status"),
    )

    transaction_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("transactions.id"), nullable=False
    )
    approver_id: Mapped[int] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id"), nullable=False)
    status: Mapped[ApprovalStatus] = mapped_column(
        pg_enum(ApprovalStatus, "transaction_approval_status_enum"), nullable=False
    )
    notes: Mapped[Optional[str]] = mapped_column(sa.Text)

    transaction = relationship("Transaction")
    approver = relationship("PortalUser")
    #: Relations ``__str__`` reads: lists and dropdowns load them with the page.
    str_relations = ("approver",)

    def __str__(self) -> str:
        return f"{self.status} by {self.approver}"


# The warehouses' names on each ledger row, for both parties of a movement (see warehouse_label).
Transaction.from_warehouse_name = label_property(warehouse_label, Transaction.__table__.c.from_warehouse_id,
                                                warehouse_label_order, warehouse_label_ranks)
Transaction.to_warehouse_name = label_property(warehouse_label, Transaction.__table__.c.to_warehouse_id,
                                              warehouse_label_order, warehouse_label_ranks)
