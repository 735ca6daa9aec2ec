"""A customer's admin adds a colleague and a warehouse to its own organization."""
from __future__ import annotations

import re

from .conftest import choose, log_in, open_menu, submit


def test_customer_admin_adds_a_user_who_can_then_log_in(browse):
    admin = browse("aegean.admin")
    open_menu(admin, "Organizations", "Users")
    admin.locator("a[href$='/add']").click()
    admin.fill("#first_name", "Eleni")
    admin.fill("#last_name", "Diver")
    admin.fill("#username", "aegean.diver")
    admin.fill("#email", "eleni.diver@aegean-aquafarms.example")
    choose(admin, "#organization + .select2 .select2-selection", "Aegean", "Aegean Aquafarms")
    admin.locator("#roles + .select2").click()
    admin.locator(".select2-results__option").filter(has_text=re.compile(r"^User$")).click()
    admin.fill("#password", "Net-cleaner-2026")
    admin.fill("#conf_password", "Net-cleaner-2026")
    assert "Added Row" in submit(admin)
    row = admin.locator("table tr").filter(has_text="aegean.diver")
    cells = [cell.strip() for cell in row.locator("td").all_inner_texts()]
    first = cells.index("Eleni")  # after the row's checkbox (list actions) and its buttons
    assert cells[first:first + 7] == [
        "Eleni", "Diver", "aegean.diver", "eleni.diver@aegean-aquafarms.example", "Aegean Aquafarms", "User",
        "Active"]

    newcomer = browse(None)
    log_in(newcomer, "aegean.diver", "Net-cleaner-2026")
    assert "Eleni Diver" in newcomer.locator(".navbar-right").inner_text()
    open_menu(newcomer, "Inventory", "Stock Levels")
    assert "Main Store" in newcomer.locator("table.table-bordered").inner_text()


def test_customer_admin_adds_a_warehouse(browse):
    admin = browse("aegean.admin")
    open_menu(admin, "Organizations", "Warehouses")
    admin.locator("a[href$='/add']").click()
    choose(admin, "#organization + .select2 .select2-selection", "Aegean", "Aegean Aquafarms")
    admin.fill("#name", "Harbour Store")
    admin.fill("#location", "Aegean harbour, pier 3")
    assert "Added Row" in submit(admin)
    row = admin.locator("table tr").filter(has_text="Harbour Store")
    assert "Aegean Aquafarms" in row.inner_text() and "Aegean harbour, pier 3" in row.inner_text()
