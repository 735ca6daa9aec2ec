"""Two-sided stock transfers: draft -> dispatched -> received (issue 8).

Read top to bottom: the states and their transitions, who may take each step,
then one command per step.

- **Dispatch** moves every line out of the source warehouse into the source
  organization's *transit location* (:func:`transit_location`), a warehouse
  row flagged ``is_transit`` that is no one's stock on hand.
- **Receipt** moves what the destination counted from transit into the
  destination warehouse.  A shortage stays in transit as a discrepancy.
- **Resolve** settles a discrepancy: *return* moves it back to the source
  warehouse, *write off* records a "transit loss" adjustment out of transit
  that posts only once an admin approves it.
- **Cancel** drops a draft.  **Transfer in one step** moves stock between two
  warehouses of one organization at once.

Every posting is an ordinary ledger row (``transactions``) linked to its
transfer by ``stock_transfer_id``, so ``verify-ledger`` checks transit stock
like any other, and :func:`line_figures` reads what was dispatched, received,
returned and written off from the ledger itself.
"""
from __future__ import annotations

import decimal
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .. import models as m
from ..errors import IllegalTransition, InvalidQuantity, OutOfScope, RuleViolation
from ..models.base import format_quantity
from ..rules.ledger import check_quantity, mark_workflow_posting
from ..scoping import system
from .base import StateMachine, Who, command, load_visible, now, recorded_at, require
from ..i18n import _

S = m.TransferStatus
T = m.TransactionType
D = decimal.Decimal
ZERO = D(0)
TRANSIT_NAME = "In transit"
WRITE_OFF_REASON = "transit loss"

#: The transfer's state machine: step -> (from states, to states).
TRANSITIONS = StateMachine(_("transfer"), {
    "dispatch": (frozenset({S.draft}), frozenset({S.dispatched})),
    "receive": (frozenset({S.dispatched}), frozenset({S.received, S.received_with_discrepancy})),
    "cancel": (frozenset({S.draft}), frozenset({S.cancelled})),
    "resolve": (frozenset({S.received_with_discrepancy}), frozenset({S.received_with_discrepancy})),
})

#: How a resolved discrepancy is settled.
RESOLUTIONS = ("return", "write_off")


# --- who may take which step ------------------------------------------------

def may_dispatch(who: Who, transfer: m.StockTransfer) -> bool:
    """The source organization's admins and users (and Oraseas staff) dispatch and cancel."""
    return who.acts_for(transfer.source_organization_id)


def may_receive(who: Who, transfer: m.StockTransfer) -> bool:
    """The destination organization's admins and users (and Oraseas staff) receive."""
    return who.acts_for(transfer.destination_organization_id)


def may_resolve(who: Who, transfer: m.StockTransfer) -> bool:
    """An admin of the source organization (or an Oraseas staff admin) settles a discrepancy."""
    return who.is_admin and who.acts_for(transfer.source_organization_id)


def allowed_actions(who: Who, transfer: m.StockTransfer) -> list[str]:
    """The steps ``who`` may take on ``transfer`` now (the buttons a screen shows).

    A customer order's shipment is received on its order, not here.
    """
    if transfer.customer_order_id is not None:
        return ["resolve"] if "resolve" in TRANSITIONS.allowed_steps(transfer.status) and may_resolve(
            who, transfer) else []
    checks = {"dispatch": may_dispatch, "cancel": may_dispatch, "receive": may_receive, "resolve": may_resolve}
    return [step for step in TRANSITIONS.allowed_steps(transfer.status) if checks[step](who, transfer)]


def destination_criterion(who: Who):
    """Where ``who`` may send stock, as a SQL criterion on ``organizations`` (issue 8):
    its own organization's family, Oraseas EE, and for Oraseas staff every customer;
    anywhere for a Super Admin.  The form's destination lookup and
    :func:`may_send_to` both use it, read across organizations."""
    o = m.Organization
    if who.is_super_admin:
        return sa.true()
    allowed = [o.organization_type == m.OrganizationType.oraseas_ee,
               o.id.in_(who.actor.visible_organization_ids or ())]
    if who.is_oraseas_staff:
        allowed.append(o.organization_type == m.OrganizationType.customer)
    return sa.or_(*allowed)


def may_send_to(session, who: Who, destination: m.Warehouse) -> bool:
    """Whether ``who`` may send stock to ``destination`` (:func:`destination_criterion`)."""
    o = m.Organization
    with system():
        return session.execute(sa.select(sa.exists().where(
            o.id == destination.organization_id, destination_criterion(who)))).scalar()


# --- the transit location ---------------------------------------------------

def transit_location(session, organization_id) -> m.Warehouse:
    """The organization's transit location, created on first use.

    At most one per organization (partial unique index
    ``uq_warehouses_transit_per_organization``); two first dispatches at once
    both end up with the same row (``INSERT ... ON CONFLICT DO NOTHING``).
    """
    w = m.Warehouse
    with system():
        found = session.execute(sa.select(w).where(w.organization_id == organization_id,
                                                   w.is_transit.is_(True))).scalar_one_or_none()
        if found is not None:
            return found
        insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[session.get_bind().dialect.name]
        when = now()
        session.execute(insert(w.__table__).values(
            id=uuid.uuid4(), organization_id=organization_id, name=TRANSIT_NAME, is_transit=True,
            is_active=True, description="Stock dispatched and not yet received (stock transfers).",
            created_at=when, updated_at=when,
        ).on_conflict_do_nothing(index_elements=["organization_id"], index_where=sa.text("is_transit")))
        return session.execute(sa.select(w).where(w.organization_id == organization_id,
                                                  w.is_transit.is_(True))).scalar_one()


# --- what the ledger says about a transfer -------------------------------

@dataclass
class LineFigures:
    """A transfer line as the ledger has it, in the part's unit of measure."""

    dispatched: D = ZERO
    received: D = ZERO
    returned: D = ZERO
    written_off: D = ZERO
    pending_write_off: D = ZERO

    @property
    def in_transit(self) -> D:
        """Dispatched and neither received, returned nor written off (approved)."""
        return self.dispatched - self.received - self.returned - self.written_off

    @property
    def open_discrepancy(self) -> D:
        """In transit and not yet put up for write-off: what is left to resolve."""
        return self.in_transit - self.pending_write_off


def line_figures(session, transfer: m.StockTransfer) -> dict:
    """``{part_id: LineFigures}`` of ``transfer``, read from its ledger rows (one query)."""
    t = m.Transaction
    with system():
        transit_id = session.execute(sa.select(m.Warehouse.id).where(
            m.Warehouse.organization_id == transfer.source_organization_id,
            m.Warehouse.is_transit.is_(True))).scalar_one_or_none()
        rows = session.execute(sa.select(
            t.part_id, t.transaction_type, t.from_warehouse_id, t.to_warehouse_id, t.quantity,
            t.requires_approval, t.approval_status,
        ).where(t.stock_transfer_id == transfer.id)).all()
    figures = {line.part_id: LineFigures() for line in transfer.lines}
    for part_id, kind, source, dest, quantity, needs_approval, approval in rows:
        f = figures.setdefault(part_id, LineFigures())
        if kind == T.adjustment:
            if not needs_approval or approval == m.ApprovalStatus.approved.value:
                f.written_off += quantity
            elif approval == m.ApprovalStatus.pending.value:
                f.pending_write_off += quantity
        elif source == transfer.from_warehouse_id and dest == transit_id:
            f.dispatched += quantity
        elif source == transit_id and dest == transfer.to_warehouse_id:
            f.received += quantity
        elif source == transit_id and dest == transfer.from_warehouse_id:
            f.returned += quantity
        elif source == transfer.from_warehouse_id and dest == transfer.to_warehouse_id:
            f.dispatched += quantity  # in one step: dispatched and received at once
            f.received += quantity
    return figures


# --- helpers of the commands ------------------------------------------------

def transfer_posting(transfer: m.StockTransfer, who: Who, kind, part_id, quantity, source_id, dest_id, step: str,
                     **extra) -> m.Transaction:
    """A ledger row of ``transfer``'s ``step`` (dispatch, receipt, return, write-off):
    ``quantity`` of the part, in its unit, from ``source_id`` to ``dest_id``,
    recorded as ``who`` at :func:`~app.workflows.base.now`, referenced
    "<transfer reference> <step>", marked as a workflow posting (the rules
    allow transit and cross-organization movements only from a workflow)."""
    return mark_workflow_posting(m.Transaction(
        id=uuid.uuid4(), transaction_type=kind, part_id=part_id, quantity=quantity,
        from_warehouse_id=source_id, to_warehouse_id=dest_id, performed_by_user_id=who.user.id,
        transaction_date=now(), stock_transfer_id=transfer.id,
        reference_number=f"{transfer.reference_number} {step}"[:100], **extra,
    ))


def usable_warehouse(session, warehouse_id, label: str, unscoped: bool = False) -> m.Warehouse:
    """The active, non-transit warehouse ``warehouse_id`` (scoped unless ``unscoped``).

    :param label: its role in messages ("source", "destination", "receiving").
    :raises RuleViolation: (422) no such warehouse for the actor, a transit location, or inactive.
    """
    key = m.parse_uuid(warehouse_id)
    if unscoped:
        with system():
            found = session.get(m.Warehouse, key) if key else None
    else:
        found = session.get(m.Warehouse, key) if key else None
    if found is None or found.is_transit:
        raise RuleViolation(_("The %(label)s warehouse does not exist (or is not yours to use).", label=label))
    if not found.is_active:
        raise RuleViolation(_("Warehouse %(found)s is inactive: only active warehouses receive or issue "
                              "stock.",
                              found=found))
    return found


def _lines(session, lines) -> list[tuple[m.Part, D]]:
    """Validate ``[(part_id, quantity)]``: at least one, each part once, unit rules."""
    if not lines:
        raise RuleViolation(_("A transfer needs at least one line (a part and a quantity)."))
    out, seen = [], set()
    for number, (part_id, quantity) in enumerate(lines, start=1):
        key = m.parse_uuid(part_id)
        part = session.get(m.Part, key) if key else None
        if part is None:
            raise RuleViolation(_("Line %(number)s: there is no part with id %(part_id)s.",
                                  number=number, part_id=part_id))
        if part.id in seen:
            raise RuleViolation(_("A transfer lists each part once; %(part_number)s appears twice.",
                                  part_number=part.part_number))
        seen.add(part.id)
        out.append((part, check_quantity(quantity, part, _("Line %(number)s (%(part_number)s) quantity",
                                                           number=number, part_number=part.part_number))))
    return out


def _new_transfer(session, who: Who, from_warehouse_id, to_warehouse_id, lines, notes) -> m.StockTransfer:
    transfer = _build_transfer(session, who, from_warehouse_id, to_warehouse_id, lines, notes)
    session.add(transfer)  # its lines come with it
    return transfer


def _build_transfer(session, who: Who, from_warehouse_id, to_warehouse_id, lines, notes,
                    destinations: dict | None = None) -> m.StockTransfer:
    """A new ``draft`` transfer with its lines, checked, not yet in the session.

    :param destinations: ``{organization id: may send}`` answers of :func:`may_send_to`
        already asked for ``who`` (a batch asks once per organization).
    """
    source = usable_warehouse(session, from_warehouse_id, _("source"))
    require(who.is_super_admin or source.organization_id == who.organization.id,
            _("You may send stock only out of your own organization's warehouses, not %(source)s.",
              source=source))
    dest = usable_warehouse(session, to_warehouse_id, _("destination"), unscoped=True)
    if dest.id == source.id:
        raise RuleViolation(_("A transfer's source and destination warehouses must differ."))
    destinations = {} if destinations is None else destinations
    if dest.organization_id not in destinations:
        destinations[dest.organization_id] = may_send_to(session, who, dest)
    if not destinations[dest.organization_id]:
        raise OutOfScope(_("The destination warehouse does not exist (or is not yours to use)."))
    checked = _lines(session, lines)
    when = now()
    transfer = m.StockTransfer(
        id=uuid.uuid4(), reference_number=f"TR-{when:%y%m%d}-{uuid.uuid4().hex[:6].upper()}",
        created_at=when, updated_at=when,
        from_warehouse_id=source.id, to_warehouse_id=dest.id, source_organization_id=source.organization_id,
        destination_organization_id=dest.organization_id, status=S.draft, notes=notes,
        created_by_user_id=who.user.id,
    )
    for number, (part, quantity) in enumerate(checked, start=1):
        m.StockTransferLine(id=uuid.uuid4(), stock_transfer=transfer, line_number=number,
                            part_id=part.id, quantity=quantity)
    return transfer


def load_transfer(session, transfer_id, for_update: bool = False) -> m.StockTransfer:
    """The transfer ``transfer_id`` as the actor sees it (scoped; locked with ``for_update``).

    :raises OutOfScope: (404) no such transfer for this actor.
    """
    return load_visible(session, m.StockTransfer, transfer_id, "stock transfer", for_update)


# --- the commands ------------------------------------------------------------

@command
def create_transfer(session, who: Who, from_warehouse_id, to_warehouse_id, lines, notes: str | None = None
                    ) -> m.StockTransfer:
    """Create a ``draft`` transfer.

    :param from_warehouse_id: the source warehouse, one of the actor's organization's.
    :param to_warehouse_id: the destination (:func:`may_send_to`).
    :param lines: ``[(part_id, quantity)]``, quantities in the part's unit of measure.
    :returns: the new :class:`~app.models.StockTransfer`.
    :raises Forbidden: the source is another organization's warehouse.
    :raises OutOfScope: the destination is not one the actor may send to.
    :raises RuleViolation, InvalidQuantity: no lines, a part twice, unit rules, inactive warehouses.
    """
    return _new_transfer(session, who, from_warehouse_id, to_warehouse_id, lines, notes)


@command
def dispatch_transfer(session, who: Who, transfer_id) -> m.StockTransfer:
    """Dispatch a draft: every line leaves the source warehouse for the transit location.

    :raises OutOfScope: (404) the actor does not see the transfer.
    :raises Forbidden: (403) the actor is not on the source side.
    :raises IllegalTransition: (409) the transfer is not a draft (e.g. dispatched already).
    :raises InsufficientStock: (422) the source lacks stock of a line's part, naming it.
    """
    transfer = load_transfer(session, transfer_id, for_update=True)
    require(may_dispatch(who, transfer), _("Only the sending organization dispatches a transfer."))
    TRANSITIONS.move(transfer, "dispatch", S.dispatched)
    transit = transit_location(session, transfer.source_organization_id)
    for line in transfer.lines:
        session.add(transfer_posting(transfer, who, T.transfer, line.part_id, line.quantity,
                             transfer.from_warehouse_id, transit.id, "dispatch"))
    transfer.dispatched_by_user_id, transfer.dispatched_at = who.user.id, now()
    return transfer


@command
def receive_transfer(session, who: Who, transfer_id, received: dict) -> m.StockTransfer:
    """Receive a dispatched transfer: what arrived moves from transit into the destination.

    :param received: ``{part_id: quantity received}`` for every line, in the part's
        unit; 0 to the quantity dispatched.  Less than dispatched leaves the
        difference in transit as a discrepancy (state ``received_with_discrepancy``).
    :raises OutOfScope: (404) not visible; :raises Forbidden: (403) not the receiving side.
    :raises IllegalTransition: (409) not dispatched (e.g. received already).
    :raises InvalidQuantity: (422) over-receipt, a negative or malformed quantity, a line missing.
    :raises RuleViolation: (422) a shipment of a customer order: it is received on its order.
    """
    transfer = load_transfer(session, transfer_id, for_update=True)
    require(may_receive(who, transfer), _("Only the receiving organization receives a transfer."))
    if transfer.customer_order_id is not None:
        raise RuleViolation(_("%(reference_number)s ships a customer order: receive it on the order.",
                              reference_number=transfer.reference_number))
    return receive_lines(session, who, transfer, received)


def receive_lines(session, who: Who, transfer: m.StockTransfer, received: dict) -> m.StockTransfer:
    """The receipt itself, for :func:`receive_transfer` and a customer order's receipt
    (:func:`app.workflows.orders.receive_customer_order`), once they have checked who
    receives and into which warehouse (``transfer.to_warehouse_id`` is set).

    :param received: as :func:`receive_transfer`.
    :returns: ``transfer``, ``received`` or ``received_with_discrepancy``.
    :raises IllegalTransition, InvalidQuantity, RuleViolation: as :func:`receive_transfer`.
    """
    TRANSITIONS.check("receive", transfer.status, transfer.reference_number)
    by_part = {m.parse_uuid(k): v for k, v in (received or {}).items()}
    unknown = set(by_part) - {line.part_id for line in transfer.lines}
    if unknown:
        raise RuleViolation(_("The receipt names a part that is not on this transfer."))
    transit = transit_location(session, transfer.source_organization_id)
    short = False
    for line in transfer.lines:
        part = line.part
        if line.part_id not in by_part:
            raise InvalidQuantity(_("Give the received quantity of every line; %(part_number)s is "
                                    "missing.",
                                    part_number=part.part_number))
        quantity = line.received_quantity = received_quantity(line, part, by_part[line.part_id])
        short = short or quantity < line.quantity
        if quantity > 0:
            session.add(transfer_posting(transfer, who, T.transfer, line.part_id, quantity, transit.id,
                                         transfer.to_warehouse_id, "receipt"))
    TRANSITIONS.move(transfer, "receive", S.received_with_discrepancy if short else S.received)
    transfer.received_by_user_id, transfer.received_at = who.user.id, now()
    return transfer


def received_quantity(line: m.StockTransferLine, part: m.Part, quantity) -> D:
    """The received ``quantity`` of ``line`` (as given: text, int, Decimal), checked: zero, or a
    valid quantity of ``part`` (its unit), at most what was dispatched.

    :raises InvalidQuantity: a malformed or negative quantity, or an over-receipt.
    """
    quantity = ZERO if is_zero(quantity) else check_quantity(quantity, part,
                                                             _("Received quantity of %(part_number)s",
                                                               part_number=part.part_number))
    if quantity > line.quantity:
        raise InvalidQuantity(
            _("Over-receipt refused: %(quantity)s of %(part_number)s received, only %(dispatched)s dispatched.",
              quantity=format_quantity(quantity, part.unit_of_measure, whole=part.is_whole_units),
              part_number=part.part_number, dispatched=format_quantity(line.quantity))
        )
    return quantity


def is_zero(quantity) -> bool:
    """Whether ``quantity`` (as given: text, int, Decimal) is a well-formed zero."""
    try:
        return quantity is not None and not isinstance(quantity, (bool, float)) and D(str(quantity)) == 0
    except decimal.InvalidOperation:
        return False


@command
def cancel_transfer(session, who: Who, transfer_id) -> m.StockTransfer:
    """Cancel a draft; nothing was posted, nothing is.

    :raises OutOfScope: (404); :raises Forbidden: (403) not the sending side;
    :raises IllegalTransition: (409) not a draft.
    """
    transfer = load_transfer(session, transfer_id, for_update=True)
    require(may_dispatch(who, transfer), _("Only the sending organization cancels a transfer."))
    TRANSITIONS.move(transfer, "cancel", S.cancelled)
    transfer.cancelled_by_user_id, transfer.cancelled_at = who.user.id, now()
    return transfer


@command
def resolve_discrepancy(session, who: Who, transfer_id, part_id, action: str, notes: str | None = None
                        ) -> m.Transaction:
    """Settle what a receipt left in transit for one line.

    :param action: ``"return"`` posts it back into the source warehouse;
        ``"write_off"`` records a "transit loss" adjustment out of transit that
        requires approval (an admin of the source organization, not the actor).
    :returns: the new ledger row.
    :raises OutOfScope: (404); :raises Forbidden: (403) not an admin of the source side;
    :raises IllegalTransition: (409) not received with a discrepancy, or nothing left open on the line.
    :raises RuleViolation: (422) an unknown action or a part not on the transfer.
    """
    transfer = load_transfer(session, transfer_id, for_update=True)
    require(may_resolve(who, transfer), _("Only an admin of the sending organization resolves a discrepancy."))
    TRANSITIONS.check("resolve", transfer.status, transfer.reference_number)
    if action not in RESOLUTIONS:
        raise RuleViolation(_('A discrepancy is resolved by "return" or "write_off".'))
    key = m.parse_uuid(part_id)
    line = next((ln for ln in transfer.lines if ln.part_id == key), None)
    if line is None:
        raise RuleViolation(_("The part is not on this transfer."))
    left = line_figures(session, transfer)[line.part_id].open_discrepancy
    if left <= 0:
        raise IllegalTransition(
            _("Nothing is left to resolve for %(part_number)s on %(reference_number)s.",
              part_number=line.part.part_number, reference_number=transfer.reference_number))
    transit = transit_location(session, transfer.source_organization_id)
    if action == "return":
        txn = transfer_posting(transfer, who, T.transfer, line.part_id, left, transit.id, transfer.from_warehouse_id,
                       "return", notes=notes)
    else:
        txn = transfer_posting(transfer, who, T.adjustment, line.part_id, left, transit.id, None, "write-off",
                       requires_approval=True, notes=f"{WRITE_OFF_REASON}: {notes}" if notes else WRITE_OFF_REASON)
    session.add(txn)
    return txn


@command
def transfer_in_one_step(session, who: Who, from_warehouse_id, to_warehouse_id, lines, notes: str | None = None
                         ) -> m.StockTransfer:
    """Move stock between two warehouses of one organization at once (dispatched and received).

    :raises RuleViolation: the warehouses belong to different organizations
        (those transfers always go through dispatch and receipt), or the lines break a rule.
    :raises Forbidden, OutOfScope, InvalidQuantity, InsufficientStock: as :func:`create_transfer`
        and :func:`dispatch_transfer`.
    """
    transfer = _new_transfer(session, who, from_warehouse_id, to_warehouse_id, lines, notes)
    if not transfer.is_internal:
        raise RuleViolation(_("Transfers between organizations go through dispatch and receipt; only a "
                              "transfer within one organization is done in one step."))
    transfer.status = S.received
    when = now()
    transfer.dispatched_by_user_id = transfer.received_by_user_id = who.user.id
    transfer.dispatched_at = transfer.received_at = when
    for line in transfer.lines:
        line.received_quantity = line.quantity
        session.add(transfer_posting(transfer, who, T.transfer, line.part_id, line.quantity,
                             transfer.from_warehouse_id, transfer.to_warehouse_id, "in one step"))
    return transfer


# --- shipments recorded in bulk -----------------------------------------------

@dataclass
class Shipment:
    """A transfer dispatched and received, recorded after the fact by :func:`record_shipments`.

    :ivar lines: ``[(part_id, quantity dispatched, quantity received)]`` in the part's unit;
        less received than dispatched leaves a discrepancy in transit.
    :ivar dispatched_by: who created and dispatched it; :ivar received_by: who received it.
    """

    from_warehouse_id: uuid.UUID
    to_warehouse_id: uuid.UUID
    lines: list
    dispatched_by: Who
    received_by: Who
    dispatched_at: object
    received_at: object
    notes: str | None = None


def record_shipments(session, items: list) -> list:
    """Record many shipments (and other ledger records between them) in one go: seeding, an
    import of history.  Each :class:`Shipment` is checked as :func:`create_transfer`,
    :func:`dispatch_transfer` and :func:`receive_transfer` check their steps (its dispatcher
    may send from the source to the destination, its receiver acts for the destination, the
    lines' quantities, no over-receipt); its document and lines are inserted with a statement
    per table, and its dispatch and receipt postings go through the bulk posting path
    (:func:`app.rules.bulk.post_batch`) in their place among the other ``items``, so every
    running balance is checked in the order things happened.

    :param items: :class:`Shipment` objects and unsaved transactions, part usage records and
        stock adjustments, in the order they happened.  Each record is posted as its own
        performer (run it without an acting user, or with the user every record names).
    :returns: ``items`` with each shipment replaced by its :class:`~app.models.StockTransfer`.
    :raises Forbidden, OutOfScope, RuleViolation, InvalidQuantity, InsufficientStock, LimitReached:
        the first item that breaks a rule; nothing is written once the caller rolls back.
    """
    from ..rules.bulk import insert_rows, post_batch

    destinations: dict = {}
    transits: dict = {}
    out, postings, documents = [], [], []
    for item in items:
        if not isinstance(item, Shipment):
            out.append(item)
            postings.append(item)
            continue
        who = item.dispatched_by
        with recorded_at(item.dispatched_at):
            transfer = _build_transfer(session, who, item.from_warehouse_id, item.to_warehouse_id,
                                       [(part_id, sent) for part_id, sent, _ in item.lines], item.notes,
                                       destinations.setdefault(who.user.id, {}))
        require(item.received_by.acts_for(transfer.destination_organization_id),
                _("Only the receiving organization receives a transfer."))
        if transfer.source_organization_id not in transits:
            transits[transfer.source_organization_id] = transit_location(session, transfer.source_organization_id).id
        transit = transits[transfer.source_organization_id]
        short = False
        for line, (_part_id, _sent, received) in zip(transfer.lines, item.lines):
            with recorded_at(item.dispatched_at):
                postings.append(transfer_posting(transfer, who, T.transfer, line.part_id, line.quantity,
                                                 transfer.from_warehouse_id, transit, "dispatch"))
            part = session.get(m.Part, line.part_id)
            quantity = line.received_quantity = received_quantity(line, part, received)
            short = short or quantity < line.quantity
            if quantity > 0:
                with recorded_at(item.received_at):
                    postings.append(transfer_posting(transfer, item.received_by, T.transfer, line.part_id,
                                                     quantity, transit, transfer.to_warehouse_id, "receipt"))
        transfer.status = S.received_with_discrepancy if short else S.received
        transfer.dispatched_by_user_id, transfer.dispatched_at = who.user.id, item.dispatched_at
        transfer.received_by_user_id, transfer.received_at = item.received_by.user.id, item.received_at
        transfer.updated_at = item.received_at
        documents.append(transfer)
        out.append(transfer)
    insert_rows(session, documents)
    insert_rows(session, [line for transfer in documents for line in transfer.lines])
    post_batch(session, postings)
    return out
