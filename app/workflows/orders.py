"""Customer and supplier orders: their states and the steps between them (issue 10).

Read top to bottom: the two state machines, who may take each step, what the
ledger says about an order, then one command per step.

**Customer orders** (a customer orders parts from Oraseas EE):

- *submit*: a ``draft`` with lines becomes ``approved`` when its value
  (Σ quantity × unit price) is at most the customer's approval threshold,
  else ``requested`` until an Oraseas EE admin *approves* it.
- *ship* (Oraseas staff): a shipment is a stock transfer
  (:mod:`app.workflows.transfers`) out of an Oraseas EE warehouse into Oraseas
  EE's transit location, dispatched at once; its destination warehouse is
  chosen by the customer at receipt.  Partial shipments: never more than
  ordered minus already shipped.
- *receive* (the customer): one shipment into one of its own warehouses.  A
  shortage stays in transit as the shipment's discrepancy, resolved on the
  transfer (return or write-off); what is returned or written off may be
  shipped again.  The order is ``received`` when every line has arrived in full.
- *cancel*: before anything ships.

**Supplier orders** (an organization orders from one of its suppliers):
*receive* posts a ``creation`` into a warehouse of the ordering organization
per line (never more than ordered minus received): ``partially_received``
until every line is in, then ``received``.

Every step writes an :class:`~app.models.OrderEvent` (who, when, from and to
state).  A status changes only through these commands
(:func:`app.rules.orders.mark_workflow_status`; the rule hook
:func:`app.rules.orders.check_order_status` refuses every other change).
"""
from __future__ import annotations

import decimal
import uuid
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from .. import models as m
from ..errors import IllegalTransition, InvalidQuantity, RuleViolation
from ..models.base import format_quantity
from ..rules.ledger import check_quantity, mark_workflow_posting
from ..rules.orders import mark_workflow_status
from ..scoping import system
from . import transfers as tw
from .base import StateMachine, Who, command, load_visible, now, require, step_name
from ..i18n import _

C = m.CustomerOrderStatus
S = m.SupplierOrderStatus
D = decimal.Decimal
ZERO = D(0)

#: The customer order's state machine: step -> (from states, to states).
CUSTOMER_ORDER = StateMachine(_("customer order"), {
    "submit": (frozenset({C.draft}), frozenset({C.requested, C.approved})),
    "approve": (frozenset({C.requested}), frozenset({C.approved})),
    # A partial shipment leaves the order shipped and shippable until every line has gone.
    "ship": (frozenset({C.approved, C.shipped}), frozenset({C.shipped})),
    "receive": (frozenset({C.shipped}), frozenset({C.shipped, C.received})),
    "cancel": (frozenset({C.draft, C.requested, C.approved}), frozenset({C.cancelled})),
})

#: The supplier order's state machine: step -> (from states, to states).
SUPPLIER_ORDER = StateMachine(_("supplier order"), {
    "receive": (frozenset({S.ordered, S.partially_received}), frozenset({S.partially_received, S.received})),
    "cancel": (frozenset({S.ordered}), frozenset({S.cancelled})),
})


# --- who may take which step ------------------------------------------------

def may_act_for_customer(who: Who, order: m.CustomerOrder) -> bool:
    """The ordering customer's users and admins, and Oraseas staff, submit, receive and cancel."""
    return who.acts_for(order.customer_organization_id)


def may_approve(who: Who, order: m.CustomerOrder) -> bool:
    """An Admin of Oraseas EE (which supplies every customer order) or a Super Admin approves."""
    return who.is_super_admin or (
        who.is_admin and who.organization.organization_type == m.OrganizationType.oraseas_ee)


def may_ship(who: Who, order: m.CustomerOrder) -> bool:
    """Oraseas EE's staff (its users and admins, and Super Admins) ship."""
    return who.is_oraseas_staff and not who.actor.is_read_only


def may_receive_supplier_order(who: Who, order: m.SupplierOrder) -> bool:
    """The ordering organization's admins (and Oraseas staff admins, and Super Admins) receive."""
    return who.is_admin and who.acts_for(order.ordering_organization_id)


def may_cancel_supplier_order(who: Who, order: m.SupplierOrder) -> bool:
    """The ordering organization's admins, or a Super Admin, cancel."""
    return who.is_super_admin or (who.is_admin and who.organization.id == order.ordering_organization_id)


#: The steps, per kind of order -> who may take them.
_CHECKS = {
    m.CustomerOrder: (CUSTOMER_ORDER, {"submit": may_act_for_customer, "approve": may_approve, "ship": may_ship,
                                       "receive": may_act_for_customer, "cancel": may_act_for_customer}),
    m.SupplierOrder: (SUPPLIER_ORDER, {"receive": may_receive_supplier_order, "cancel": may_cancel_supplier_order}),
}


def allowed_actions(who: Who, order) -> list[str]:
    """The steps ``who`` may take on ``order`` (a customer or supplier order) now: the buttons a screen shows.

    *receive* of a customer order is offered only while a shipment is in transit.
    """
    machine, checks = _CHECKS[type(order)]
    steps = [step for step in machine.allowed_steps(order.status) if checks[step](who, order)]
    if isinstance(order, m.CustomerOrder) and "receive" in steps and not open_shipments(order):
        steps.remove("receive")
    return steps


# --- figures: what was ordered, shipped and received, from the ledger ---------

@dataclass
class OrderLineFigures:
    """One part of an order, in the part's unit of measure.

    ``shipped`` is what left Oraseas EE and was neither returned nor written off
    (a shipped shortage that was written off may be shipped again).
    """

    ordered: D = ZERO
    shipped: D = ZERO
    received: D = ZERO

    @property
    def left_to_ship(self) -> D:
        return max(self.ordered - self.shipped, ZERO)

    @property
    def left_to_receive(self) -> D:
        """For a supplier order: ordered and not yet received."""
        return max(self.ordered - self.received, ZERO)


def _ordered(order) -> dict:
    figures: dict = defaultdict(OrderLineFigures)
    for item in order.items:
        figures[item.part_id].ordered += item.quantity
    return figures


def customer_order_figures(session, order: m.CustomerOrder) -> dict:
    """``{part_id: OrderLineFigures}`` of a customer order, from its shipments' ledger rows."""
    figures = _ordered(order)
    for shipment in order.shipments:
        for part_id, f in tw.line_figures(session, shipment).items():
            figures[part_id].shipped += f.dispatched - f.returned - f.written_off
            figures[part_id].received += f.received
    return dict(figures)


def supplier_order_figures(session, order: m.SupplierOrder) -> dict:
    """``{part_id: OrderLineFigures}`` of a supplier order: received is the sum of its
    ``creation`` rows (``transactions.supplier_order_id``), one GROUP BY query."""
    figures = _ordered(order)
    t = m.Transaction
    with system():
        rows = session.execute(sa.select(t.part_id, sa.func.sum(t.quantity)).where(
            t.supplier_order_id == order.id).group_by(t.part_id)).all()
    for part_id, received in rows:
        figures[part_id].received += received
    return dict(figures)


def open_shipments(order: m.CustomerOrder) -> list[m.StockTransfer]:
    """The order's shipments in transit (dispatched, not yet received)."""
    return [s for s in order.shipments if s.status == m.TransferStatus.dispatched]


def order_value(order) -> D:
    """Σ quantity × unit price of the order's lines (money, price currency); a line
    without a price counts 0."""
    return sum((item.quantity * (item.unit_price or ZERO) for item in order.items), ZERO)


def approval_threshold(session, order: m.CustomerOrder) -> D:
    """The value above which ``order`` needs approval: the customer's own
    ``order_approval_threshold``, else the configured ``ORDER_APPROVAL_THRESHOLD``."""
    with system():
        own = session.execute(sa.select(m.Organization.order_approval_threshold).where(
            m.Organization.id == order.customer_organization_id)).scalar_one_or_none()
    return own if own is not None else D(str(current_app.config.get("ORDER_APPROVAL_THRESHOLD", "5000")))


# --- helpers of the commands ------------------------------------------------

def _load(session, model, order_id, what: str):
    return load_visible(session, model, order_id, what, for_update=True)


def _move(session, machine: StateMachine, order, step: str, state, who: Who, shipment=None, note=None) -> None:
    """Take ``step`` to ``state`` (checked by ``machine``) and write its :class:`~app.models.OrderEvent`."""
    before = order.status
    machine.move(order, step, state)
    mark_workflow_status(order)
    event = m.OrderEvent(id=uuid.uuid4(), step=step, from_status=before.value, to_status=state.value,
                         user_id=who.user.id, occurred_at=now(), stock_transfer=shipment, note=note)
    if isinstance(order, m.CustomerOrder):
        event.customer_order_id = order.id
    else:
        event.supplier_order_id = order.id
    session.add(event)


def _quantities(order, lines: dict, figures: dict, limit, verb: str) -> list[tuple[m.Part, D]]:
    """Check ``{part_id: quantity}`` against the order: parts on it, unit rules, at most
    ``limit(figures)`` each; zeros dropped.

    :raises RuleViolation: a part not on the order, or nothing at all.
    :raises InvalidQuantity: a unit rule, or more than the limit (the message names the part).
    """
    parts = {item.part_id: item.part for item in order.items}
    out = []
    for key, quantity in (lines or {}).items():
        part = parts.get(m.parse_uuid(key))
        if part is None:
            raise RuleViolation(_("The %(verb)s names a part that is not on this order.", verb=step_name(verb)))
        if tw.is_zero(quantity):
            continue
        quantity = check_quantity(quantity, part, _("Quantity of %(part_number)s",
                                                    part_number=part.part_number))
        left = limit(figures[part.id])
        if quantity > left:
            raise InvalidQuantity(
                _("Over-%(verb)s refused: %(quantity)s of %(part_number)s; only %(left)s left to %(verb)s.",
                  verb=step_name(verb),
                  quantity=format_quantity(quantity, part.unit_of_measure, whole=part.is_whole_units),
                  part_number=part.part_number, left=format_quantity(left)))
        out.append((part, quantity))
    if not out:
        raise RuleViolation(_("Nothing to %(verb)s: give a quantity for at least one line.", verb=step_name(verb)))
    return out


# --- customer order commands -------------------------------------------------

@command
def submit_customer_order(session, who: Who, order_id) -> m.CustomerOrder:
    """Submit a draft: approved at once when its value is at most the approval threshold
    (:func:`approval_threshold`), else requested, waiting for an Oraseas EE admin.

    :returns: the :class:`~app.models.CustomerOrder`, ``approved`` or ``requested``.
    :raises OutOfScope: (404) not visible; :raises Forbidden: (403) neither the customer nor Oraseas staff.
    :raises IllegalTransition: (409) not a draft.
    :raises RuleViolation: (422) an order without lines.
    """
    order = _load(session, m.CustomerOrder, order_id, "customer order")
    require(may_act_for_customer(who, order), _("Only the ordering customer or Oraseas EE's staff submit "
                                                "an order."))
    CUSTOMER_ORDER.check("submit", order.status)
    if not order.items:
        raise RuleViolation(_("An order needs at least one line (a part and a quantity) to be submitted."))
    value, threshold = order_value(order), approval_threshold(session, order)
    if value <= threshold:
        _move(session, CUSTOMER_ORDER, order, "submit", C.approved, who,
              note=f"Value {value:.2f} is within the approval threshold {threshold:.2f}: approved on submission.")
    else:
        _move(session, CUSTOMER_ORDER, order, "submit", C.requested, who,
              note=f"Value {value:.2f} is above the approval threshold {threshold:.2f}: waits for approval.")
    return order


@command
def approve_customer_order(session, who: Who, order_id) -> m.CustomerOrder:
    """Approve a requested customer order (Oraseas EE accepts it).

    :returns: the :class:`~app.models.CustomerOrder`, now ``approved``.
    :raises OutOfScope: (404) the actor does not see the order.
    :raises Forbidden: (403) not an Admin of Oraseas EE nor a Super Admin.
    :raises IllegalTransition: (409) the order is not ``requested``; the message names its state.
    """
    order = _load(session, m.CustomerOrder, order_id, "customer order")
    require(may_approve(who, order), _("Only an Admin of Oraseas EE or a Super Admin approves a customer "
                                       "order."))
    _move(session, CUSTOMER_ORDER, order, "approve", C.approved, who)
    return order


@command
def ship_customer_order(session, who: Who, order_id, warehouse_id, lines: dict) -> m.StockTransfer:
    """Ship (part of) an approved order out of an Oraseas EE warehouse into transit.

    :param warehouse_id: an active Oraseas EE warehouse.
    :param lines: ``{part_id: quantity}`` in the part's unit; parts on the order,
        each at most ordered minus shipped; zeros are skipped.
    :returns: the shipment, a dispatched :class:`~app.models.StockTransfer`.
    :raises OutOfScope: (404) not visible; :raises Forbidden: (403) not Oraseas staff.
    :raises IllegalTransition: (409) not approved or shipped (e.g. requested, received).
    :raises RuleViolation: (422) not an Oraseas EE warehouse, nothing to ship, a part not on the order.
    :raises InvalidQuantity: (422) more than is left to ship, unit rules.
    :raises InsufficientStock: (422) the warehouse lacks stock of a part, naming it.
    """
    order = _load(session, m.CustomerOrder, order_id, "customer order")
    require(may_ship(who, order), _("Only Oraseas EE's staff ship a customer order."))
    CUSTOMER_ORDER.check("ship", order.status)
    source = tw.usable_warehouse(session, warehouse_id, _("shipping"), unscoped=True)
    if source.organization_id != order.oraseas_organization_id:
        raise RuleViolation(_("A customer order ships from a warehouse of Oraseas EE; %(source)s is not "
                              "one.",
                              source=source))
    checked = _quantities(order, lines, customer_order_figures(session, order), lambda f: f.left_to_ship, "ship")
    when = now()
    shipment = m.StockTransfer(
        id=uuid.uuid4(), reference_number=f"SH-{when:%y%m%d}-{uuid.uuid4().hex[:6].upper()}",
        created_at=when, updated_at=when, from_warehouse_id=source.id, to_warehouse_id=None,
        source_organization_id=source.organization_id, destination_organization_id=order.customer_organization_id,
        status=m.TransferStatus.dispatched, customer_order=order, created_by_user_id=who.user.id,
        dispatched_by_user_id=who.user.id, dispatched_at=when, notes=f"Shipment of customer order {order.reference}",
    )
    session.add(shipment)
    transit = tw.transit_location(session, source.organization_id)
    for number, (part, quantity) in enumerate(checked, start=1):
        session.add(m.StockTransferLine(id=uuid.uuid4(), stock_transfer=shipment, line_number=number,
                                        part_id=part.id, quantity=quantity))
        session.add(tw.transfer_posting(shipment, who, m.TransactionType.transfer, part.id, quantity,
                                        source.id, transit.id, "dispatch"))
    _move(session, CUSTOMER_ORDER, order, "ship", C.shipped, who, shipment=shipment,
          note=f"{shipment.reference_number}: {len(checked)} line(s) from {source}.")
    return shipment


@command
def receive_customer_order(session, who: Who, order_id, warehouse_id, received: dict, shipment_id=None
                           ) -> m.StockTransfer:
    """Receive a shipment of the order into one of the customer's warehouses.

    :param warehouse_id: an active warehouse of the ordering customer.
    :param received: ``{part_id: quantity received}`` for every line of the shipment
        (0 to the quantity shipped); a shortage stays in transit as the shipment's discrepancy.
    :param shipment_id: which shipment, when more than one is in transit.
    :returns: the shipment, ``received`` or ``received_with_discrepancy``; the order is
        ``received`` once every line has arrived in full, else stays ``shipped``.
    :raises OutOfScope: (404) not visible; :raises Forbidden: (403) neither the customer nor Oraseas staff.
    :raises IllegalTransition: (409) not shipped, or no shipment in transit.
    :raises RuleViolation: (422) another organization's warehouse, several shipments and none named.
    :raises InvalidQuantity: (422) over-receipt, unit rules, a line missing.
    """
    order = _load(session, m.CustomerOrder, order_id, "customer order")
    require(may_act_for_customer(who, order), _("Only the ordering customer or Oraseas EE's staff "
                                                "receive an order."))
    CUSTOMER_ORDER.check("receive", order.status)
    waiting = open_shipments(order)
    if shipment_id is not None:
        key = m.parse_uuid(shipment_id)
        shipment = next((s for s in order.shipments if s.id == key), None)
        if shipment is None:
            raise RuleViolation(_("The shipment is not one of this order's."))
    elif len(waiting) == 1:
        shipment = waiting[0]
    elif not waiting:
        raise IllegalTransition(_("Nothing of customer order %(reference)s is in transit to receive.",
                                  reference=order.reference))
    else:
        raise RuleViolation(_("%(count)s shipments of this order are in transit: name the one received "
                              "(%(value)s).",
                              count=len(waiting), value=', '.join(s.reference_number for s in waiting)))
    dest = tw.usable_warehouse(session, warehouse_id, _("receiving"), unscoped=True)
    if dest.organization_id != order.customer_organization_id:
        raise RuleViolation(_("A customer order is received into a warehouse of its customer; %(dest)s "
                              "is not one.",
                              dest=dest))
    if shipment.status == m.TransferStatus.dispatched:
        shipment.to_warehouse_id = dest.id
    tw.receive_lines(session, who, shipment, received)
    session.flush()
    done = all(f.received >= f.ordered for f in customer_order_figures(session, order).values())
    order.actual_delivery_date = now()
    short = shipment.status == m.TransferStatus.received_with_discrepancy
    _move(session, CUSTOMER_ORDER, order, "receive", C.received if done and not open_shipments(order) else C.shipped, who,
          shipment=shipment, note=f"{shipment.reference_number} into {dest}"
          + (": short, the difference stays in transit." if short else "."))
    return shipment


@command
def cancel_customer_order(session, who: Who, order_id) -> m.CustomerOrder:
    """Cancel a customer order that is a draft, requested or approved (nothing has shipped).

    :returns: the :class:`~app.models.CustomerOrder`, now ``cancelled``.
    :raises OutOfScope: (404) not visible; :raises Forbidden: (403) neither the
        ordering customer nor Oraseas staff.
    :raises IllegalTransition: (409) shipped, received or cancelled already.
    """
    order = _load(session, m.CustomerOrder, order_id, "customer order")
    require(may_act_for_customer(who, order),
            _("Only the ordering customer or Oraseas EE's staff cancel a customer order."))
    _move(session, CUSTOMER_ORDER, order, "cancel", C.cancelled, who)
    return order


# --- supplier order commands -------------------------------------------------

@command
def receive_supplier_order(session, who: Who, order_id, warehouse_id, received: dict) -> m.SupplierOrder:
    """Receive (part of) a supplier order: stock enters from outside (``creation``).

    :param warehouse_id: an active warehouse of the ordering organization.
    :param received: ``{part_id: quantity}`` in the part's unit; each at most ordered
        minus already received; zeros skipped.
    :returns: the :class:`~app.models.SupplierOrder`, ``partially_received`` or ``received``.
    :raises OutOfScope: (404) not visible; :raises Forbidden: (403) not the ordering organization.
    :raises IllegalTransition: (409) cancelled or received already.
    :raises RuleViolation: (422) another organization's warehouse, nothing received, a part not on the order.
    :raises InvalidQuantity: (422) over-receipt, unit rules.
    """
    order = _load(session, m.SupplierOrder, order_id, "supplier order")
    require(may_receive_supplier_order(who, order), _("Only the ordering organization receives a "
                                                      "supplier order."))
    SUPPLIER_ORDER.check("receive", order.status)
    dest = tw.usable_warehouse(session, warehouse_id, _("receiving"), unscoped=True)
    if dest.organization_id != order.ordering_organization_id:
        raise RuleViolation(_("A supplier order is received into a warehouse of the organization that "
                              "ordered it; %(dest)s is not one.",
                              dest=dest))
    figures = supplier_order_figures(session, order)
    checked = _quantities(order, received, figures, lambda f: f.left_to_receive, "receive")
    when = now()
    for part, quantity in checked:
        session.add(mark_workflow_posting(m.Transaction(
            id=uuid.uuid4(), transaction_type=m.TransactionType.creation, part_id=part.id, quantity=quantity,
            to_warehouse_id=dest.id, performed_by_user_id=who.user.id, transaction_date=when,
            supplier_order_id=order.id, reference_number=f"{order.reference} receipt",
            notes=f"Received from {order.supplier_name}")))
        figures[part.id].received += quantity
    done = all(f.received >= f.ordered for f in figures.values())
    order.actual_delivery_date = when
    _move(session, SUPPLIER_ORDER, order, "receive", S.received if done else S.partially_received, who,
          note=f"{len(checked)} line(s) into {dest}.")
    return order


@command
def cancel_supplier_order(session, who: Who, order_id) -> m.SupplierOrder:
    """Cancel a supplier order that is ordered (nothing received yet).

    :returns: the :class:`~app.models.SupplierOrder`, now ``cancelled``.
    :raises OutOfScope: (404) not visible; :raises Forbidden: (403) not an admin of
        the ordering organization nor a Super Admin.
    :raises IllegalTransition: (409) partially received, received or cancelled already.
    """
    order = _load(session, m.SupplierOrder, order_id, "supplier order")
    require(may_cancel_supplier_order(who, order),
            _("Only an admin of the ordering organization or a Super Admin cancels a supplier order."))
    _move(session, SUPPLIER_ORDER, order, "cancel", S.cancelled, who)
    return order
