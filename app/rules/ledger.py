"""The stock ledger: validation and posting of transactions (seed 000, issue 3).

Every movement enters through the session hooks in :mod:`app.rules`, whatever
wrote it (FAB forms, the REST API, commands, seed data, workflows):

- creation adds to ``to_warehouse``; transfer takes from ``from_warehouse`` and
  adds to ``to_warehouse``; consumption takes from ``from_warehouse``;
  adjustment adds to ``to_warehouse`` or takes from ``from_warehouse``.
- A part usage record posts a consumption, a stock adjustment an adjustment,
  in the same database transaction.
- A transaction that requires approval posts nothing until a
  :class:`~app.models.TransactionApproval` approves it.
- Balances change only by atomic conditional updates taken in a fixed order
  (warehouse id, part id), so concurrent postings neither lose an update nor
  deadlock, and a balance never goes below zero unless ``ALLOW_NEGATIVE_STOCK``.
- The ledger is append-only; a mistake is corrected by :func:`reverse`.
"""
from __future__ import annotations

import decimal
import uuid
from collections import defaultdict
from typing import Iterable

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import inspect
from sqlalchemy.dialects import postgresql, sqlite

from .. import models as m
from ..errors import (
    Forbidden,
    IllegalTransition,
    InsufficientStock,
    InvalidQuantity,
    LedgerImmutable,
    OutOfScope,
    RuleViolation,
)
from ..models.base import format_quantity
from ..models.types import utcnow
from ..scoping import Actor
from ..i18n import _

T = m.TransactionType
MAX_QUANTITY = decimal.Decimal("9999999.999")  # DECIMAL(10,3)
#: Records that are part of the books: never edited or deleted once written.
IMMUTABLE = (m.Transaction, m.PartUsage, m.StockAdjustment, m.TransactionApproval)


# --- quantities ---------------------------------------------------------------

#: The default name of a quantity in its messages ("Quantity must be greater than zero.").
QUANTITY = _("Quantity")


def check_quantity(quantity, part: m.Part, field: str = QUANTITY) -> decimal.Decimal:
    """Validate a movement quantity in ``part``'s unit of measure.

    :param quantity: a :class:`~decimal.Decimal` (or int); floats are refused.
    :returns: the quantity as a Decimal.
    :raises InvalidQuantity: not positive, not finite, more than 3 decimal places,
        too large for DECIMAL(10,3), or fractional for a part counted in whole units.
    """
    if quantity is None:
        raise InvalidQuantity(_("%(field)s is required.", field=field))
    if isinstance(quantity, bool) or isinstance(quantity, float):
        raise InvalidQuantity(_("%(field)s must be given as a decimal number, not a floating-point value.",
                                field=field))
    if isinstance(quantity, int):
        quantity = decimal.Decimal(quantity)
    if not isinstance(quantity, decimal.Decimal):
        try:
            quantity = decimal.Decimal(str(quantity))
        except decimal.InvalidOperation:
            raise InvalidQuantity(_("%(field)s must be a number.", field=field)) from None
    if not quantity.is_finite():
        raise InvalidQuantity(_("%(field)s must be a finite number.", field=field))
    if quantity <= 0:
        raise InvalidQuantity(_("%(field)s must be greater than zero.", field=field))
    if quantity > MAX_QUANTITY:
        raise InvalidQuantity(_("%(field)s must be at most %(max_quantity)s.",
                                field=field, max_quantity=MAX_QUANTITY))
    if quantity != quantity.quantize(decimal.Decimal("0.001"), rounding=decimal.ROUND_DOWN):
        raise InvalidQuantity(_("%(field)s may have at most 3 decimal places; %(quantity)s has more.",
                                field=field, quantity=quantity))
    if part.is_whole_units and quantity != quantity.to_integral_value():
        raise InvalidQuantity(
            _("%(part_number)s is a consumable counted in whole %(unit_of_measure)s; %(quantity)s is not "
              "a whole number.",
              part_number=part.part_number, unit_of_measure=part.unit_of_measure, quantity=quantity)
        )
    return quantity


# --- movements ----------------------------------------------------------------

def movements(txn: m.Transaction) -> list[tuple]:
    """The balance changes of a transaction: ``[(warehouse_id, part_id, signed quantity)]``."""
    q = txn.quantity
    out = []
    if txn.from_warehouse_id is not None:
        out.append((txn.from_warehouse_id, txn.part_id, -q))
    if txn.to_warehouse_id is not None:
        out.append((txn.to_warehouse_id, txn.part_id, q))
    return out


#: ``session.info`` key of a batch's ``{(model, primary key): object}`` (:func:`lookup`).
LOOKUP = "abparts_lookup"


def lookup(session, model, key):
    """``session.get(model, key)``, first asking the objects a batch put in ``session.info[LOOKUP]``
    (the bulk posting path loads them in a query per table: a dict beats the identity map)."""
    found = session.info.get(LOOKUP, {}).get((model, key))
    return found if found is not None else session.get(model, key)


def given(obj, relation: str):
    """The related object set on (or loaded into) ``obj``'s ``relation``, or ``None``: where it
    is not, the foreign-key column is the truth.  Never a lazy load (a record being posted
    names its relations by id or by object; the bulk path posts thousands at a time)."""
    return obj.__dict__.get(relation)


def _resolve(txn: m.Transaction) -> None:
    """Copy related objects' ids into the foreign-key columns (forms set relationships)."""
    for rel in ("part", "from_warehouse", "to_warehouse", "machine", "performed_by_user", "reversal_of"):
        obj = given(txn, rel)
        if obj is not None:
            if obj.id is None:
                obj.id = uuid.uuid4()
            setattr(txn, f"{rel}_id", obj.id)


def organizations_of(from_warehouse: m.Warehouse | None,
                     to_warehouse: m.Warehouse | None) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The organizations a ledger row carries: the owners of its source and destination warehouses.

    Every posting path fills ``transactions.from_organization_id`` and
    ``to_organization_id`` with these (organization scoping reads them, issue 15).

    :param from_warehouse: the source warehouse, or ``None``; ``to_warehouse`` likewise.
    :returns: ``(from_organization_id, to_organization_id)``, ``None`` where there is no warehouse.
    """
    return (from_warehouse.organization_id if from_warehouse is not None else None,
            to_warehouse.organization_id if to_warehouse is not None else None)


def validate(session, txn: m.Transaction, actor: Actor | None) -> None:
    """Check one transaction against every ledger rule and fill its defaults.

    Defaults: ``unit_of_measure`` from the part, ``performed_by_user`` the actor,
    ``transaction_date`` now, ``approval_status`` ``pending`` when approval is required;
    always: the warehouses' organizations (:func:`organizations_of`).

    :raises InvalidQuantity, RuleViolation, OutOfScope: naming the rule.
    """
    _resolve(txn)
    part = lookup(session, m.Part, txn.part_id) if txn.part_id else None
    if part is None:
        raise RuleViolation(_("A transaction needs a part."))
    kind = txn.transaction_type
    if kind is None:
        raise RuleViolation(_("A transaction needs a type: creation, transfer, consumption or adjustment."))
    txn.quantity = check_quantity(txn.quantity, part)
    if txn.unit_of_measure in (None, ""):
        txn.unit_of_measure = part.unit_of_measure
    elif txn.unit_of_measure != part.unit_of_measure:
        raise RuleViolation(
            _("The unit of measure must be the part's (%(unit_of_measure)s), not %(unit_of_measure2)s.",
              unit_of_measure=part.unit_of_measure, unit_of_measure2=txn.unit_of_measure)
        )
    source = lookup(session, m.Warehouse, txn.from_warehouse_id) if txn.from_warehouse_id else None
    dest = lookup(session, m.Warehouse, txn.to_warehouse_id) if txn.to_warehouse_id else None
    for label, warehouse_id, warehouse in ((_("source"), txn.from_warehouse_id, source),
                                           (_("destination"), txn.to_warehouse_id, dest)):
        if warehouse_id is not None and warehouse is None:
            raise RuleViolation(_("The %(label)s warehouse does not exist: stock moves only between "
                                  "existing warehouses.",
                                  label=label))
    _check_warehouses(kind, source, dest)
    txn.from_organization_id, txn.to_organization_id = organizations_of(source, dest)
    # A recorded transaction being approved passed these checks when it was recorded.
    by_workflow = is_workflow_posting(txn) or inspect(txn).persistent
    _check_transit(kind, source, dest, by_workflow)
    if not by_workflow and (txn.stock_transfer_id is not None or txn.supplier_order_id is not None):
        raise RuleViolation(_("A ledger row of a stock transfer or a supplier order is posted only by "
                              "its workflow step (dispatch, receipt ...), never directly."))
    if actor is not None and actor.user_id is not None:
        txn.performed_by_user_id = actor.user_id
    if txn.performed_by_user_id is None:
        raise RuleViolation(_("A transaction must have the user who performed it."))
    performer = lookup(session, m.PortalUser, txn.performed_by_user_id)
    if by_workflow:
        pass  # the workflow command checked who may take its step (app.workflows)
    elif txn.reversal_of_id is not None:
        # Undoing a movement takes the authority of the movement undone.
        _check_may_move(performer, dest, source)
    else:
        _check_may_move(performer, source, dest)
    txn.performed_by_user = performer
    if txn.machine_id is not None:
        machine = lookup(session, m.Machine, txn.machine_id)
        owner = (source or dest).organization_id
        if machine is None or machine.customer_organization_id != owner:
            raise RuleViolation(_("The machine must belong to the organization that owns the source "
                                  "warehouse."))
    if txn.transaction_date is None:
        txn.transaction_date = utcnow()
    if txn.requires_approval and txn.approval_status is None:
        txn.approval_status = m.ApprovalStatus.pending.value
    if not txn.requires_approval:
        txn.approval_status = None


def _check_warehouses(kind, source, dest) -> None:
    needs = {
        T.creation: (False, True),
        T.consumption: (True, False),
        T.transfer: (True, True),
    }
    if kind == T.adjustment:
        if (source is None) == (dest is None):
            raise RuleViolation(
                _("An adjustment names exactly one warehouse: the destination to add stock, or the "
                  "source to take it away.")
            )
    else:
        need_source, need_dest = needs[kind]
        if need_source != (source is not None) or need_dest != (dest is not None):
            parts = []
            parts.append("a source warehouse" if need_source else "no source warehouse")
            parts.append("a destination warehouse" if need_dest else "no destination warehouse")
            raise RuleViolation(_("A %(kind)s transaction needs %(value)s.",
                                  kind=kind, value=' and '.join(parts)))
    if source is not None and dest is not None and source.id == dest.id:
        raise RuleViolation(_("A transfer's source and destination warehouses must differ."))
    for wh in (source, dest):
        if wh is not None and not wh.is_active:
            raise RuleViolation(_("Warehouse %(wh)s is inactive: only active warehouses receive or issue "
                                  "stock.",
                                  wh=wh))


def mark_workflow_posting(txn):
    """Mark ``txn`` as built by a workflow command (a transfer's dispatch, receipt ...).

    A :class:`~app.models.StockAdjustment` may be marked too (a stocktake's
    correction): the transaction derived from it carries the mark.

    Only code can set the mark, never a form or a payload.  A marked posting
    may move stock in or out of a transit location and between organizations;
    the command that built it has checked who may take the step.

    :returns: ``txn``.
    """
    txn._abparts_workflow = True
    return txn


def is_workflow_posting(txn: m.Transaction) -> bool:
    """Whether ``txn`` was built by a workflow command (:func:`mark_workflow_posting`)."""
    return bool(getattr(txn, "_abparts_workflow", False))


def _check_transit(kind, source, dest, by_workflow: bool) -> None:
    """Transit stock and cross-organization transfers move only through the transfer workflow (issue 8).

    :raises RuleViolation: a direct posting into or out of a transit location, or
        a direct transfer between two organizations' warehouses.
    """
    if by_workflow:
        return
    for wh in (source, dest):
        if wh is not None and wh.is_transit:
            raise RuleViolation(
                _("Stock in transit moves only through its transfer's receipt, return or write-off "
                  "(Inventory > Stock Transfers).")
            )
    if kind == T.transfer and source is not None and dest is not None \
            and source.organization_id != dest.organization_id:
        raise RuleViolation(
            _("Transfers between organizations go through dispatch and receipt: create a stock transfer "
              "(Inventory > Stock Transfers) instead of a transfer transaction.")
        )


def _check_may_move(performer, source, dest) -> None:
    """Only the organization that owns a warehouse (or a Super Admin) moves stock out of it,
    or into it when nothing leaves another warehouse."""
    if performer is None:
        raise RuleViolation(_("The user who performed the transaction does not exist."))
    if any(r.name == "Super Admin" for r in performer.roles):
        return
    owned = source if source is not None else dest
    if owned.organization_id != performer.organization_id:
        raise OutOfScope(_("You may move stock only out of your own organization's warehouses, not "
                           "%(owned)s.",
                           owned=owned))


# --- posting -------------------------------------------------------------------

def post(session, transactions: Iterable[m.Transaction]) -> None:
    """Apply the balance changes of ``transactions`` to ``inventory``.

    Net changes per (warehouse, part) are applied in a fixed order, each as one
    atomic conditional ``UPDATE``; a missing inventory row is created first
    (``INSERT ... ON CONFLICT DO NOTHING``) with the part's unit of measure.

    :raises InsufficientStock: when a balance would go below zero and
        ``ALLOW_NEGATIVE_STOCK`` is off; nothing is written (the caller rolls back).
    """
    net: dict[tuple, decimal.Decimal] = defaultdict(decimal.Decimal)
    for txn in transactions:
        for warehouse_id, part_id, delta in movements(txn):
            net[(warehouse_id, part_id)] += delta
    allow_negative = current_app.config.get("ALLOW_NEGATIVE_STOCK", False)
    keys = sorted((k for k in net if net[k]), key=lambda k: (str(k[0]), str(k[1])))
    if len(keys) > BATCH_BALANCES and session.get_bind().dialect.name == "postgresql":
        _apply_many(session, [(w, p, net[(w, p)]) for w, p in keys], allow_negative)
        return
    for (warehouse_id, part_id) in keys:
        _apply(session, warehouse_id, part_id, net[(warehouse_id, part_id)], allow_negative)


#: Above this many balances in one flush (a stocktake's corrections), PostgreSQL gets them
#: in three statements instead of one round trip each (:func:`_apply_many`).
BATCH_BALANCES = 16


_inv = m.Inventory.__table__


def _apply(session, warehouse_id, part_id, delta, allow_negative) -> None:
    where = [_inv.c.warehouse_id == warehouse_id, _inv.c.part_id == part_id]
    guard = [] if (allow_negative or delta > 0) else [_inv.c.current_stock + delta >= 0]
    update = (
        sa.update(_inv)
        .where(*where, *guard)
        .values(current_stock=_inv.c.current_stock + delta, last_updated=utcnow())
    )
    for _attempt in range(2):
        if session.execute(update).rowcount == 1:
            return
        on_hand = session.execute(sa.select(_inv.c.current_stock).where(*where)).scalar_one_or_none()
        if on_hand is not None or (delta < 0 and not allow_negative):
            part = session.get(m.Part, part_id)
            warehouse = session.get(m.Warehouse, warehouse_id)
            raise insufficient_stock(part, warehouse, on_hand or 0, -delta)
        _insert_missing(session, warehouse_id, part_id)
    raise RuntimeError("inventory row could not be created")  # pragma: no cover


#: The changes of :func:`_apply_many` as a table: three array parameters, whatever their number
#: (a statement of thousands of parameters costs more to build and send than to run).
_CHANGES = ("unnest(CAST(:warehouses AS uuid[]), CAST(:parts AS uuid[]), CAST(:deltas AS numeric[]))"
            " AS changes(warehouse_id, part_id, delta)")
_KEYS = "unnest(CAST(:warehouses AS uuid[]), CAST(:parts AS uuid[])) AS keys(warehouse_id, part_id)"


def _apply_many(session, changes: list[tuple], allow_negative: bool) -> None:
    """Apply ``[(warehouse_id, part_id, delta)]`` (sorted, PostgreSQL) in three statements.

    The same rules as :func:`_apply`, whatever the number of balances: missing
    rows are created at zero, the rows are locked in the fixed order (no
    deadlock with concurrent postings), then one conditional ``UPDATE ... FROM
    unnest(...)`` changes them all.

    :raises InsufficientStock: as :func:`_apply`; the caller rolls back.
    """
    keys = [c[:2] for c in changes]
    create_missing_balances(session, keys)
    lock_balances(session, keys)
    update_balances(session, changes, allow_negative)


def _is_postgresql(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _key_params(keys) -> dict:
    return {"warehouses": [k[0] for k in keys], "parts": [k[1] for k in keys], "now": utcnow()}


def create_missing_balances(session, keys: list[tuple]) -> None:
    """Create the stock records ``[(warehouse_id, part_id)]`` that do not exist yet, at zero,
    in the part's unit of measure (PostgreSQL: one statement; SQLite: one ``executemany``)."""
    if _is_postgresql(session):
        session.execute(sa.text(
            "INSERT INTO inventory (id, warehouse_id, part_id, current_stock, minimum_stock_recommendation,"
            " unit_of_measure, last_updated, created_at)"
            " SELECT gen_random_uuid(), keys.warehouse_id, keys.part_id, 0, 0, parts.unit_of_measure, :now, :now"
            f" FROM {_KEYS} JOIN parts ON parts.id = keys.part_id"
            " ON CONFLICT (warehouse_id, part_id) DO NOTHING"), _key_params(keys))
        return
    found = set(lock_balances(session, keys))
    missing = [k for k in keys if k not in found]
    units = dict(session.execute(sa.select(m.Part.id, m.Part.unit_of_measure)
                                 .where(m.Part.id.in_({p for _, p in missing}))).all()) if missing else {}
    now = utcnow()
    rows = [{"id": uuid.uuid4(), "warehouse_id": w, "part_id": p, "current_stock": 0,
             "minimum_stock_recommendation": 0, "unit_of_measure": units[p], "last_updated": now,
             "created_at": now} for w, p in missing]
    if rows:
        session.execute(sqlite.insert(_inv).on_conflict_do_nothing(index_elements=["warehouse_id", "part_id"]),
                        rows)


def lock_balances(session, keys: list[tuple]) -> dict:
    """The stock on hand of the existing records ``[(warehouse_id, part_id)]``, locked until the
    end of the transaction in the fixed (warehouse, part) order on PostgreSQL (SQLite's
    writer already holds the database's write lock).  :returns: ``{(warehouse_id, part_id): Decimal}``."""
    if _is_postgresql(session):
        rows = session.execute(sa.text(
            f"SELECT inventory.warehouse_id, inventory.part_id, inventory.current_stock FROM inventory"
            f" JOIN {_KEYS} ON inventory.warehouse_id = keys.warehouse_id AND inventory.part_id = keys.part_id"
            " ORDER BY inventory.warehouse_id, inventory.part_id FOR UPDATE OF inventory"),
            _key_params(keys)).all()
        return {(w, p): q for w, p, q in rows}
    out = {}
    pair = sa.tuple_(_inv.c.warehouse_id, _inv.c.part_id)
    for start in range(0, len(keys), 1000):
        out.update(((w, p), q) for w, p, q in session.execute(
            sa.select(_inv.c.warehouse_id, _inv.c.part_id, _inv.c.current_stock)
            .where(pair.in_(keys[start:start + 1000]))).all())
    return out


def update_balances(session, changes: list[tuple], allow_negative: bool) -> None:
    """Add each ``delta`` of ``[(warehouse_id, part_id, delta)]`` to its (existing, locked) stock
    record, refusing a balance below zero unless ``allow_negative`` (PostgreSQL: one
    ``UPDATE ... FROM unnest(...)``; SQLite: one ``executemany``).

    :raises InsufficientStock: naming the first balance that would go below zero.
    """
    if not changes:
        return
    now = utcnow()
    if _is_postgresql(session):
        params = {**_key_params(changes), "deltas": [d for _, _, d in changes]}
        guard = "" if allow_negative else " AND (changes.delta > 0 OR inventory.current_stock + changes.delta >= 0)"
        done = session.execute(sa.text(
            "UPDATE inventory SET current_stock = inventory.current_stock + changes.delta, last_updated = :now"
            f" FROM {_CHANGES} WHERE inventory.warehouse_id = changes.warehouse_id"
            f" AND inventory.part_id = changes.part_id{guard}"), params).rowcount
    else:
        delta = sa.bindparam("d", type_=_inv.c.current_stock.type)
        guard = [] if allow_negative else [sa.or_(delta > 0, _inv.c.current_stock + delta >= 0)]
        update = (sa.update(_inv).where(_inv.c.warehouse_id == sa.bindparam("w"), _inv.c.part_id == sa.bindparam("p"),
                                        *guard)
                  .values(current_stock=_inv.c.current_stock + delta, last_updated=now))
        done = session.execute(update, [{"w": w, "p": p, "d": d} for w, p, d in changes]).rowcount
    if done != len(changes):
        stock = lock_balances(session, [c[:2] for c in changes])
        warehouse_id, part_id, delta = next(c for c in changes if stock.get(c[:2], 0) + c[2] < 0)
        part, warehouse = session.get(m.Part, part_id), session.get(m.Warehouse, warehouse_id)
        raise insufficient_stock(part, warehouse, stock.get((warehouse_id, part_id), 0), -delta)


def insufficient_stock(part: m.Part, warehouse: m.Warehouse, on_hand, needed, where: str = "") -> InsufficientStock:
    """The refusal of a posting that would take ``warehouse``'s stock of ``part`` below zero.

    :param on_hand: the stock on hand, :param needed: the quantity the posting takes (part's unit).
    :param where: appended to the message, e.g. " (line 3 of the batch)".
    """
    return InsufficientStock(_("Not enough stock of %(part_number)s in %(warehouse)s: %(on_hand)s on hand, "
                               "%(needed)s needed%(where)s.",
                               part_number=part.part_number, warehouse=warehouse,
                               on_hand=format_quantity(on_hand, part.unit_of_measure, whole=part.is_whole_units),
                               needed=format_quantity(needed), where=where))


def _insert_missing(session, warehouse_id, part_id) -> None:
    part = session.get(m.Part, part_id)
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    now = utcnow()
    stmt = insert(_inv).values(
        id=uuid.uuid4(),
        warehouse_id=warehouse_id,
        part_id=part_id,
        current_stock=0,
        minimum_stock_recommendation=0,
        unit_of_measure=part.unit_of_measure,
        last_updated=now,
        created_at=now,
    ).on_conflict_do_nothing(index_elements=["warehouse_id", "part_id"])
    session.execute(stmt)


# --- records that post their own transaction ---------------------------------

def derive_part_usage(session, usage: m.PartUsage, actor: Actor | None) -> m.Transaction:
    """Build the consumption transaction of a new part usage record and add it to the session.

    :returns: the new :class:`~app.models.Transaction`.
    :raises RuleViolation: as :func:`usage_transaction`.
    """
    txn = usage_transaction(session, usage, actor)
    session.add(txn)
    return txn


def usage_transaction(session, usage: m.PartUsage, actor: Actor | None) -> m.Transaction:
    """The consumption transaction of a part usage record (not added to the session).

    The usage's organization becomes the one that owns its warehouse, and its
    recorder the acting user.

    :returns: the new :class:`~app.models.Transaction`, linked as ``usage.transaction``.
    :raises RuleViolation: when the warehouse or the recorder is missing.
    """
    warehouse = given(usage, "warehouse") or (
        lookup(session, m.Warehouse, usage.warehouse_id) if usage.warehouse_id else None)
    if warehouse is None:
        raise RuleViolation(_("A part usage record needs the warehouse the parts came from."))
    if actor is not None and actor.user_id is not None:
        usage.recorded_by_user = lookup(session, m.PortalUser, actor.user_id)
    recorder = given(usage, "recorded_by_user") or (
        lookup(session, m.PortalUser, usage.recorded_by_user_id) if usage.recorded_by_user_id else None
    )
    if recorder is None:
        raise RuleViolation(_("A part usage record must name the user who recorded it."))
    usage.customer_organization = lookup(session, m.Organization, warehouse.organization_id)
    if usage.usage_date is None:
        usage.usage_date = utcnow()
    txn = m.Transaction(
        id=uuid.uuid4(),
        transaction_type=T.consumption,
        part=given(usage, "part") or lookup(session, m.Part, usage.part_id),
        from_warehouse_id=warehouse.id,
        machine_id=given(usage, "machine").id if given(usage, "machine") is not None else usage.machine_id,
        quantity=usage.quantity,
        performed_by_user_id=recorder.id,
        transaction_date=usage.usage_date,
        notes=usage.notes,
        reference_number="part usage",
    )
    usage.transaction = txn
    return txn


def derive_stock_adjustment(session, adjustment: m.StockAdjustment, actor: Actor | None) -> m.Transaction:
    """Build the adjustment transaction of a new stock adjustment and add it to the session.

    :returns: the new :class:`~app.models.Transaction`.
    :raises InvalidQuantity, RuleViolation: as :func:`adjustment_transaction`.
    """
    txn = adjustment_transaction(session, adjustment, actor)
    session.add(txn)
    return txn


def adjustment_transaction(session, adjustment: m.StockAdjustment, actor: Actor | None) -> m.Transaction:
    """The adjustment transaction of a stock adjustment (not added to the session).

    A positive ``quantity_adjusted`` adds to the inventory's warehouse, a
    negative one takes from it.

    :returns: the new :class:`~app.models.Transaction`, linked as ``adjustment.transaction``.
    :raises InvalidQuantity: a zero adjustment; :raises RuleViolation: no inventory or user.
    """
    inventory = given(adjustment, "inventory") or (
        lookup(session, m.Inventory, adjustment.inventory_id) if adjustment.inventory_id else None
    )
    if inventory is None:
        raise RuleViolation(_("A stock adjustment needs the stock record (warehouse and part) it corrects."))
    if actor is not None and actor.user_id is not None:
        adjustment.user = lookup(session, m.PortalUser, actor.user_id)
    user = given(adjustment, "user") or (
        lookup(session, m.PortalUser, adjustment.user_id) if adjustment.user_id else None)
    if user is None:
        raise RuleViolation(_("A stock adjustment must name the user who made it."))
    if not adjustment.reason_code:
        raise RuleViolation(_("A stock adjustment needs a reason code."))
    qty = adjustment.quantity_adjusted
    if isinstance(qty, (float, bool)):
        raise InvalidQuantity(_("The quantity adjusted must be given as a decimal number, not a "
                                "floating-point value."))
    if qty is not None and not isinstance(qty, (decimal.Decimal, int)):
        try:
            qty = decimal.Decimal(str(qty))
        except decimal.InvalidOperation:
            raise InvalidQuantity(_("The quantity adjusted must be a number.")) from None
    if isinstance(qty, decimal.Decimal) and not qty.is_finite():
        raise InvalidQuantity(_("The quantity adjusted must be a finite number."))
    if qty is None or qty == 0:
        raise InvalidQuantity(_("An adjustment must change the stock: the quantity adjusted cannot be zero."))
    if adjustment.adjustment_date is None:
        adjustment.adjustment_date = utcnow()
    adding = qty > 0
    txn = m.Transaction(
        id=uuid.uuid4(),
        transaction_type=T.adjustment,
        part_id=inventory.part_id,
        to_warehouse_id=inventory.warehouse_id if adding else None,
        from_warehouse_id=None if adding else inventory.warehouse_id,
        quantity=abs(qty),
        performed_by_user_id=user.id,
        transaction_date=adjustment.adjustment_date,
        notes=adjustment.notes,
        reference_number=f"adjustment: {adjustment.reason_code}"[:100],
    )
    if is_workflow_posting(adjustment):
        mark_workflow_posting(txn)  # a stocktake's correction: the command checked who may post it
    adjustment.transaction = txn
    return txn


# --- approvals and reversals --------------------------------------------------

def decide(session, approval: m.TransactionApproval, actor: Actor | None) -> m.Transaction | None:
    """Apply an approval decision to its pending transaction.

    :returns: the transaction to post now (approved), or ``None`` (rejected).
    :raises IllegalTransition: the transaction is not pending approval (decided already).
    :raises Forbidden: the approver performed the transaction, or is not an admin of
        the organization that owns the stock (:func:`check_may_approve`).
    """
    if actor is not None and actor.user_id is not None:
        approval.approver = session.get(m.PortalUser, actor.user_id)
    approver = approval.approver or (session.get(m.PortalUser, approval.approver_id) if approval.approver_id else None)
    txn = approval.transaction or (session.get(m.Transaction, approval.transaction_id) if approval.transaction_id else None)
    if txn is None or approver is None:
        raise RuleViolation(_("An approval needs the transaction and the approver."))
    status = approval.status
    if status not in (m.ApprovalStatus.approved, m.ApprovalStatus.rejected):
        raise RuleViolation(_("An approval decision is either approved or rejected."))
    if not txn.requires_approval or txn.approval_status != m.ApprovalStatus.pending.value:
        raise IllegalTransition(_("Only a transaction pending approval can be approved or rejected, once."))
    if approver.id == txn.performed_by_user_id:
        raise Forbidden(_("A transaction must be approved by someone other than the user who recorded it."))
    check_may_approve(session, approver, txn)
    txn.approval_status = status.value
    txn._abparts_decided = True
    return txn if status == m.ApprovalStatus.approved else None


def check_may_approve(session, approver: m.PortalUser, txn: m.Transaction) -> None:
    """Only an admin of the organization that owns the stock moved, or Oraseas staff
    with approval rights (a Super Admin, or an Admin of Oraseas EE), decides on a
    transaction (issue 8, "Cross-organization approval").

    The owner is the organization of the source warehouse, or of the destination
    when nothing leaves a warehouse (a creation, an adding adjustment).

    :raises Forbidden: for anyone else, naming the organization whose admin may decide.
    """
    roles = {r.name for r in approver.roles}
    if "Super Admin" in roles:
        return
    owned_id = txn.from_warehouse_id or txn.to_warehouse_id
    owner = session.get(m.Warehouse, owned_id).organization
    if "Admin" in roles:
        if approver.organization_id == owner.id:
            return
        staff = session.get(m.Organization, approver.organization_id)
        if staff is not None and staff.organization_type == m.OrganizationType.oraseas_ee:
            return
    raise Forbidden(
        _("Only an admin of %(owner_name)s, whose stock this transaction moves, or Oraseas EE staff may "
          "approve or reject it.",
          owner_name=owner.name)
    )


OPPOSITE = {
    T.creation: T.adjustment,
    T.consumption: T.adjustment,
    T.transfer: T.transfer,
    T.adjustment: T.adjustment,
}


def reversal_of(original: m.Transaction, user_id: int, notes: str | None = None) -> m.Transaction:
    """Build the transaction that reverses ``original``: the opposite movement, linked to it.

    Add the result to the session and commit; the hooks check that the original
    is posted, is not itself a reversal, and has not been reversed before.

    :returns: a new, unsaved :class:`~app.models.Transaction`.
    """
    return m.Transaction(
        id=uuid.uuid4(),
        transaction_type=OPPOSITE[original.transaction_type],
        part_id=original.part_id,
        from_warehouse_id=original.to_warehouse_id,
        to_warehouse_id=original.from_warehouse_id,
        quantity=original.quantity,
        unit_of_measure=original.unit_of_measure,
        performed_by_user_id=user_id,
        transaction_date=utcnow(),
        reversal_of_id=original.id,
        reference_number=f"reversal of {original.reference_number or original.id}"[:100],
        notes=notes or f"Reversal of {original.transaction_type} of {original.quantity} {original.unit_of_measure}",
    )


def _check_reversal(session, txn: m.Transaction) -> None:
    original = session.get(m.Transaction, txn.reversal_of_id)
    if original is None:
        raise RuleViolation(_("The transaction to reverse does not exist."))
    if original.reversal_of_id is not None:
        raise RuleViolation(_("A reversal cannot itself be reversed; record a new transaction instead."))
    if original.stock_transfer_id is not None:
        raise RuleViolation(
            _("A stock transfer's postings are not reversed: a shortage is returned or written off "
              "through the transfer.")
        )
    if not original.is_posted:
        raise RuleViolation(_("Only a posted transaction can be reversed (this one is pending or rejected)."))
    taken = session.execute(
        sa.select(sa.func.count()).select_from(m.Transaction)
        .where(m.Transaction.reversal_of_id == original.id, m.Transaction.id != txn.id)
    ).scalar_one()
    if taken:
        raise IllegalTransition(_("This transaction has already been reversed; a transaction is reversed "
                                  "at most once."))
    expected = (OPPOSITE[original.transaction_type], original.part_id, original.to_warehouse_id,
                original.from_warehouse_id, original.quantity)
    actual = (txn.transaction_type, txn.part_id, txn.from_warehouse_id, txn.to_warehouse_id, txn.quantity)
    if expected != actual:
        raise RuleViolation(_("A reversal must post exactly the opposite movement of the original."))


# --- append-only guard ----------------------------------------------------------

def guard_books(session) -> None:
    """Refuse edits and deletes of ledger records and direct changes of stock on hand.

    :raises LedgerImmutable: naming what is refused and what to do instead.
    """
    for obj in session.deleted:
        if isinstance(obj, IMMUTABLE):
            raise LedgerImmutable(
                _("The stock ledger is append-only: transactions, usage records, adjustments and "
                  "approvals are never deleted. Record a reversal instead.")
            )
        if isinstance(obj, m.Inventory):
            if obj.current_stock != 0 or _has_ledger_rows(session, obj):
                raise LedgerImmutable(_("A stock record with stock or ledger history cannot be deleted."))
    for obj in session.dirty:
        if isinstance(obj, IMMUTABLE) and session.is_modified(obj):
            changed = {a.key for a in inspect(obj).attrs if a.history.has_changes()}
            if isinstance(obj, m.Transaction) and getattr(obj, "_abparts_decided", False):
                changed -= {"approval_status"}
            if changed:
                raise LedgerImmutable(
                    _("The stock ledger is append-only: a recorded movement is never edited. Record a "
                      "reversal and a new transaction instead.")
                )
        if isinstance(obj, m.Inventory):
            hist = inspect(obj).attrs.current_stock.history
            if hist.has_changes() and list(hist.added) != list(hist.deleted):
                raise LedgerImmutable(
                    _("Stock on hand changes only through ledger postings: record a transaction or a "
                      "stock adjustment.")
                )
    for obj in session.new:
        if isinstance(obj, m.Inventory):
            if obj.current_stock not in (None, 0):
                raise LedgerImmutable(
                    _("A new stock record starts at zero; stock arrives through ledger postings.")
                )
            part = obj.part or (session.get(m.Part, obj.part_id) if obj.part_id else None)
            if part is not None:
                obj.unit_of_measure = part.unit_of_measure


def _has_ledger_rows(session, inventory: m.Inventory) -> bool:
    t = m.Transaction
    return bool(session.execute(
        sa.select(sa.func.count()).select_from(t).where(
            t.part_id == inventory.part_id,
            sa.or_(t.from_warehouse_id == inventory.warehouse_id, t.to_warehouse_id == inventory.warehouse_id),
        )
    ).scalar_one())


def refuse_bulk_ledger_writes(state) -> None:
    """ORM bulk ``UPDATE``/``DELETE`` statements on the books bypass the flush: refuse them.

    Also refused: an ORM bulk ``UPDATE`` of :class:`~app.models.Inventory` that
    sets ``current_stock``, and any ORM bulk ``DELETE`` of stock records; stock on
    hand changes only through postings.  The posting code itself updates the
    ``inventory`` table with Core statements, which name no mapped class.

    :raises LedgerImmutable: for any bulk update or delete of a ledger table.
    """
    if not (state.is_update or state.is_delete):
        return
    for entity in state.all_mappers:
        if issubclass(entity.class_, IMMUTABLE):
            raise LedgerImmutable(_("The stock ledger is append-only: bulk updates and deletes are refused."))
        if issubclass(entity.class_, m.Inventory):
            if state.is_delete:
                raise LedgerImmutable(_("Stock records are not deleted in bulk: their balances are part "
                                        "of the books."))
            if "current_stock" in _bulk_update_keys(state):
                raise LedgerImmutable(
                    _("Stock on hand changes only through ledger postings: record a transaction or a "
                      "stock adjustment.")
                )


def _bulk_update_keys(state) -> set[str]:
    """Names of the columns an ORM bulk ``UPDATE`` sets (``.values()`` or per-row parameters)."""
    keys = {getattr(k, "key", k) for k in (getattr(state.statement, "_values", None) or {})}
    params = state.parameters
    for row in (params if isinstance(params, (list, tuple)) else [params or {}]):
        keys.update(getattr(k, "key", k) for k in row)
    return {str(k) for k in keys}


# --- the hook -------------------------------------------------------------------

def process(session, actor: Actor | None) -> list[m.Transaction]:
    """Derive, validate and post every new movement of this flush.

    :returns: the new transactions (for the yearly cap).
    """
    guard_books(session)
    for obj in list(session.new):
        if isinstance(obj, m.PartUsage):
            derive_part_usage(session, obj, actor)
        elif isinstance(obj, m.StockAdjustment):
            derive_stock_adjustment(session, obj, actor)
    to_post = []
    new_txns = [o for o in session.new if isinstance(o, m.Transaction)]
    reversed_now = set()
    for txn in new_txns:
        _resolve(txn)
        if txn.reversal_of_id is not None:
            # The reversal rules first: their message says more than the
            # authority or stock rule the opposite movement may also break.
            _check_reversal(session, txn)
            if txn.reversal_of_id in reversed_now:
                raise IllegalTransition(
                    _("This transaction has already been reversed; a transaction is reversed at most once.")
                )
            reversed_now.add(txn.reversal_of_id)
        validate(session, txn, actor)
        if txn.is_posted:
            to_post.append(txn)
    for obj in list(session.new):
        if isinstance(obj, m.TransactionApproval):
            approved = decide(session, obj, actor)
            if approved is not None:
                validate(session, approved, None)
                to_post.append(approved)
    post(session, to_post)
    return new_txns
