"""The seed's scale caps (seed 001 "Scale Requirements"), each a setting; ``None`` lifts it."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import current_app

from .. import models as m
from ..errors import LimitReached
from ..i18n import _

def _is_customer(org) -> bool:
    return org.organization_type == m.OrganizationType.customer


#: setting -> (model, SQL criterion or None, the same test on a new object or None, label)
CAPS = {
    "LIMIT_CUSTOMER_ORGANIZATIONS": (
        m.Organization,
        m.Organization.organization_type == m.OrganizationType.customer,
        _is_customer,
        _("customer organizations"),
    ),
    "LIMIT_USERS": (m.PortalUser, None, None, _("users")),
    "LIMIT_PARTS": (m.Part, None, None, _("parts")),
    "LIMIT_MACHINES": (m.Machine, None, None, _("machines")),
    # A transit location is no warehouse of the seed's count (app.models.Warehouse.is_transit).
    "LIMIT_WAREHOUSES": (m.Warehouse, m.Warehouse.is_transit.is_(False), lambda w: not w.is_transit, _("warehouses")),
}


def setting(name: str):
    """A business limit from the app configuration (``None`` when lifted)."""
    return current_app.config.get(name)


#: Advisory-lock keys (PostgreSQL) that serialise the counting of one cap.
_LOCK_KEYS = {name: i for i, name in enumerate([*CAPS, "LIMIT_TRANSACTIONS_PER_YEAR"], start=1)}
_LOCK_SPACE = 0xAB9A  # the first half of every key: "ABParts caps"


def _serialise(session, setting_name: str, sub_key: int = 0) -> None:
    """Hold a transaction-scoped lock while a cap is counted and written.

    Two writers at a cap's boundary would otherwise both count ``cap - 1`` and
    both insert.  PostgreSQL: an advisory lock until commit.  SQLite needs
    none: every transaction already holds the write lock (``BEGIN IMMEDIATE``).
    """
    if session.get_bind().dialect.name == "postgresql":
        key = (_LOCK_SPACE << 32) | (_LOCK_KEYS[setting_name] << 16) | (sub_key & 0xFFFF)
        session.execute(sa.text("SELECT pg_advisory_xact_lock(CAST(:key AS bigint))"), {"key": key})


def check_caps(session) -> None:
    """Refuse a flush that would take a table over its cap.

    :raises LimitReached: naming the cap and the setting that lifts it.
    """
    for name, (model, _criterion, applies, _label) in CAPS.items():
        new = [o for o in session.new if isinstance(o, model) and (applies is None or applies(o))]
        if new:
            check_cap(session, name, len(new))


def check_cap(session, name: str, adding: int) -> None:
    """Refuse ``adding`` more rows of the cap ``name`` (a key of :data:`CAPS`) when they would
    take its table over the cap; the flush hook and an import's dry run (which adds nothing
    to the session) ask the same question.

    :raises LimitReached: naming the cap and the setting that lifts it.
    """
    model, criterion, _applies, label = CAPS[name]
    cap = setting(name)
    if cap is None or not adding:
        return
    _serialise(session, name)
    stmt = sa.select(sa.func.count()).select_from(model)
    if criterion is not None:
        stmt = stmt.where(criterion)
    existing = session.execute(stmt).scalar_one()
    if existing + adding > cap:
        raise LimitReached(
            _("The limit of %(cap)s %(label)s is reached (%(existing)s exist); raise or lift "
              "%(name)s in the configuration.",
              cap=cap, label=label, existing=existing, name=name)
        )


def check_yearly_transactions(session, new_transactions) -> None:
    """At most ``LIMIT_TRANSACTIONS_PER_YEAR`` ledger rows per calendar year (UTC).

    :raises LimitReached: for the first year that would go over.
    """
    cap = setting("LIMIT_TRANSACTIONS_PER_YEAR")
    if cap is None or not new_transactions:
        return
    per_year: dict[int, int] = {}
    for txn in new_transactions:
        per_year[txn.transaction_date.year] = per_year.get(txn.transaction_date.year, 0) + 1
    for year, count in sorted(per_year.items()):
        _serialise(session, "LIMIT_TRANSACTIONS_PER_YEAR", year)
        start = dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc)
        end = dt.datetime(year + 1, 1, 1, tzinfo=dt.timezone.utc)
        existing = session.execute(
            sa.select(sa.func.count())
            .select_from(m.Transaction)
            .where(m.Transaction.transaction_date >= start, m.Transaction.transaction_date < end)
        ).scalar_one()
        if existing + count > cap:
            raise LimitReached(
                _("The limit of %(cap)s transactions a year is reached for %(year)s (%(existing)s "
                  "recorded); raise or lift LIMIT_TRANSACTIONS_PER_YEAR.",
                  cap=cap, year=year, existing=existing)
            )
