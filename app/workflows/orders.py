"""Customer and supplier orders: their states and the steps between them (issues 8 and 10).

Read top to bottom: the two state machines, who may take each step, then one
command per step.  The tables hold every transition of issue 10; the commands
here are only the steps that move no stock (approve, cancel).  Shipping and
receiving post stock and belong to issue 10: their rows are declared so that
those commands only add code, and :func:`allowed_actions` offers a step only
once it has a command.

A status changes only through these commands: they mark the change
(:func:`app.rules.orders.mark_workflow_status`), and the rule hook
:func:`app.rules.orders.check_order_status` refuses every other change.
"""
from __future__ import annotations

from .. import models as m
from ..rules.orders import mark_workflow_status
from .base import StateMachine, Who, command, load_visible, require

C = m.CustomerOrderStatus
S = m.SupplierOrderStatus

#: The customer order's state machine: step -> (from states, to states).
CUSTOMER_ORDER = StateMachine("customer order", {
    "approve": (frozenset({C.requested}), frozenset({C.approved})),
    # issue 10: a partial shipment or receipt keeps the state until the last line (not yet implemented)
    "ship": (frozenset({C.approved}), frozenset({C.shipped})),
    "receive": (frozenset({C.shipped}), frozenset({C.received})),
    "cancel": (frozenset({C.requested, C.approved}), frozenset({C.cancelled})),
})

#: The supplier order's state machine: step -> (from states, to states).
SUPPLIER_ORDER = StateMachine("supplier order", {
    # issue 10: receiving part of the lines leaves it partially received (not yet implemented)
    "receive": (frozenset({S.ordered, S.partially_received}), frozenset({S.partially_received, S.received})),
    "cancel": (frozenset({S.ordered}), frozenset({S.cancelled})),
})


# --- who may take which step ------------------------------------------------

def may_approve(who: Who, order: m.CustomerOrder) -> bool:
    """An Admin of Oraseas EE (which supplies every customer order) or a Super Admin approves."""
    return who.is_super_admin or (
        who.is_admin and who.organization.organization_type == m.OrganizationType.oraseas_ee)


def may_cancel_customer_order(who: Who, order: m.CustomerOrder) -> bool:
    """The ordering customer's users and admins, and Oraseas staff, cancel."""
    return who.acts_for(order.customer_organization_id)


def may_cancel_supplier_order(who: Who, order: m.SupplierOrder) -> bool:
    """The ordering organization's admins, or a Super Admin, cancel."""
    return who.is_super_admin or (who.is_admin and who.organization.id == order.ordering_organization_id)


#: The steps with a command, per kind of order -> who may take them.
_CHECKS = {
    m.CustomerOrder: (CUSTOMER_ORDER, {"approve": may_approve, "cancel": may_cancel_customer_order}),
    m.SupplierOrder: (SUPPLIER_ORDER, {"cancel": may_cancel_supplier_order}),
}


def allowed_actions(who: Who, order) -> list[str]:
    """The steps ``who`` may take on ``order`` (a customer or supplier order) now: the buttons a screen shows."""
    machine, checks = _CHECKS[type(order)]
    return [step for step in machine.allowed_steps(order.status) if step in checks and checks[step](who, order)]


# --- the commands ------------------------------------------------------------

def _load(session, model, order_id, what: str):
    return load_visible(session, model, order_id, what, for_update=True)


def _move(machine: StateMachine, order, step: str, state) -> None:
    machine.move(order, step, state)
    mark_workflow_status(order)


@command
def approve_customer_order(session, who: Who, order_id) -> m.CustomerOrder:
    """Approve a requested customer order (Oraseas EE accepts it).

    :returns: the :class:`~app.models.CustomerOrder`, now ``approved``.
    :raises OutOfScope: (404) the actor does not see the order.
    :raises Forbidden: (403) not an Admin of Oraseas EE nor a Super Admin.
    :raises IllegalTransition: (409) the order is not ``requested``; the message names its state.
    """
    order = _load(session, m.CustomerOrder, order_id, "customer order")
    require(may_approve(who, order), "Only an Admin of Oraseas EE or a Super Admin approves a customer order.")
    _move(CUSTOMER_ORDER, order, "approve", C.approved)
    return order


@command
def cancel_customer_order(session, who: Who, order_id) -> m.CustomerOrder:
    """Cancel a customer order that is requested or approved (nothing has shipped).

    :returns: the :class:`~app.models.CustomerOrder`, now ``cancelled``.
    :raises OutOfScope: (404) not visible; :raises Forbidden: (403) neither the
        ordering customer nor Oraseas staff.
    :raises IllegalTransition: (409) shipped, received or cancelled already.
    """
    order = _load(session, m.CustomerOrder, order_id, "customer order")
    require(may_cancel_customer_order(who, order),
            "Only the ordering customer or Oraseas EE's staff cancel a customer order.")
    _move(CUSTOMER_ORDER, order, "cancel", C.cancelled)
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
            "Only an admin of the ordering organization or a Super Admin cancels a supplier order.")
    _move(SUPPLIER_ORDER, order, "cancel", S.cancelled)
    return order
