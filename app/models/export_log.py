"""The export log (issue 11, "Export log"): every download of a list or report, append-only.

One row per export: who (``user_id`` and the ``username`` at the time), which
list (``list_name`` as the menu names it, ``view_name`` the screen), the
request's query string (its filters, search and sort; ``query``) and the same
as JSON (``filters``), the organizations whose rows the user saw
(``organization_scope``: ``all`` or their ids), the format, the number of rows
and when it started and finished.  An export of the stock ledger also records
``as_of``: the time its rows were read (or the time it was asked to be re-run
as of); the same export with ``as_of`` gives the same rows again, as the
ledger is append-only.

Written by :mod:`app.exports.log` only (Core statements, as security events are:
an auditor, who changes nothing else, exports too); the rule hooks refuse every
ORM change or deletion (:mod:`app.rules.append_only`).  The portal's addition
to the seed 001 schema, in the style of its audit tables.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Optional

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import UUIDPrimaryKey
from .types import TZDateTime, UUIDType, utcnow

#: ``organization_scope`` of a user who saw every organization's rows.
ALL_ORGANIZATIONS = "all"


class ExportLog(UUIDPrimaryKey, Model):
    """One export of a list or report (``export_log``), append-only."""

    __tablename__ = "export_log"
    __table_args__ = (
        sa.Index("idx_export_log_user", "user_id"),
        sa.Index("idx_export_log_organization", "organization_id"),
        sa.Index("idx_export_log_started", "started_at"),
        sa.Index("idx_export_log_view", "view_name"),
    )

    #: Kept when the user is deleted: ``username`` still says who.
    user_id: Mapped[Optional[int]] = mapped_column(sa.Integer, sa.ForeignKey("ab_user.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(sa.String(256), nullable=False)
    #: The exporting user's own organization (what scoping narrows this log by).
    organization_id: Mapped[Optional[uuid.UUID]] = mapped_column(UUIDType, sa.ForeignKey("organizations.id"))
    #: ``all``, or the ids of the organizations whose rows the export could hold, comma-separated.
    organization_scope: Mapped[str] = mapped_column(sa.Text, nullable=False)
    list_name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    view_name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    #: The request's query string (filters, search ``q``, sort, ``as_of``), as sent.
    query: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    #: The same as JSON: ``{"filters": [[column, operator, value], ...], "search", "order": [column, direction]}``.
    filters: Mapped[Optional[str]] = mapped_column(sa.Text)
    format: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    #: Rows written; empty until the export finished (a download the client broke off stays empty).
    row_count: Mapped[Optional[int]] = mapped_column(sa.Integer)
    started_at: Mapped[dt.datetime] = mapped_column(
        TZDateTime, nullable=False, default=utcnow, server_default=sa.func.now())
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)
    #: Stock ledger exports: the ledger rows exported are those written at or before this time.
    as_of: Mapped[Optional[dt.datetime]] = mapped_column(TZDateTime)

    user = relationship("PortalUser")
    organization = relationship("Organization")

    def __str__(self) -> str:
        return f"{self.list_name} ({self.format}) by {self.username}"

    __repr__ = __str__
