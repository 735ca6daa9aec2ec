"""The parts catalog (seed 001 "parts"), shared by all organizations."""
from __future__ import annotations

import decimal
from typing import Optional

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column, validates

from .base import Timestamps, UUIDPrimaryKey
from .enums import PartType
from .text_search import trigram_index
from .types import Money, pg_enum

#: TEXT[] on PostgreSQL, JSON on SQLite.
ImageUrls = sa.JSON().with_variant(postgresql.ARRAY(sa.Text()), "postgresql")


def normalise_code(value: Optional[str]) -> Optional[str]:
    """Part and serial numbers: trimmed, inner spaces collapsed, upper case."""
    if value is None:
        return None
    return " ".join(value.split()).upper()


class Part(UUIDPrimaryKey, Timestamps, Model):
    """A catalog part.

    Quantities of a part are in its ``unit_of_measure``: whole units for
    consumables, up to 3 decimal places for bulk materials (seed 001).
    ``unit_price`` (money, price currency) is this portal's addition for valuation.
    Rules: part numbers unique (normalised); at most ``LIMIT_PARTS`` parts.
    """

    __tablename__ = "parts"
    __table_args__ = (
        sa.CheckConstraint("unit_price IS NULL OR unit_price >= 0", name="unit_price_not_negative"),
        sa.Index("idx_parts_number", "part_number"),
        sa.Index("idx_parts_type", "part_type"),
        sa.Index("idx_parts_proprietary", "is_proprietary"),
        sa.Index("idx_parts_name", "name"),
        trigram_index("parts", "part_number"),
        trigram_index("parts", "name"),
        trigram_index("parts", "description"),
    )

    part_number: Mapped[str] = mapped_column(sa.String(255), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    description: Mapped[Optional[str]] = mapped_column(sa.Text)
    part_type: Mapped[PartType] = mapped_column(
        pg_enum(PartType, "part_type_enum"),
        nullable=False,
        default=PartType.consumable,
        server_default=PartType.consumable.value,
    )
    is_proprietary: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )
    unit_of_measure: Mapped[str] = mapped_column(
        sa.String(50), nullable=False, default="pieces", server_default="pieces"
    )
    manufacturer_part_number: Mapped[Optional[str]] = mapped_column(sa.String(255))
    manufacturer_delivery_time_days: Mapped[Optional[int]] = mapped_column(sa.Integer)
    local_supplier_delivery_time_days: Mapped[Optional[int]] = mapped_column(sa.Integer)
    image_urls: Mapped[Optional[list]] = mapped_column(ImageUrls)
    unit_price: Mapped[Optional[decimal.Decimal]] = mapped_column(Money)

    @validates("part_number")
    def _normalise_part_number(self, _key, value):
        return normalise_code(value)

    @property
    def is_whole_units(self) -> bool:
        """Consumables are counted in whole units (seed 001 "parts")."""
        return self.part_type == PartType.consumable

    #: What a list sorts a column of parts by (``app.views.interface``): the name as shown.
    sort_columns = ("part_number",)

    def __str__(self) -> str:
        return f"{self.part_number} {self.name}"

    __repr__ = __str__
