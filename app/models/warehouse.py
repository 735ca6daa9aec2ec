"""Warehouses: where an organization keeps stock (seed 001 "warehouses")."""
from __future__ import annotations

import functools
import uuid
from typing import Optional

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import NamesView, Timestamps, UUIDPrimaryKey
from .text_search import trigram_index
from .types import UUIDType


class Warehouse(UUIDPrimaryKey, Timestamps, Model):
    """A warehouse of one organization.

    Rules: names unique per organization (``_org_warehouse_name_uc``); at most
    ``LIMIT_WAREHOUSES`` warehouses; only active warehouses receive or issue stock.

    ``is_transit`` (this portal's addition): the organization's transit
    location, where dispatched stock waits for its receipt (at most one per
    organization, created by the transfer workflow).  It holds no stock on hand
    of any real warehouse, is not counted against the cap, and only the
    transfer workflow moves stock in or out of it.
    """

    __tablename__ = "warehouses"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "name", name="_org_warehouse_name_uc"),
        sa.Index("idx_warehouses_org", "organization_id"),
        sa.Index("idx_warehouses_active", "is_active"),
        # Lists sorted by a warehouse column walk warehouses in name order (sort_columns).
        sa.Index("idx_warehouses_name", "name"),
        trigram_index("warehouses", "name"),
        trigram_index("warehouses", "location"),
        sa.Index("uq_warehouses_transit_per_organization", "organization_id", unique=True,
                 postgresql_where=sa.text("is_transit"), sqlite_where=sa.text("is_transit")),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("organizations.id"), nullable=False
    )
    name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    location: Mapped[Optional[str]] = mapped_column(sa.String(500))
    description: Mapped[Optional[str]] = mapped_column(sa.Text)
    is_active: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=True, server_default=sa.true()
    )

    is_transit: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )

    organization = relationship("Organization")
    #: Relations ``__str__`` reads: lists and dropdowns load them with the page.
    str_relations = ("organization",)
    #: What a list sorts a column of warehouses by (``app.views.interface``).
    sort_columns = ("name",)

    def __str__(self) -> str:
        org = self.organization.name if self.organization is not None else "?"
        return f"{self.name} ({org})"

    __repr__ = __str__


@functools.cache
def warehouse_names() -> NamesView:
    """The ``warehouse_names`` view: a warehouse's id, name, organization and its name."""
    from .organization import Organization

    w, o = Warehouse.__table__, Organization.__table__
    return NamesView("warehouse_names", sa.select(w.c.id, w.c.name, w.c.organization_id,
                                                  o.c.name.label("organization_name"))
                     .join(o, o.c.id == w.c.organization_id))


def warehouse_label(column):
    """``"name (organization)"`` of the warehouse in ``column``, as a scalar subquery
    for a ``column_property`` of the rows that refer to warehouses.

    Over the ``warehouse_names`` view (:class:`~app.models.base.NamesView`), not the
    mapped classes, on purpose: the parties of a movement see each other's warehouse
    names (issue 8: a customer sees the Oraseas EE warehouse its stock came from),
    while organization scoping (the ORM's and PostgreSQL's row-level security) keeps
    hiding the other's warehouse rows themselves.
    """
    v = warehouse_names().alias()
    return (sa.select(v.c.name + " (" + v.c.organization_name + ")").where(v.c.id == column).scalar_subquery())


def warehouse_label_order(column):
    """How a list sorts the :func:`warehouse_label` of ``column``: as it reads, by the
    warehouse's name, then its organization's.

    An outer join of the ``warehouse_names`` view, like the label itself, so every
    row keeps its place whoever's warehouse it names; a missing warehouse sorts as
    empty.  A function, so that each query gets aliases of its own.

    :returns: ``(joins, keys)``: ``[(view alias, on clause)]`` and the columns to order by.
    """
    v = warehouse_names().alias()
    return [(v, v.c.id == column)], [v.c.name, v.c.organization_name]


def warehouse_label_ranks(direction=sa.asc):
    """Every warehouse's ``id`` with the keys :func:`warehouse_label_order` sorts by, ``k0`` (its
    name) and ``k1`` (its organization's), as a subquery sorted by them in ``direction``
    (``sa.asc`` or ``sa.desc``).

    ``OFFSET 0`` keeps the subquery whole: PostgreSQL sorts the warehouses (about
    1,350 at 10x the seed) once and keeps that order through a nested loop over
    each warehouse's rows, which then need sorting only among themselves.
    """
    v = warehouse_names().alias()
    return (sa.select(v.c.id, v.c.name.label("k0"), v.c.organization_name.label("k1"))
            .order_by(direction(v.c.name), direction(v.c.organization_name), direction(v.c.id)).offset(0).subquery())
