"""Rules on orders (seed 001 "customer_orders": orders placed by customers to Oraseas EE;
"customer_order_items", "supplier_order_items": their lines)."""
from __future__ import annotations

import decimal

import sqlalchemy as sa
from sqlalchemy import inspect

from .. import models as m
from ..errors import RuleViolation
from ..scoping import Actor, current_actor, system
from ..i18n import _
from .ledger import check_quantity
from .state import related

#: The lines of customer and supplier orders.
ORDER_LINES = (m.CustomerOrderItem, m.SupplierOrderItem)
#: The seed's default quantity of an order line (``DEFAULT 1``).
DEFAULT_LINE_QUANTITY = decimal.Decimal(1)


def orderable_customers() -> list[m.Organization]:
    """The customer organizations the acting user may place a customer order for.

    What the customer dropdown of the order screens offers and the customer ids
    the REST API accepts:

    - Oraseas EE's staff (orders are addressed to Oraseas EE, which takes them
      on behalf of its customers), Super Admins, Auditors, and code acting as
      nobody: every customer organization;
    - anyone else: its own organization when that is a customer, else none.

    Read across organizations (:func:`app.scoping.system`): scoping still shows
    Oraseas EE's staff no row of a customer organization; they get this list of
    customers to choose from, and each order's customer name through the order
    (``CustomerOrder.customer_organization_name``), nothing more.  Suppliers are
    never offered: orders are placed by customers.

    :returns: :class:`~app.models.Organization` rows, by name.
    """
    org = m.Organization
    stmt = sa.select(org).where(orderable_customers_criterion()).order_by(org.name)
    with system():
        return list(m.db_session().execute(stmt).scalars())


def orderable_customers_criterion():
    """The SQL criterion on ``organizations`` of :func:`orderable_customers` (for the
    screens' on-demand customer choice, read across organizations)."""
    actor = current_actor()
    org = m.Organization
    criterion = org.organization_type == m.OrganizationType.customer
    if actor is not None and actor.is_restricted and not actor.is_oraseas_staff:
        criterion = sa.and_(criterion, org.id == actor.organization_id)
    return criterion


def check_customer_orders(session, actor: Actor | None) -> None:
    """A customer order is placed by a customer organization and addressed to Oraseas EE.

    The supplying organization is always Oraseas EE (filled in, whatever the
    form or payload said); a new order records the acting user as its orderer.
    Which customer an actor may order for: :func:`orderable_customers` (a
    customer's own users are held to their organization by
    :func:`app.rules.users.assign_own_organization` and ``check_organization_change``).

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
        raise RuleViolation(_("Customer orders are addressed to Oraseas EE, and no Oraseas EE "
                              "organization exists."))
    for order in orders:
        if related(session, order, "oraseas_organization", "oraseas_organization_id", m.Organization) is not oraseas:
            order.oraseas_organization = oraseas
        customer = related(session, order, "customer_organization", "customer_organization_id", m.Organization)
        if customer is None or customer.organization_type != m.OrganizationType.customer:
            raise RuleViolation(_("Customer orders are placed by customer organizations."))
        state = inspect(order)
        moved = state.attrs.customer_organization_id.history.has_changes() or \
            state.attrs.customer_organization.history.has_changes()
        if not state.pending and moved and order.status != m.CustomerOrderStatus.draft:
            raise RuleViolation(_("A submitted customer order stays with its customer; cancel it and "
                                  "order anew."))
        if inspect(order).pending and actor is not None and actor.user_id is not None:
            order.ordered_by_user_id = actor.user_id


SUPPLIER_RULE = _("Supplier order rule")


def check_supplier_orders(session) -> None:
    """An organization orders only from its own suppliers (issue 10): a supplier
    organization whose parent it is; Oraseas EE also from BossAqua.  The name is
    matched without regard to case and stored as the supplier organization spells it.

    :raises RuleViolation: naming the rule and the suppliers the organization has.
    """
    o = m.Organization
    for order in (*session.new, *session.dirty):
        if not isinstance(order, m.SupplierOrder):
            continue
        state = inspect(order)
        if not (state.pending or state.attrs.supplier_name.history.has_changes()
                or state.attrs.ordering_organization_id.history.has_changes()):
            continue
        orderer = related(session, order, "ordering_organization", "ordering_organization_id", m.Organization)
        if orderer is None:
            raise RuleViolation(_("A supplier order needs the organization that orders."))
        allowed = o.parent_organization_id == orderer.id
        if orderer.organization_type == m.OrganizationType.oraseas_ee:
            allowed = sa.or_(allowed, o.organization_type == m.OrganizationType.bossaqua)
        names = session.execute(sa.select(o.name).where(
            allowed, o.organization_type.in_([m.OrganizationType.supplier, m.OrganizationType.bossaqua]))
            .order_by(o.name)).scalars().all()
        given = (order.supplier_name or "").strip()
        match = next((name for name in names if name.casefold() == given.casefold()), None)
        if match is None:
            known = ", ".join(names) if names else "none yet (add one under Organizations)"
            raise RuleViolation(_("%(supplier_rule)s: %(orderer_name)s orders only from its own "
                                  "suppliers (%(known)s); '%(given)s' is not one of them.",
                                  supplier_rule=SUPPLIER_RULE, orderer_name=orderer.name, known=known, given=given))
        order.supplier_name = match


def check_order_lines(session) -> None:
    """An order line's quantity follows the ledger's unit rules; its price defaults to the part's.

    The quantity is in the part's unit of measure, checked by
    :func:`app.rules.ledger.check_quantity` as every stock movement is: greater
    than zero, at most 3 decimal places (never rounded), whole units for
    consumables.  Left out, it is the seed's default 1.  A ``unit_price`` left
    empty is the part's ``unit_price`` (money, price currency) at the time of
    the order; a price given is kept.

    Lines change only while the order is open for them (:func:`_check_lines_open`).

    :raises RuleViolation: a line without a part, or of an order no longer open for changes.
    :raises InvalidQuantity: the quantity breaks a unit rule (the message names it).
    """
    for line in session.deleted:
        if isinstance(line, ORDER_LINES):
            _check_lines_open(session, line)
    for line in (*session.new, *session.dirty):
        if not isinstance(line, ORDER_LINES):
            continue
        _check_lines_open(session, line)
        part = related(session, line, "part", "part_id", m.Part)
        if part is None:
            raise RuleViolation(_("An order line needs a part."))
        quantity = DEFAULT_LINE_QUANTITY if line.quantity is None else line.quantity
        line.quantity = check_quantity(quantity, part)
        if line.unit_price is None:
            line.unit_price = part.unit_price


#: Each kind of order -> its initial state (issue 10: a new customer order is a draft until
#: submitted; a supplier order is placed with the supplier at once).
INITIAL_STATES = {m.CustomerOrder: m.CustomerOrderStatus.draft, m.SupplierOrder: m.SupplierOrderStatus.ordered}
#: Each kind of order line -> (its order's attribute, the states in which its lines may change).
OPEN_FOR_LINES = {m.CustomerOrderItem: ("customer_order", m.CustomerOrder, {m.CustomerOrderStatus.draft}),
                  m.SupplierOrderItem: ("supplier_order", m.SupplierOrder, {m.SupplierOrderStatus.ordered})}
_WORKFLOW_MARK = "_abparts_workflow_status"
#: The rule's message: every refusal names it.
STATUS_RULE = _("Order status rule: an order's status changes only through its workflow steps "
                "(submit, approve, ship, receive, cancel), never by editing it")


def _check_lines_open(session, line) -> None:
    """Order lines change only while the order is open for them (issue 10): a customer
    order's while it is a draft (its value was approved as submitted), a supplier
    order's while nothing is received or cancelled.

    :raises RuleViolation: the order is in another state (the message names it).
    """
    attribute, model, states = OPEN_FOR_LINES[type(line)]
    order = related(session, line, attribute, f"{attribute}_id", model)
    if order is None or order in session.new:
        return
    if order.status not in states:
        allowed = " or ".join(str(s).lower() for s in states)
        raise RuleViolation(_("Order lines rule: the lines of an order change only while it is "
                              "%(allowed)s; this one is %(value)s.",
                              allowed=allowed, value=str(order.status).lower()))


def mark_workflow_status(order):
    """Mark ``order``'s status change as made by a workflow command (:mod:`app.workflows.orders`).

    Only code can set the mark, never a form or a payload; :func:`check_order_status`
    accepts the change and clears the mark at the next flush.

    :returns: ``order``.
    """
    setattr(order, _WORKFLOW_MARK, True)
    return order


def check_order_status(session) -> None:
    """An order's status is a state of its workflow, not free text (issues 8 and 10).

    - A new order starts in its initial state (customer order ``requested``,
      supplier order ``ordered``), whatever the form, payload or code gave.
    - A changed status is refused unless a workflow command marked the change
      (:func:`mark_workflow_status`); the command has checked the transition and who takes it.

    :raises RuleViolation: a status change that no workflow command made (the message names the rule).
    """
    for order in (*session.new, *session.dirty):
        initial = INITIAL_STATES.get(type(order))
        if initial is None:
            continue
        by_workflow = bool(order.__dict__.pop(_WORKFLOW_MARK, False))
        if order in session.new:
            order.status = initial
            continue
        history = inspect(order).attrs.status.history
        if history.has_changes() and not by_workflow:
            tried = history.added[0] if history.added else None
            raise RuleViolation(_("%(status_rule)s; it cannot be set to '%(tried)s'.",
                                  status_rule=STATUS_RULE, tried=tried))
