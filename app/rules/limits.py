"""The seed's scale caps (seed 001 "Scale Requirements"), each a setting; ``None`` lifts it."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import current_app

from .. import models as m
from ..errors import LimitReached

def _is_customer(org) -> bool:
    return org.organization_type == m.OrganizationType.customer


#: setting -> (model, SQL criterion or None, the same test on a new object or None, label)
CAPS = {
    "LIMIT_CUSTOMER_ORGANIZATIONS": (
        m.Organization,
        m.Organization.organization_type == m.OrganizationType.customer,
        _is_customer,
        "customer organizations",
    ),
    "LIMIT_USERS": (m.PortalUser, None, None, "users"),
    "LIMIT_PARTS": (m.Part, None, None, "parts"),
    "LIMIT_MACHINES": (m.Machine, None, None, "machines"),
    "LIMIT_WAREHOUSES": (m.Warehouse, None, None, "warehouses"),
}


def setting(name: str):
    """A business limit from the app configuration (``None`` when lifted)."""
    return current_app.config.get(name)


def check_caps(session) -> None:
    """Refuse a flush that would take a table over its cap.

    :raises LimitReached: naming the cap and the setting that lifts it.
    """
    for name, (model, criterion, applies, label) in CAPS.items():
        new = [o for o in session.new if isinstance(o, model) and (applies is None or applies(o))]
        cap = setting(name)
        if not new or cap is None:
            continue
        stmt = sa.select(sa.func.count()).select_from(model)
        if criterion is not None:
            stmt = stmt.where(criterion)
        existing = session.execute(stmt).scalar_one()
        if existing + len(new) > cap:
            raise LimitReached(
                f"The limit of {cap} {label} is reached ({existing} exist); "
                f"raise or lift {name} in the configuration."
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
        start = dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc)
        end = dt.datetime(year + 1, 1, 1, tzinfo=dt.timezone.utc)
        existing = session.execute(
            sa.select(sa.func.count())
            .select_from(m.Transaction)
            .where(m.Transaction.transaction_date >= start, m.Transaction.transaction_date < end)
        ).scalar_one()
        if existing + count > cap:
            raise LimitReached(
                f"The limit of {cap} transactions a year is reached for {year} "
                f"({existing} recorded); raise or lift LIMIT_TRANSACTIONS_PER_YEAR."
            )
