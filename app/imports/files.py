"""An uploaded CSV or XLSX file read into numbered rows of text, or refused with one clear message.

What a file must be (each refusal is a :class:`FileRefused` naming what is wrong):

- **CSV** (``.csv``): UTF-8 text (with or without a byte-order mark; "CSV UTF-8"
  in a spreadsheet's save dialog), comma- or semicolon-separated (a first row
  with semicolons and no commas is read with semicolons, as European
  spreadsheets save it).  **XLSX** (``.xlsx``): a workbook whose first sheet
  holds the rows, read with openpyxl in read-only mode (it streams the sheet).
  Any other file (``.xls``, ``.txt``, a PDF renamed ``.csv``) is refused.
- The first row names the columns (case and spaces do not matter: ``Part
  number`` is ``part_number``); every required column must be there, and no
  column the layout does not know, nor one twice.
- Values only: an XLSX cell holding a formula is refused, naming the cell
  (``C7``), as is a CSV cell starting with ``=``: an import takes what a person
  reads, not what a spreadsheet would compute.
- At least one row under the header; at most ``IMPORT_MAX_ROWS`` rows; at most
  ``IMPORT_MAX_BYTES`` bytes (the screens answer 413 above it, before reading).

A row's number is its number in the file as a spreadsheet shows it (the header
is row 1); blank rows are skipped but keep their numbers counted.  Every value
is text, stripped: XLSX numbers are written without a float's noise (``2.5``,
``12``), booleans ``yes``/``no``, dates ``YYYY-MM-DD``.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from typing import Iterator

from flask import current_app

from ..errors import DomainError
from ..i18n import Joined, Number, _, n_

#: File extensions read, and the media types of their templates.
EXTENSIONS = ("csv", "xlsx")
#: Defaults of the settings (``config.py``): 16 MiB and 100,000 rows.
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_ROWS = 100_000


class FileRefused(DomainError):
    """The file as a whole cannot be imported (format, encoding, size, columns, formulas, empty).

    The screens answer 400 with the message; the command line prints it and exits 1.
    """

    status = 400


@dataclass(frozen=True)
class Column:
    """One column of an import layout.

    :ivar key: the header as written in the templates (``part_number``).
    :ivar required: whether the column must be in the file (a value may still be optional).
    :ivar help: what goes in it, for the import screen (a :class:`~app.i18n.Message`).
    """

    key: str
    required: bool
    help: str


@dataclass(frozen=True)
class Layout:
    """The columns of one kind of import file (:data:`PARTS`, :data:`STOCK`)."""

    kind: str
    #: "Parts catalog": the screen's and the messages' name of the file (a :class:`~app.i18n.Message`).
    title: str
    #: "a parts catalog file", as a refusal names it.
    file_name: str
    columns: tuple[Column, ...]

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]


@dataclass
class Row:
    """One row of a file: its number in the file and its values by column key (stripped text)."""

    number: int
    values: dict[str, str] = field(default_factory=dict)


PARTS = Layout("parts", _("Parts catalog"), _("a parts catalog file"), (
    Column("part_number", True, _("Unique; stored trimmed and in upper case.")),
    Column("name", True, _("The part's name.")),
    Column("part_type", False, _("Consumable (counted in whole units; the default) or Bulk material.")),
    Column("unit_of_measure", False, _("pieces (the default), litres, kg ... in the plural.")),
    Column("description", False, _("Free text.")),
    Column("is_proprietary", False, _("yes if manufactured by BossAqua; no (the default).")),
    Column("unit_price", False, _("In the price currency, e.g. 12.50; not negative.")),
    Column("manufacturer_part_number", False, _("The manufacturer's own number.")),
    Column("manufacturer_delivery_time_days", False, _("Whole days.")),
    Column("local_supplier_delivery_time_days", False, _("Whole days.")),
))

STOCK = Layout("stock", _("Opening stock"), _("an opening stock file"), (
    Column("organization", True, _("The organization owning the warehouse, by name.")),
    Column("warehouse", True, _("The warehouse's name in that organization.")),
    Column("part_number", True, _("A part of the catalog.")),
    Column("quantity", True, _("On hand, in the part's unit of measure: whole units for consumables, "
                               "up to 3 decimals for bulk materials.")),
    Column("unit_of_measure", False, _("If given, it must be the part's unit (a check that the file "
                                       "counts what the catalog counts).")),
    Column("reference_number", False, _("Kept on the ledger row, e.g. the count sheet's number.")),
    Column("notes", False, _("Kept on the ledger row.")),
))

LAYOUTS = {layout.kind: layout for layout in (PARTS, STOCK)}


def max_bytes() -> int:
    """The largest file an import takes (``IMPORT_MAX_BYTES``), in bytes."""
    return int(current_app.config.get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def human_size(size: int) -> str:
    """``16 MB`` for 16 MiB: a size as people read it."""
    return f"{size / (1024 * 1024):g} MB" if size >= 1024 * 1024 else f"{size / 1024:g} KB"


def header_key(text: str) -> str:
    """A header cell as a column key: ``" Part number"`` -> ``part_number``."""
    return "_".join(str(text).replace("-", " ").split()).lower()


def read_rows(filename: str, data: bytes, layout: Layout) -> list[Row]:
    """The rows of an uploaded file, checked against ``layout``.

    :param filename: the file's name as uploaded (its extension decides the format).
    :param data: the file's bytes.
    :returns: the non-blank rows under the header, each with every column of
        ``layout`` (``""`` where the file has no such column or no value).
    :raises FileRefused: what is wrong with the file, in words a user can act on.
    """
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in EXTENSIONS:
        name = filename or _("The file")
        if extension in ("xls", "ods", "txt"):
            raise FileRefused(_("%(filename)s is neither a CSV (.csv) nor an Excel workbook (.xlsx) file. "
                                "Save it as .xlsx (Excel Workbook) or as CSV UTF-8.", filename=name))
        raise FileRefused(_("%(filename)s is neither a CSV (.csv) nor an Excel workbook (.xlsx) file.",
                            filename=name))
    if not data:
        raise FileRefused(_("%(filename)s is empty.", filename=filename))
    if len(data) > max_bytes():
        raise FileRefused(_("%(filename)s is larger than an import takes (%(size)s): split it into smaller files.",
                            filename=filename, size=human_size(max_bytes())))
    cells = _xlsx_cells(filename, data) if extension == "xlsx" else _csv_cells(filename, data)
    return _rows(filename, cells, layout)


def _rows(filename: str, cells: Iterator[tuple[int, list[str]]], layout: Layout) -> list[Row]:
    header = next(cells, None)
    if header is None or not any(header[1]):
        raise FileRefused(_("%(filename)s has no header: its first row must name the columns (%(columns)s).",
                            filename=filename, columns=", ".join(layout.keys)))
    keys = [header_key(text) for text in header[1]]
    _check_header(keys, layout)
    limit = int(current_app.config.get("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))
    rows = []
    for number, values in cells:
        if not any(values):
            continue
        if len(rows) == limit:
            raise FileRefused(_("%(filename)s has more than %(limit)s rows: split it into smaller files.",
                                filename=filename, limit=Number(limit, f"{limit:,}")))
        row = Row(number, {key: "" for key in layout.keys})
        for key, value in zip(keys, values):
            if key:
                row.values[key] = value
        extra = [v for v in values[len(keys):] if v]
        if extra:
            raise FileRefused(_("Row %(row)s has values beyond the last named column (%(value)r): "
                                "every column needs its name in the first row.", row=number, value=extra[0]))
        rows.append(row)
    if not rows:
        raise FileRefused(_("%(filename)s has a header but no rows under it.", filename=filename))
    return rows


def _check_header(keys: list[str], layout: Layout) -> None:
    known = set(layout.keys)
    named = [k for k in keys if k]
    missing = [c.key for c in layout.columns if c.required and c.key not in named]
    unknown = [k for k in named if k not in known]
    twice = sorted({k for k in named if named.count(k) > 1})
    problems = []
    if missing:
        problems.append(n_("missing column: %(columns)s", "missing columns: %(columns)s", len(missing),
                           columns=", ".join(missing)))
    if unknown:
        problems.append(n_("unknown column: %(columns)s", "unknown columns: %(columns)s", len(unknown),
                           columns=", ".join(unknown)))
    if twice:
        problems.append(n_("column named twice: %(columns)s", "columns named twice: %(columns)s", len(twice),
                           columns=", ".join(twice)))
    if problems:
        raise FileRefused(_("The first row must name the columns of %(file)s (%(columns)s; required: "
                            "%(required)s): %(problems)s.", file=layout.file_name, columns=", ".join(layout.keys),
                            required=", ".join(c.key for c in layout.columns if c.required),
                            problems=Joined("; ", problems)))


# --- CSV ---------------------------------------------------------------------------

def _csv_cells(filename: str, data: bytes) -> Iterator[tuple[int, list[str]]]:
    if b"\x00" in data[:4096]:
        raise FileRefused(_("%(filename)s is not a text file: a CSV file is text (save it as CSV UTF-8), "
                            "or name an Excel workbook .xlsx.", filename=filename))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise FileRefused(_("%(filename)s is not UTF-8 text (byte %(byte)s on line %(line)s): "
                            "save it as \"CSV UTF-8\", or as an Excel workbook (.xlsx).",
                            filename=filename, byte=f"0x{data[exc.start]:02X}", line=line)) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    return _csv_records(filename, reader)


def _csv_records(filename: str, reader) -> Iterator[tuple[int, list[str]]]:
    number = 0
    try:
        for record in reader:
            number += 1
            values = [value.strip() for value in record]
            for index, value in enumerate(values):
                if value.startswith("="):
                    raise FileRefused(_("Cell %(cell)s holds a formula (%(formula)s): an import takes values, "
                                        "not formulas.", cell=f"{_column_letter(index)}{number}", formula=value[:40]))
            yield number, values
    except csv.Error as exc:
        raise FileRefused(_("%(filename)s is not well-formed CSV near row %(row)s (%(error)s).",
                            filename=filename, row=number + 1, error=str(exc))) from None


def _column_letter(index: int) -> str:
    """``0`` -> ``A``, ``26`` -> ``AA``: a column as spreadsheets name it."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- XLSX ----------------------------------------------------------------------------

def _xlsx_cells(filename: str, data: bytes) -> Iterator[tuple[int, list[str]]]:
    import openpyxl

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise FileRefused(_("%(filename)s is not an Excel workbook (.xlsx): save it as .xlsx, or as CSV UTF-8.",
                            filename=filename))
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        sheet = workbook.worksheets[0]
    except Exception:  # openpyxl raises many kinds for a damaged or foreign workbook
        raise FileRefused(_("%(filename)s cannot be read as an Excel workbook (.xlsx): it is damaged or "
                            "of another kind; save it again as .xlsx, or as CSV UTF-8.", filename=filename)) from None
    return _xlsx_records(workbook, sheet)


def _xlsx_records(workbook, sheet) -> Iterator[tuple[int, list[str]]]:
    try:
        expected = 1
        for cells in sheet.iter_rows():
            number = next((c.row for c in cells if getattr(c, "row", None)), expected)
            while expected < number:  # rows the sheet leaves out are blank rows
                yield expected, []
                expected += 1
            values = []
            for cell in cells:
                if cell.data_type == "f":
                    raise FileRefused(_("Cell %(cell)s holds a formula (%(formula)s): an import takes values, "
                                        "not formulas; paste the values instead.",
                                        cell=cell.coordinate, formula=str(cell.value)[:40]))
                values.append(_xlsx_text(cell.value))
            yield number, values
            expected = number + 1
    finally:
        workbook.close()


def _xlsx_text(value) -> str:
    """An XLSX cell's value as the text a person reads in it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()

