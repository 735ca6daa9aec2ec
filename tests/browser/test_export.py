"""The auditor exports a filtered list to CSV and reads the downloaded file.

This test reads CSV; XLSX downloads are read back with openpyxl in tests/test_export.py.
"""
from __future__ import annotations

import csv
import io

from .conftest import open_menu, record_count


def test_auditor_exports_the_searched_parts_list_to_csv(browse):
    auditor = browse("auditor")
    open_menu(auditor, "Catalog", "Parts")
    everything = record_count(auditor)
    auditor.get_by_label("Search this list").fill("nozzle")
    with auditor.expect_navigation():
        auditor.get_by_label("Search this list").press("Enter")
    shown = record_count(auditor)
    assert 0 < shown < everything

    with auditor.expect_download() as download:
        auditor.get_by_role("link", name="Export CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    with open(download.value.path(), newline="", encoding="utf-8-sig") as file:
        rows = list(csv.DictReader(io.StringIO(file.read())))
    assert len(rows) == shown
    names = {row["Name"] for row in rows}
    assert all("Nozzle" in name for name in names), names
    assert not [row for row in rows if "None" in row.values()]
