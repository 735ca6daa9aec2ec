"""AutoBoss machines owned by customer organizations (seed 001 "machines")."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Optional

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from .base import Timestamps, UUIDPrimaryKey
from .enums import MachineStatus
from .part import normalise_code
from .text_search import trigram_index
from .types import TZDateTime, UUIDType, pg_enum


class Machine(UUIDPrimaryKey, Timestamps, Model):
    """A machine at a customer.

    Rules: serial numbers unique (normalised); owned only by customer
    organizations (seed 001 ``machine_customer_only``, enforced in
    ``app.rules``); only Super Admin registers machines; at most ``LIMIT_MACHINES``.
    """

    __tablename__ = "machines"
    __table_args__ = (
        sa.Index("idx_machines_customer", "customer_organization_id"),
        sa.Index("idx_machines_serial", "serial_number"),
        sa.Index("idx_machines_status", "status"),
        trigram_index("machines", "name"),
        trigram_index("machines", "serial_number"),
        trigram_index("machines", "model_type"),
    )

    customer_organization_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("organizations.id"), nullable=False
    )
    model_type: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    serial_number: Mapped[str] = mapped_column(sa.String(255), unique=True, nullable=False)
    purchase_date: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    warranty_expiry_date: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    status: Mapped[MachineStatus] = mapped_column(
        pg_enum(MachineStatus, "machine_status_enum"),
        nullable=False,
        default=MachineStatus.active,
        server_default=MachineStatus.active.value,
    )
    last_maintenance_date: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    next_maintenance_date: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    location: Mapped[Optional[str]] = mapped_column(sa.String(255))
    notes: Mapped[Optional[str]] = mapped_column(sa.Text)

    customer_organization = relationship("Organization")

    @validates("serial_number")
    def _normalise_serial(self, _key, value):
        return normalise_code(value)

    #: What a list sorts a column of machines by (``app.views.interface``): the name as shown.
    sort_columns = ("name",)

    def __str__(self) -> str:
        return f"{self.name} ({self.serial_number})"

    __repr__ = __str__
