"""The bulk posting path: many ledger records in a few set-based statements (issue 15).

The session hooks (:mod:`app.rules`) post what a flush holds, object by object:
right for one user's click, slow for thousands of lines (a stocktake's
corrections, an import, the demo at scale).  :func:`post_batch` takes the same
records (transactions, part usage records, stock adjustments), checks each one
with the same functions the hooks call (:func:`app.rules.ledger.validate` and
the derivations of usage and adjustments), and checks the batch as a whole:

- the yearly cap (:func:`app.rules.limits.check_yearly_transactions`);
- **no running balance below zero**: the balances the batch touches are
  locked, then each record's movements are applied in the batch's order, as
  one-by-one posting would apply them; the first that would take a balance
  below zero is refused (unless ``ALLOW_NEGATIVE_STOCK``), before anything is
  written;
- a restricted actor's rows stay in its organization (the after-flush check).

Then it writes with one statement per table and chunk: the ledger rows, the
usage and adjustment rows, the missing stock records and the balance updates
(PostgreSQL: ``UPDATE ... FROM unnest(...)``).  The caller's database
transaction holds it all: on an error nothing is written once the caller rolls
back (the workflow commands and :func:`app.workflows.unit_of_work` do).
"""
from __future__ import annotations

import decimal
import enum
import functools
from collections import defaultdict
from typing import Sequence

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import MANYTOONE, selectinload

from .. import models as m
from ..errors import OutOfScope, RuleViolation
from ..row_security import confined, send_scope
from ..scoping import Actor, current_actor, system, visible
from ..i18n import _
from . import ledger, limits

D = decimal.Decimal
#: Rows per INSERT statement (SQLite allows 32,766 parameters in one statement).
CHUNK = 2000


def post_batch(session, records: Sequence, actor: Actor | None = None) -> list[m.Transaction]:
    """Validate and post ``records`` set-based, in the caller's database transaction.

    :param records: new, unsaved :class:`~app.models.Transaction`,
        :class:`~app.models.PartUsage` and :class:`~app.models.StockAdjustment`
        objects (not added to the session), in the order one-by-one posting
        would take them.  Quantities are in each part's unit of measure.
        Reversals and approvals are not batched: they go through the session.
    :param actor: who records them; the current actor by default.
    :returns: the ledger rows written, one per record, in the records' order
        (a usage record's or adjustment's own row for those).
    :raises RuleViolation, InvalidQuantity, OutOfScope, LimitReached: the first
        record (or cap) that breaks a rule, with the rule's message;
    :raises InsufficientStock: the first record that would take a running
        balance below zero, naming the part, the warehouse and the record's
        position in the batch.  Nothing is written in either case.
    """
    actor = current_actor() if actor is None else actor
    if not records:
        return []
    if actor is not None and actor.is_read_only:
        raise OutOfScope(_("Auditors read and export; they change nothing."))
    with system():
        held = _load_references(session, records)
        session.info[ledger.LOOKUP] = {(type(obj), obj.id): obj for obj in held}
        try:
            txns = _checked(session, records, actor)
        finally:
            session.info.pop(ledger.LOOKUP, None)
        limits.check_yearly_transactions(session, txns)
        _post_balances(session, txns)
        insert_rows(session, txns)
        for model in (m.PartUsage, m.StockAdjustment):
            insert_rows(session, [r for r in records if isinstance(r, model)])
    if actor is not None and actor.is_restricted:
        ids = {t.id for t in txns if not ledger.is_workflow_posting(t)}
        if ids and visible(m.Transaction, ids, session) != ids:
            raise OutOfScope(_("You can only create or change records of your own organization."))
    return txns


def _checked(session, records, actor) -> list[m.Transaction]:
    """Each record's ledger row, checked by the ledger's rules (:func:`app.rules.ledger.validate`)."""
    txns = [_transaction_of(session, record, actor) for record in records]
    for txn in txns:
        ledger.validate(session, txn, actor)
    return txns


def _transaction_of(session, record, actor) -> m.Transaction:
    if isinstance(record, m.PartUsage):
        return ledger.usage_transaction(session, record, actor)
    if isinstance(record, m.StockAdjustment):
        return ledger.adjustment_transaction(session, record, actor)
    if isinstance(record, m.Transaction):
        if record.reversal_of_id is not None or record.reversal_of is not None:
            raise RuleViolation(_("A reversal is recorded on its own, not in a batch of postings."))
        return record
    raise TypeError(f"post_batch takes transactions, part usage records and stock adjustments, not {record!r}")


def _load_references(session, records) -> list:
    """Put every part, warehouse, organization, machine, user (with roles) and stock record the
    records name into the session, a query per table, so the rules' ``session.get`` calls hit
    the identity map.  :returns: the loaded objects (the caller holds them)."""
    ids = defaultdict(set)
    for r in records:
        for attr, model in (("part_id", m.Part), ("machine_id", m.Machine), ("warehouse_id", m.Warehouse),
                            ("from_warehouse_id", m.Warehouse), ("to_warehouse_id", m.Warehouse),
                            ("inventory_id", m.Inventory), ("performed_by_user_id", m.PortalUser),
                            ("recorded_by_user_id", m.PortalUser), ("user_id", m.PortalUser)):
            value = r.__dict__.get(attr)
            if value is not None:
                ids[model].add(value)
    if current_actor() is not None and current_actor().user_id is not None:
        ids[m.PortalUser].add(current_actor().user_id)
    held = []
    inventories = _by_ids(session, m.Inventory, ids[m.Inventory])
    held += inventories
    for inv in inventories:
        ids[m.Part].add(inv.part_id)
        ids[m.Warehouse].add(inv.warehouse_id)
    held += _by_ids(session, m.Part, ids[m.Part])
    warehouses = _by_ids(session, m.Warehouse, ids[m.Warehouse])
    held += warehouses
    held += _by_ids(session, m.Organization, {w.organization_id for w in warehouses})
    held += _by_ids(session, m.Machine, ids[m.Machine])
    held += _by_ids(session, m.PortalUser, ids[m.PortalUser], selectinload(m.PortalUser.roles))
    return held


def _by_ids(session, model, ids, *options) -> list:
    ids = list(ids)
    out = []
    for start in range(0, len(ids), CHUNK):
        out += session.execute(sa.select(model).where(model.id.in_(ids[start:start + CHUNK])).options(*options)
                               ).scalars().all()
    return out


# --- balances -------------------------------------------------------------------

def _post_balances(session, txns: list[m.Transaction]) -> None:
    """Check every running balance in the batch's order, then apply the net changes."""
    net: dict[tuple, D] = defaultdict(D)
    for txn in txns:
        if txn.is_posted:
            for warehouse_id, part_id, delta in ledger.movements(txn):
                net[(warehouse_id, part_id)] += delta
    keys = sorted(net, key=lambda k: (str(k[0]), str(k[1])))
    if not keys:
        return
    allow_negative = current_app.config.get("ALLOW_NEGATIVE_STOCK", False)
    ledger.create_missing_balances(session, keys)
    balance = ledger.lock_balances(session, keys)
    if not allow_negative:
        for position, txn in enumerate(txns, start=1):
            if not txn.is_posted:
                continue
            for warehouse_id, part_id, delta in ledger.movements(txn):
                key = (warehouse_id, part_id)
                if balance[key] + delta < 0:
                    part, warehouse = session.get(m.Part, part_id), session.get(m.Warehouse, warehouse_id)
                    raise ledger.insufficient_stock(part, warehouse, balance[key], -delta,
                                                    f" (line {position} of the batch)")
                balance[key] += delta
    ledger.update_balances(session, [(w, p, net[(w, p)]) for w, p in keys if net[(w, p)]], allow_negative)


# --- rows -------------------------------------------------------------------------

def insert_rows(session, objects: list) -> None:
    """INSERT unsaved ``objects`` (one mapped class) with one statement per :data:`CHUNK` rows,
    bypassing the session's unit of work: for records whose rules the caller has checked
    (the documents of :func:`app.workflows.transfers.record_shipments`)."""
    if not objects:
        return
    mapper = sa.inspect(type(objects[0]))
    table = mapper.local_table
    rows = [row_values(mapper, obj) for obj in objects]
    connection = session.connection()
    # COPY is refused where row-level security applies (PostgreSQL): the system's work
    # (seed data, commands) copies; a signed-in user's batch is INSERTed, and the
    # database checks each row against the user's organizations (issue 14).
    if connection.dialect.name == "postgresql" and not confined(connection):
        _copy(session, table, rows)
        return
    for start in range(0, len(rows), CHUNK):
        session.execute(table.insert(), rows[start:start + CHUNK])


def _copy(session, table, rows: list[dict]) -> None:
    """PostgreSQL: the rows in one ``COPY ... FROM STDIN`` on the session's connection (its
    transaction), the fastest way in; values are plain Python (enums by their value)."""
    columns = [c.key for c in table.columns]
    connection = session.connection()
    send_scope(connection)  # COPY goes past SQLAlchemy's events
    cursor = connection.connection.driver_connection.cursor()
    with cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([v.value if isinstance(v, enum.Enum) else v for v in map(row.get, columns)])


def row_values(mapper, obj) -> dict:
    """The column values of an unsaved ``obj`` as its INSERT needs them: foreign keys taken from
    the related objects it was given (as a flush would), Python-side defaults filled in."""
    columns, relations, defaults = _plan(mapper)
    state = obj.__dict__
    values = {column: state.get(attribute) for column, attribute in columns}
    for key, pairs in relations:
        target = state.get(key)
        if target is not None:
            for column, attribute in pairs:
                values[column] = getattr(target, attribute)
    for column, default in defaults:
        if values.get(column) is None:
            values[column] = default.arg(None) if default.is_callable else default.arg
    return values


@functools.lru_cache(maxsize=None)
def _plan(mapper) -> tuple:
    """What :func:`row_values` reads of a mapped class, worked out once: ``(column key,
    attribute)`` pairs, the many-to-one relationships with the columns they set, the defaults."""
    table = mapper.local_table
    columns = [(prop.columns[0].key, prop.key) for prop in mapper.column_attrs
               if isinstance(prop.columns[0], sa.Column) and prop.columns[0].table is table]
    relations = [(rel.key, [(local.key, rel.mapper.get_property_by_column(remote).key)
                            for local, remote in rel.local_remote_pairs])
                 for rel in mapper.relationships if rel.direction is MANYTOONE]
    defaults = [(column.key, column.default) for column in table.columns if column.default is not None]
    return columns, relations, defaults
