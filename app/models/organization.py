"""Organizations: Oraseas EE, BossAqua, customers and their suppliers (seed 001)."""
from __future__ import annotations

import decimal
import uuid
from typing import Optional

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Timestamps, UUIDPrimaryKey
from .enums import OrganizationType
from .text_search import trigram_index
from .types import Money, UUIDType, pg_enum

SINGLETON_TYPES = (OrganizationType.oraseas_ee.value, OrganizationType.bossaqua.value)


class Organization(UUIDPrimaryKey, Timestamps, Model):
    """An organization of the AutoBoss parts ecosystem.

    Rules (seed 001 "organizations", seed 000 "Business Rule Enforcement"):
    one ``oraseas_ee`` and one ``bossaqua`` (application check and the partial
    unique index ``uq_organizations_singleton_type``); a supplier has a parent
    (CHECK ``supplier_must_have_parent``); at most ``LIMIT_CUSTOMER_ORGANIZATIONS``
    customers (application).
    """

    __tablename__ = "organizations"
    __table_args__ = (
        sa.CheckConstraint(
            "organization_type != 'supplier' OR parent_organization_id IS NOT NULL",
            name="supplier_must_have_parent",
        ),
        sa.CheckConstraint("reorder_lead_time_days >= 0", name="reorder_lead_time_days_not_negative"),
        sa.CheckConstraint("reorder_safety_stock_days >= 0", name="reorder_safety_stock_days_not_negative"),
        sa.Index("idx_organizations_type", "organization_type"),
        sa.Index("idx_organizations_parent", "parent_organization_id"),
        sa.Index("idx_organizations_name", "name"),
        sa.Index("idx_organizations_active", "is_active"),
        trigram_index("organizations", "name"),
        sa.Index("idx_organizations_hierarchy", "parent_organization_id", "organization_type"),
        sa.Index(
            "uq_organizations_singleton_type",
            "organization_type",
            unique=True,
            postgresql_where=sa.text("organization_type IN ('oraseas_ee', 'bossaqua')"),
            sqlite_where=sa.text("organization_type IN ('oraseas_ee', 'bossaqua')"),
        ),
    )

    name: Mapped[str] = mapped_column(sa.String(255), unique=True, nullable=False)
    organization_type: Mapped[OrganizationType] = mapped_column(
        pg_enum(OrganizationType, "organization_type_enum"), nullable=False
    )
    parent_organization_id: Mapped[Optional[uuid.UUID]] = mapped_column(
        UUIDType, sa.ForeignKey("organizations.id")
    )
    address: Mapped[Optional[str]] = mapped_column(sa.Text)
    contact_info: Mapped[Optional[str]] = mapped_column(sa.Text)
    is_active: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=True, server_default=sa.true()
    )
    #: This portal's addition (issue 10): a customer order worth more than this
    #: (money, price currency) needs an Oraseas EE admin's approval; empty means
    #: the configured ``ORDER_APPROVAL_THRESHOLD``.
    order_approval_threshold: Mapped[Optional[decimal.Decimal]] = mapped_column(Money)
    #: Stocktake variance thresholds (issue 9): a line whose variance exceeds this percent of
    #: its book quantity, or this value (price currency), needs approval.  Empty: the
    #: configuration's ``STOCKTAKE_THRESHOLD_PERCENT`` / ``STOCKTAKE_THRESHOLD_VALUE``.
    stocktake_threshold_percent: Mapped[Optional[decimal.Decimal]] = mapped_column(sa.Numeric(7, 2))
    stocktake_threshold_value: Mapped[Optional[decimal.Decimal]] = mapped_column(sa.Numeric(10, 2))
    #: Reorder points from usage (issue 11, migration 0013): days from ordering to receiving
    #: stock, and days of average use kept as safety stock.  Empty: the configuration's
    #: ``REORDER_LEAD_TIME_DAYS`` / ``REORDER_SAFETY_STOCK_DAYS``.
    reorder_lead_time_days: Mapped[Optional[int]] = mapped_column(sa.Integer)
    reorder_safety_stock_days: Mapped[Optional[int]] = mapped_column(sa.Integer)

    parent_organization: Mapped[Optional["Organization"]] = relationship(
        "Organization", remote_side="Organization.id", back_populates="child_organizations"
    )
    child_organizations: Mapped[list["Organization"]] = relationship(
        "Organization", back_populates="parent_organization"
    )

    #: What a list sorts a column of organizations by (``app.views.interface``): the name as shown.
    sort_columns = ("name",)

    def __str__(self) -> str:
        return self.name

    __repr__ = __str__
