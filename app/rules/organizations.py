"""Rules on organizations, warehouses, machines and parts (seed 001, seed 000)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import inspect

from .. import models as m
from ..errors import RuleViolation
from ..scoping import Actor
from ..i18n import _
from .state import related, related_id


def _changed(obj, *attrs) -> bool:
    state = inspect(obj)
    return state.pending or any(state.attrs[a].history.has_changes() for a in attrs)


THRESHOLD_RULE = _("Order approval threshold rule")


def check_order_approval_thresholds(session, actor: Actor | None) -> None:
    """A customer's order approval threshold (issue 10; money, price currency) is set by
    Oraseas EE's staff, never by the customer itself (it decides which of its orders
    Oraseas EE must approve), and is not negative.

    :raises RuleViolation: naming the rule.
    """
    for org in (*session.new, *session.dirty):
        if not isinstance(org, m.Organization) or not _changed(org, "order_approval_threshold"):
            continue
        value = org.order_approval_threshold
        if value is None:
            continue
        if value < 0:
            raise RuleViolation(_("%(threshold_rule)s: the threshold is an amount of money, 0 or more.",
                                  threshold_rule=THRESHOLD_RULE))
        if actor is not None and actor.is_restricted and not actor.is_oraseas_staff:
            raise RuleViolation(_("%(threshold_rule)s: only Oraseas EE's staff set a customer's approval "
                                  "threshold.",
                                  threshold_rule=THRESHOLD_RULE))


def check_organizations(session) -> None:
    """One Oraseas EE and one BossAqua; suppliers have a parent; no organization is its own parent;
    an organization that owns machines stays a customer.

    :raises RuleViolation: naming the rule.
    """
    orgs = [o for o in list(session.new) + list(session.dirty) if isinstance(o, m.Organization)]
    for org in orgs:
        if not _changed(org, "organization_type", "parent_organization_id", "parent_organization"):
            continue
        kind = org.organization_type
        if kind is None:
            raise RuleViolation(_("An organization needs a type (Oraseas EE, BossAqua, customer or supplier)."))
        if kind.value in m.organization.SINGLETON_TYPES:
            others = session.execute(
                sa.select(sa.func.count())
                .select_from(m.Organization)
                .where(m.Organization.organization_type == kind, m.Organization.id != org.id)
            ).scalar_one()
            twins = [o for o in orgs if o is not org and o.organization_type == kind and inspect(o).pending]
            if others or twins:
                raise RuleViolation(_("There can be only one %(kind)s organization.", kind=kind))
        parent_id = related_id(org, "parent_organization", "parent_organization_id")
        if kind == m.OrganizationType.supplier and parent_id is None:
            raise RuleViolation(_("A supplier organization must have a parent organization."))
        if parent_id is not None and parent_id == org.id:
            raise RuleViolation(_("An organization cannot be its own parent."))
        if (kind != m.OrganizationType.customer and not inspect(org).pending
                and inspect(org).attrs.organization_type.history.has_changes()):
            owned = session.execute(
                sa.select(sa.func.count()).select_from(m.Machine).where(m.Machine.customer_organization_id == org.id)
            ).scalar_one()
            if owned:
                raise RuleViolation(
                    _("Machines can be owned only by customer organizations. %(org)s owns machines, so "
                      "it stays a customer.",
                      org=org)
                )


def check_machines(session, actor: Actor | None) -> None:
    """Machines are owned only by customer organizations, and only a Super Admin registers them.

    :raises RuleViolation: naming the rule (seed 001 ``machine_customer_only``).
    """
    for machine in list(session.new) + list(session.dirty):
        if not isinstance(machine, m.Machine):
            continue
        if inspect(machine).pending and actor is not None and not actor.is_super_admin:
            raise RuleViolation(_("Only a Super Admin registers new machines."))
        if not _changed(machine, "customer_organization_id", "customer_organization"):
            continue
        owner = related(session, machine, "customer_organization", "customer_organization_id", m.Organization)
        if owner is None or owner.organization_type != m.OrganizationType.customer:
            raise RuleViolation(_("Machines can be owned only by customer organizations."))


def check_parts(session) -> None:
    """A part's unit of measure and type are fixed once it has ledger rows.

    :raises RuleViolation: when a used part would change unit or type.
    """
    for part in session.dirty:
        if not isinstance(part, m.Part) or not _changed(part, "unit_of_measure", "part_type"):
            continue
        used = session.execute(
            sa.select(sa.func.count()).select_from(m.Transaction).where(m.Transaction.part_id == part.id)
        ).scalar_one()
        if used:
            raise RuleViolation(
                _("The unit of measure and type of a part cannot change once stock of it has been recorded.")
            )


def check_warehouse_owners(session) -> None:
    """A warehouse that stock has moved through stays with its organization.

    Its ledger rows carry the organization (``transactions.from_organization_id``
    / ``to_organization_id``, issue 15) and belong to that organization's books;
    moving the warehouse would move its stock on hand without its history.  An
    organization that takes over the premises gets a warehouse of its own and
    the stock by a transfer.

    :raises RuleViolation: naming the rule, when a warehouse with ledger rows changes organization.
    """
    t, w = m.Transaction, m.Warehouse.__table__.c
    for warehouse in session.dirty:
        if not isinstance(warehouse, m.Warehouse) or not _changed(warehouse, "organization_id", "organization"):
            continue
        stored = session.execute(sa.select(w.organization_id).where(w.id == warehouse.id)).scalar()
        if stored is None or stored == related_id(warehouse, "organization", "organization_id"):
            continue
        moved = session.execute(sa.select(sa.exists().where(
            sa.or_(t.from_warehouse_id == warehouse.id, t.to_warehouse_id == warehouse.id)))).scalar()
        if moved:
            raise RuleViolation(
                _("Warehouse %(warehouse_name)s has stock history and stays with its organization: "
                  "create a warehouse in the other organization and move the stock with a stock transfer.",
                  warehouse_name=warehouse.name)
            )


def check_transit_locations(session) -> None:
    """Transit locations are kept by the transfer workflow (issue 8): no path creates,
    edits or deletes one as a warehouse, and no warehouse becomes one.

    The workflow creates an organization's transit location with a Core insert
    (``app.workflows.transfers.transit_location``), outside this hook.

    :raises RuleViolation: for any ORM write of a transit location or of ``is_transit``.
    """
    for warehouse in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(warehouse, m.Warehouse):
            continue
        state = inspect(warehouse)
        if warehouse.is_transit or state.attrs.is_transit.history.has_changes():
            if state.pending and not warehouse.is_transit:
                continue
            raise RuleViolation(
                _("A transit location holds stock on its way between warehouses; it is kept by the stock "
                  "transfers and cannot be created, changed or deleted as a warehouse.")
            )
