"""Rules on orders (seed 001 "customer_orders": orders placed by customers to Oraseas EE)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import inspect

from .. import models as m
from ..errors import RuleViolation
from ..scoping import Actor
from .state import related


def check_customer_orders(session, actor: Actor | None) -> None:
    """A customer order is placed by a customer organization and addressed to Oraseas EE.

    The supplying organization is always Oraseas EE (filled in, whatever the
    form or payload said); a new order records the acting user as its orderer.

    :raises RuleViolation: when the ordering organization is not a customer,
        or no Oraseas EE organization exists.
    """
    orders = [o for o in (*session.new, *session.dirty) if isinstance(o, m.CustomerOrder)]
    if not orders:
        return
    oraseas = session.execute(
        sa.select(m.Organization).where(m.Organization.organization_type == m.OrganizationType.oraseas_ee)
    ).scalar_one_or_none()
    if oraseas is None:
        raise RuleViolation("Customer orders are addressed to Oraseas EE, and no Oraseas EE organization exists.")
    for order in orders:
        if related(session, order, "oraseas_organization", "oraseas_organization_id", m.Organization) is not oraseas:
            order.oraseas_organization = oraseas
        customer = related(session, order, "customer_organization", "customer_organization_id", m.Organization)
        if customer is None or customer.organization_type != m.OrganizationType.customer:
            raise RuleViolation("Customer orders are placed by customer organizations.")
        if inspect(order).pending and actor is not None and actor.user_id is not None:
            order.ordered_by_user_id = actor.user_id
