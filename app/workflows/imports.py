"""Bulk imports with a dry run (issue 11): the parts catalog and opening stock.

Both kinds run the same way, from the screens (:mod:`app.views.imports`) and
from the command line (``flask abparts import-parts`` / ``import-stock``):

1. the file is read (:func:`app.imports.files.read_rows`): a bad file is
   refused as a whole (:class:`~app.imports.files.FileRefused`);
2. every row is checked with the rules a form or a posting meets, and each
   problem is reported with the row's number in the file, the column and the
   rule's message (:class:`RowError`); then the batch as a whole (the caps);
3. a **dry run** (:func:`dry_run`) stops there and writes nothing: its session
   is rolled back whatever happened;
4. the **real run** (:func:`run_import`, a workflow command) checks the same
   way and writes only a file without a single problem, all of it in one
   database transaction; a refusal anywhere writes nothing.

**Parts** (``parts`` layout): each row is the Parts screen's add form (FAB
builds it from the model and the view's validators: required, lengths, whole
numbers, decimals, the type's choices, a price not negative), filled as the
form fills a part (so the part number is normalised by the model); part numbers
must be unique, in the file and against the catalog, once normalised; the
``LIMIT_PARTS`` cap.  The parts are added through the ORM session and flushed
together, so the rule hooks and the schema's constraints check them once more.
Importing parts takes the ``add`` permission on parts (a Super Admin's; an
organization's admin reads the catalog).

**Opening stock** (``stock`` layout): each row is a ``creation`` ledger row
into a warehouse the importer sees (organization and warehouse by name), of a
part of the catalog, checked by the ledger's own rules
(:func:`app.rules.ledger.validate`: the quantity in the part's unit, whole
units for consumables, the unit if given, an active warehouse that is not a
transit location, and a warehouse of the importer's own organization unless a
Super Admin imports).  Opening stock is entered once: a warehouse that already
holds the part, or a (warehouse, part) twice in the file, is refused; the
yearly transaction cap.  The rows are posted by the bulk posting path
(:func:`app.rules.bulk.post_batch`), which checks them again.  Importing
opening stock takes the ``add`` permission on transactions (admins).

Quantities are in each part's unit of measure; prices in the price currency.
"""
from __future__ import annotations

import decimal
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Callable

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from .. import models as m
from ..errors import CONSTRAINT_MESSAGES, DomainError, InvalidQuantity, OutOfScope, RuleViolation, flush_checked
from ..extensions import db
from ..i18n import _, n_
from ..imports.files import LAYOUTS, Row, header_key, read_rows
from ..models.base import format_quantity
from ..models.part import normalise_code
from ..rules import bulk, ledger, limits
from ..security import events
from ..security.roles import ADD, may
from .base import Who, acting_user, command, require

#: Rows shown in a report's preview of what the import writes.
PREVIEW_ROWS = 50
#: Rows per IN (...) lookup of names.
LOOKUP_CHUNK = 1000
#: PostgreSQL advisory-lock key that serialises the real runs of opening-stock imports ("AB" "IM").
STOCK_IMPORT_LOCK = 0xAB9A_494D
#: The permission (domain, action) each kind of import needs, and the refusal of a role without it.
PERMISSION = {"parts": ("Part", ADD), "stock": ("Transaction", ADD)}
IMPORT_REFUSED = {"parts": _("Your role may not import parts catalog: it takes the add permission on parts."),
                  "stock": _("Your role may not import opening stock: it takes the add permission on "
                             "transactions.")}


@dataclass(frozen=True)
class RowError:
    """One problem of an import file.

    :ivar row: the row's number in the file (the header is row 1); ``None`` for a
        problem of the batch as a whole (a cap).
    :ivar column: the column's key (``quantity``), or ``""`` for the whole row.
    :ivar message: the rule's message.
    """

    row: int | None
    column: str
    message: str


@dataclass
class ImportReport:
    """What an import found and did.

    :ivar kind: ``parts`` or ``stock``.
    :ivar rows: the rows read (blank rows not counted).
    :ivar errors: every problem found, in the file's order; none for an import that can run.
    :ivar preview: the first :data:`PREVIEW_ROWS` rows as they are (or would be) written,
        each a tuple of texts in the order of :attr:`preview_header`.
    :ivar totals: for opening stock, per warehouse (``"Organization / Warehouse"``): lines and
        parts; for parts, per type: parts.
    :ivar written: the parts or ledger rows written (0 for a dry run).
    """

    kind: str
    filename: str
    dry_run: bool
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    preview_header: tuple[str, ...] = ()
    preview: list[tuple] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    written: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportRefused(DomainError):
    """A real run refused: the file has problems (:attr:`report` lists them); nothing was written."""

    def __init__(self, report: ImportReport):
        super().__init__(n_("Nothing was imported: %(n)s problem in %(filename)s.",
                            "Nothing was imported: %(n)s problems in %(filename)s.", len(report.errors),
                            filename=report.filename))
        self.report = report


# --- the two entry points ----------------------------------------------------------

def dry_run(kind: str, filename: str, data: bytes, part_form: Callable | None = None) -> ImportReport:
    """Check an import file as the real run would, and write nothing.

    :param kind: ``parts`` or ``stock``.
    :param filename: the file's name (its extension decides CSV or XLSX).
    :param data: the file's bytes.
    :param part_form: for parts: the Parts screen's add form class (:func:`app.views.catalog.part_form`).
    :returns: the report; ``report.ok`` when the real run would write every row.
    :raises FileRefused: (400) the file as a whole is unusable.
    :raises Forbidden: (403) the acting user may not import this kind.
    """
    session = db.session
    try:
        report, _records = _check(session, acting_user(session), kind, filename, data, part_form, dry=True)
        return report
    finally:
        session.rollback()


@command
def run_import(session, who: Who, kind: str, filename: str, data: bytes,
               part_form: Callable | None = None) -> ImportReport:
    """Import a file: all of it in one transaction, or nothing.

    Parameters as :func:`dry_run`.

    :returns: the report, ``written`` the parts or ledger rows written.
    :raises ImportRefused: (422) the file has problems; ``error.report`` lists each one.
    :raises FileRefused, Forbidden: as :func:`dry_run`.
    :raises DomainError: a rule refused the batch while it was written (a
        concurrent change since the check); nothing is written.
    """
    report, records = _check(session, who, kind, filename, data, part_form, dry=False)
    if report.errors:
        raise ImportRefused(report)
    if kind == "parts":
        session.add_all(records)
        flush_checked(session)
    else:
        bulk.post_batch(session, records, actor=who.actor)
    report.written = len(records)
    events.record(events.IMPORT, who.user.id, kind=kind, filename=filename, rows=report.rows, written=report.written)
    return report


def _check(session, who: Who, kind: str, filename: str, data: bytes, part_form, dry: bool):
    if kind not in LAYOUTS:
        raise ValueError(f"unknown import kind {kind!r}")
    domain, action = PERMISSION[kind]
    require(any(may(role, domain, action) for role in who.actor.roles),
            IMPORT_REFUSED[kind])
    rows = read_rows(filename, data, LAYOUTS[kind])
    report = ImportReport(kind, filename, dry, rows=len(rows))
    if kind == "stock" and not dry and session.get_bind().dialect.name == "postgresql":
        # Two imports of the same file at once would both find the warehouses empty and both
        # post: the second waits here, then finds the first's stock (SQLite's write lock,
        # taken at BEGIN, serialises them already).
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": STOCK_IMPORT_LOCK})
    if kind == "parts":
        records = _check_parts(session, rows, part_form, report)
    else:
        records = _check_stock(session, who, rows, report)
    return report, records


# --- parts ---------------------------------------------------------------------------

def _check_parts(session, rows: list[Row], part_form, report: ImportReport) -> list[m.Part]:
    """Each row through the Parts form, then unique numbers and the cap (see the module)."""
    defaults = {name: f.data for name, f in part_form(meta={"csrf": False})._fields.items()}
    parts: list[tuple[Row, m.Part]] = []
    for row in rows:
        data, flag_error = _form_data(row, defaults)
        form = part_form(formdata=data, meta={"csrf": False})
        if flag_error:
            report.errors.append(RowError(row.number, "is_proprietary", flag_error))
        if not form.validate() or flag_error:
            for column, messages in form.errors.items():
                label = form[column].label.text if column in form else column
                report.errors.extend(RowError(row.number, column, _("%(label)s: %(message)s", label=label,
                                                                     message=msg)) for msg in messages)
            continue
        part = m.Part()
        form.populate_obj(part)
        parts.append((row, part))
    _check_unique_numbers(session, parts, report)
    try:
        limits.check_cap(session, "LIMIT_PARTS", len(rows))
    except DomainError as exc:
        report.errors.append(RowError(None, "", exc.message))
    report.errors.sort(key=lambda e: (e.row or 0))
    report.preview_header = (_("Row"), _("Part number"), _("Name"), _("Type"), _("Unit"), _("Unit price"))
    report.preview = [(row.number, p.part_number, p.name, str(p.part_type), p.unit_of_measure,
                       "" if p.unit_price is None else str(p.unit_price)) for row, p in parts[:PREVIEW_ROWS]]
    report.totals = dict(Counter(str(p.part_type) for _row, p in parts))
    return [p for _row, p in parts]


#: The words of a yes/no cell.
YES, NO = ("yes", "y", "true", "1"), ("", "no", "n", "false", "0")


def _form_data(row: Row, defaults: dict) -> tuple[MultiDict, str | None]:
    """A row as the Parts form's POST: blanks take the form's defaults, yes/no the checkbox's values.

    :returns: the form data, and the error of a yes/no cell that is neither (a checkbox takes any
        text as ticked).
    """
    data, flag_error = MultiDict(), None
    for key, value in row.values.items():
        if key == "is_proprietary":
            if value.lower() in YES:
                data.add(key, "y")
            elif value.lower() not in NO:
                flag_error = _("Proprietary (BossAqua) is yes or no, not %(value)r.", value=value)
            continue
        if key == "part_type" and value:
            value = header_key(value)
        if not value and defaults.get(key) is not None:
            value = getattr(defaults[key], "name", defaults[key])
        data.add(key, str(value))
    return data, flag_error


def _check_unique_numbers(session, parts: list[tuple[Row, m.Part]], report: ImportReport) -> None:
    """Part numbers unique once normalised: within the file, and against the catalog."""
    rule = CONSTRAINT_MESSAGES["uq_parts_part_number"]
    first: dict[str, int] = {}
    kept = []
    for row, part in parts:
        if part.part_number in first:
            report.errors.append(RowError(row.number, "part_number", _(
                "%(rule)s %(part_number)s is also on row %(row)s.", rule=rule, part_number=part.part_number,
                row=first[part.part_number])))
        else:
            first[part.part_number] = row.number
            kept.append((row, part))
    taken = set()
    numbers = list(first)
    for start in range(0, len(numbers), LOOKUP_CHUNK):
        taken.update(session.execute(sa.select(m.Part.part_number).where(
            m.Part.part_number.in_(numbers[start:start + LOOKUP_CHUNK]))).scalars())
    for row, part in kept:
        if part.part_number in taken:
            report.errors.append(RowError(row.number, "part_number", _(
                "%(rule)s %(part_number)s is already in the catalog.", rule=rule, part_number=part.part_number)))
    parts[:] = [(row, part) for row, part in kept if part.part_number not in taken]


# --- opening stock ---------------------------------------------------------------------

def _check_stock(session, who: Who, rows: list[Row], report: ImportReport) -> list[m.Transaction]:
    """Each row a ``creation`` ledger row checked by the ledger's rules (see the module)."""
    warehouses = _warehouses(session, {(r.values["organization"], r.values["warehouse"]) for r in rows})
    parts = _parts(session, {normalise_code(r.values["part_number"]) for r in rows})
    held = _held(session, [w.id for w in warehouses.values()], [p.id for p in parts.values()])
    seen: dict[tuple, int] = {}
    txns: list[tuple[Row, m.Transaction, m.Warehouse, m.Part]] = []
    # The ledger's rules look each row's part, warehouse and user up: from a dict, as the bulk path does.
    session.info[ledger.LOOKUP] = {(type(obj), obj.id): obj for obj in (
        *warehouses.values(), *parts.values(), who.user)}
    try:
        for row in rows:
            found = _stock_line(session, who, row, warehouses, parts, held, seen, report)
            if found is not None:
                txns.append(found)
    finally:
        session.info.pop(ledger.LOOKUP, None)
    if txns:
        try:
            limits.check_yearly_transactions(session, [t for _r, t, _w, _p in txns])
        except DomainError as exc:
            report.errors.append(RowError(None, "", exc.message))
    report.preview_header = (_("Row"), _("Organization"), _("Warehouse"), _("Part number"), _("Quantity"))
    report.preview = [(row.number, w.organization.name, w.name, p.part_number,
                       format_quantity(t.quantity, p.unit_of_measure)) for row, t, w, p in txns[:PREVIEW_ROWS]]
    totals: dict[str, int] = defaultdict(int)
    for _row, _txn, warehouse, _part in txns:
        totals[f"{warehouse.organization.name} / {warehouse.name}"] += 1
    report.totals = dict(sorted(totals.items()))
    return [t for _r, t, _w, _p in txns]


def _stock_line(session, who: Who, row: Row, warehouses: dict, parts: dict, held: dict, seen: dict,
                report: ImportReport) -> tuple | None:
    """One row of opening stock as ``(row, its creation, warehouse, part)``, or ``None`` with its
    problems added to ``report``.  ``seen`` collects the (warehouse id, part id) of the rows so far."""
    v = row.values
    warehouse = warehouses.get((v["organization"].casefold(), v["warehouse"].casefold()))
    part = parts.get(normalise_code(v["part_number"]))
    if warehouse is None:
        report.errors.append(RowError(row.number, "warehouse", _no_warehouse(v, who)))
    if part is None:
        report.errors.append(RowError(row.number, "part_number", _(
            "There is no part %(part_number)r in the catalog.", part_number=v["part_number"])
            if v["part_number"] else _("A part number is required.")))
    if warehouse is None or part is None:
        return None
    key = (warehouse.id, part.id)
    if key in seen:
        report.errors.append(RowError(row.number, "part_number", _(
            "%(part_number)s in %(warehouse)s is also on row %(row)s: opening stock is one line per warehouse "
            "and part.", part_number=part.part_number, warehouse=str(warehouse), row=seen[key])))
        return None
    seen[key] = row.number
    if held.get(key):
        report.errors.append(RowError(row.number, "part_number", _(
            "%(warehouse)s already holds %(quantity)s of %(part_number)s: opening stock is entered once, for a "
            "part the warehouse does not hold; correct a stock level with a stock adjustment or a stocktake.",
            warehouse=str(warehouse), quantity=format_quantity(held[key], part.unit_of_measure),
            part_number=part.part_number)))
        return None
    txn = m.Transaction(transaction_type=m.TransactionType.creation, part_id=part.id,
                        to_warehouse_id=warehouse.id, quantity=v["quantity"] or None,
                        unit_of_measure=v["unit_of_measure"] or None,
                        reference_number=v["reference_number"] or None,
                        notes=v["notes"] or f"Opening stock (import of {report.filename}, row {row.number})",
                        performed_by_user_id=who.user.id)
    try:
        _check_lengths(txn)
        ledger.validate(session, txn, who.actor)
    except DomainError as exc:
        report.errors.append(RowError(row.number, _column_of(exc), exc.message))
        return None
    return row, txn, warehouse, part


def _warehouses(session, names: set[tuple[str, str]]) -> dict[tuple[str, str], m.Warehouse]:
    """The warehouses the actor sees, by (organization name, warehouse name), both casefolded.

    The query runs with the actor's organization scope: a warehouse of an
    organization the importer does not see is no warehouse at all.
    """
    organizations = sorted({org for org, _wh in names if org})
    found = {}
    for start in range(0, len(organizations), LOOKUP_CHUNK):
        stmt = (sa.select(m.Warehouse, m.Organization.name)
                .join(m.Organization, m.Warehouse.organization_id == m.Organization.id)
                .where(m.Organization.name.in_(organizations[start:start + LOOKUP_CHUNK])))
        for warehouse, org_name in session.execute(stmt):
            found[(org_name.casefold(), warehouse.name.casefold())] = warehouse
    return found


def _no_warehouse(values: dict, who: Who) -> str:
    if not values["organization"] or not values["warehouse"]:
        return _("The organization and the warehouse are both required.")
    whose = _("any organization") if who.actor.sees_all_organizations else _("your organization")
    return _("There is no warehouse %(warehouse)r of %(organization)r among the warehouses of %(whose)s: "
             "opening stock goes only into warehouses you may stock.", warehouse=values["warehouse"],
             organization=values["organization"], whose=whose)


def _parts(session, numbers: set[str | None]) -> dict[str, m.Part]:
    numbers = sorted(n for n in numbers if n)
    found = {}
    for start in range(0, len(numbers), LOOKUP_CHUNK):
        found.update({p.part_number: p for p in session.execute(
            sa.select(m.Part).where(m.Part.part_number.in_(numbers[start:start + LOOKUP_CHUNK]))).scalars()})
    return found


def _held(session, warehouse_ids: list, part_ids: list) -> dict[tuple, decimal.Decimal]:
    """The stock on hand (non-zero) of the named warehouses and parts: ``{(warehouse id, part id): quantity}``."""
    if not warehouse_ids or not part_ids:
        return {}
    inv = m.Inventory.__table__.c
    held, wanted = {}, set(part_ids)
    for start in range(0, len(warehouse_ids), LOOKUP_CHUNK):
        stmt = sa.select(inv.warehouse_id, inv.part_id, inv.current_stock).where(
            inv.warehouse_id.in_(warehouse_ids[start:start + LOOKUP_CHUNK]), inv.current_stock != 0)
        held.update({(w, p): q for w, p, q in session.execute(stmt) if p in wanted})
    return held


def _check_lengths(txn: m.Transaction) -> None:
    """Text no longer than its column holds (the database would refuse the whole batch)."""
    table = m.Transaction.__table__
    for column in ("reference_number",):
        value, length = getattr(txn, column), table.c[column].type.length
        if value is not None and len(value) > length:
            raise RuleViolation(_("A reference number has at most %(length)s characters.", length=length))


def _column_of(exc: DomainError) -> str:
    """The column a ledger rule's refusal is about, for the report."""
    if isinstance(exc, InvalidQuantity):
        return "quantity"
    if isinstance(exc, OutOfScope):
        return "warehouse"
    text = exc.message.lower()
    if "unit of measure" in text:
        return "unit_of_measure"
    if "reference number" in text:
        return "reference_number"
    if "warehouse" in text or "transit" in text:
        return "warehouse"
    return ""
