"""CSV and XLSX, written as the rows come: memory does not grow with the number of rows.

A row is a list of *typed* values: ``None``, ``str``, ``bool``, ``int``,
``float``, :class:`~decimal.Decimal`, :class:`~datetime.datetime` (aware, in
UTC), :class:`~datetime.date`, or an enum member (written as its label).

- **CSV** (UTF-8, comma-separated, a header row): chunks of about 64 KiB are
  yielded as they fill, so a download starts with the first rows.  Numbers are
  written as they are stored (``12.50``), date-times as ``2026-12-03 14:05:07``
  (UTC), booleans as ``yes``/``no``, an empty value as an empty cell.
- **XLSX**: XlsxWriter in ``constant_memory`` mode (each row is flushed to a
  temporary file as soon as the next one starts), then the finished workbook
  is streamed from its temporary file and deleted.  Numbers are number cells,
  dates and date-times date cells (UTC), booleans boolean cells.  A sheet holds
  at most 1,048,576 rows; longer exports go on in further sheets, each with the
  header row.  Text is never read as a formula or a link.

**Formula injection** (OWASP "CSV Injection"): a text cell beginning with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a single
quote in both formats (:func:`neutralize`), so a spreadsheet shows the text
instead of running it.  Only text is neutralized: ``-5`` as a number stays the
number -5.
"""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import enum
import io
import os
import tempfile
from typing import Iterable, Iterator, Sequence

import xlsxwriter

#: Format name -> media type of the download.
FORMATS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: What a text cell must not begin with (OWASP "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Rows of one XLSX sheet, the header row included (Excel's limit).
XLSX_MAX_ROWS = 1_048_576
#: Bytes per chunk of a streamed download.
CHUNK_SIZE = 64 * 1024

#: A cell's value as the writers take it.
Cell = object


def neutralize(text: str) -> str:
    """``text`` made safe to open in a spreadsheet: a leading ``'`` when it begins with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (OWASP "CSV Injection").

    The one neutralization of both formats.  Spreadsheets show the quote, and the
    text as it was after it; nothing is evaluated.

    :param text: a text cell's content.
    :returns: ``text``, or ``"'" + text``.
    """
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _naive_utc(value: dt.datetime) -> dt.datetime:
    """A date-time in UTC without its zone (spreadsheets keep no zone)."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def csv_text(value: Cell) -> str:
    """One cell of a CSV row: see the module's description of the format.

    :param value: a typed value (see the module); anything else is written as its text.
    """
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return neutralize(str(value))
    if isinstance(value, str):
        return neutralize(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dt.datetime):
        return _naive_utc(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return neutralize(str(value))


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Iterator[bytes]:
    """A CSV file, header first, as UTF-8 chunks of about :data:`CHUNK_SIZE` bytes.

    :param rows: consumed one at a time; nothing is kept once written.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_text(label) for label in header])
    for row in rows:
        writer.writerow([csv_text(value) for value in row])
        if buffer.tell() >= CHUNK_SIZE:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


class _XlsxWriter:
    """One workbook of typed rows, sheet after sheet as each fills (``constant_memory``)."""

    def __init__(self, path: str, header: Sequence[str], sheet_name: str):
        self.workbook = xlsxwriter.Workbook(path, {
            "constant_memory": True,
            # Text stays text: never a formula, a link or a number.
            "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
            "remove_timezone": True,
        })
        self.header = [csv_text(label) for label in header]
        self.name = sheet_name
        self.bold = self.workbook.add_format({"bold": True})
        self.datetime = self.workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.date = self.workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.sheets = 0
        self._new_sheet()

    def _new_sheet(self) -> None:
        self.sheets += 1
        self.sheet = self.workbook.add_worksheet(self.name if self.sheets == 1 else f"{self.name[:26]} ({self.sheets})")
        self.sheet.set_column(0, max(len(self.header) - 1, 0), 18)
        self.sheet.write_row(0, 0, self.header, self.bold)
        self.row = 1

    def write(self, values: Sequence[Cell]) -> None:
        if self.row == XLSX_MAX_ROWS:
            self._new_sheet()
        sheet, r = self.sheet, self.row
        for c, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, (str, enum.Enum)):
                sheet.write_string(r, c, neutralize(str(value)))
            elif isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, (int, float, decimal.Decimal)):
                sheet.write_number(r, c, float(value))
            elif isinstance(value, dt.datetime):
                sheet.write_datetime(r, c, _naive_utc(value), self.datetime)
            elif isinstance(value, dt.date):
                sheet.write_datetime(r, c, value, self.date)
            else:
                sheet.write_string(r, c, neutralize(str(value)))
        self.row += 1

    def close(self) -> None:
        self.workbook.close()


def sheet_title(text: str) -> str:
    """``text`` as a worksheet name: at most 31 characters, none of ``[]:*?/\\``."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in text).strip("' ")
    return cleaned[:31] or "Export"


def xlsx_chunks(header: Sequence[str], rows: Iterable[Sequence[Cell]], sheet_name: str) -> Iterator[bytes]:
    """An XLSX workbook of ``rows`` (header row first, bold), in chunks of :data:`CHUNK_SIZE` bytes.

    The workbook is written to a temporary file in constant memory, then read
    out and deleted (also when the download is broken off).

    :param sheet_name: the first sheet's name (see :func:`sheet_title`).
    """
    fd, path = tempfile.mkstemp(prefix="abparts-export-", suffix=".xlsx")
    os.close(fd)
    try:
        writer = _XlsxWriter(path, header, sheet_title(sheet_name))
        for row in rows:
            writer.write(row)
        writer.close()
        with open(path, "rb") as file:
            while chunk := file.read(CHUNK_SIZE):
                yield chunk
    finally:
        os.remove(path)


def chunks(fmt: str, header: Sequence[str], rows: Iterable[Sequence[Cell]], sheet_name: str) -> Iterator[bytes]:
    """The download of ``rows`` in format ``fmt`` (a key of :data:`FORMATS`), chunk by chunk."""
    if fmt == "xlsx":
        return xlsx_chunks(header, rows, sheet_name)
    return csv_chunks(header, rows)
