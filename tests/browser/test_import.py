"""Bulk import in the browser (issue 11): the Super Admin imports two parts, Aegean's admin their
opening stock; each checks the file first (the dry run), reads the report, confirms, and sees the result."""
from __future__ import annotations

import secrets

from playwright.sync_api import expect

from .conftest import ARTIFACTS, open_menu, submit


def check_file(page, name: str, text: str) -> None:
    """Choose ``text`` as the file ``name`` in the upload form and press Check (dry run)."""
    page.set_input_files("#import-file", files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode()}])
    with page.expect_navigation():
        page.get_by_role("button", name="Check (dry run)").click()


def test_import_parts_then_their_opening_stock(browse):
    tag = secrets.token_hex(3).upper()
    numbers = [f"IMP-{tag}-1", f"IMP-{tag}-2"]

    boss = browse("superadmin")
    open_menu(boss, "Catalog", "Import Parts")
    expect(boss.get_by_role("link", name="XLSX")).to_be_visible()
    check_file(boss, "parts.csv", "part_number,name,part_type,unit_of_measure,unit_price\n"
                                  f"{numbers[0].lower()},Imported filter,consumable,pieces,12.50\n"
                                  f"{numbers[1]},Imported grease,bulk_material,kg,8\n")
    expect(boss.locator("#import-ok")).to_contain_text("No problems")
    expect(boss.locator("#import-preview")).to_contain_text(numbers[0])  # normalised, as the form stores it
    boss.screenshot(path=str(ARTIFACTS / "import-parts-dry-run.png"), full_page=True)
    assert "Imported 2 parts from parts.csv" in submit(boss, "Import 2 rows")

    admin = browse("aegean.admin")
    open_menu(admin, "Inventory", "Import Opening Stock")
    check_file(admin, "stock.csv", "organization,warehouse,part_number,quantity\n"
                                   f"Aegean Aquafarms,Main Store,{numbers[0]},7\n"
                                   f"Nordic Net Services,Main Store,{numbers[0]},7\n"
                                   f"Aegean Aquafarms,Main Store,{numbers[1]},2.5\n")
    problems = admin.locator("#import-errors tbody tr")
    expect(problems).to_have_count(1)
    expect(problems.first).to_contain_text("3")
    expect(problems.first).to_contain_text("among the warehouses of your organization")
    expect(admin.locator("#import-confirm")).to_have_count(0)
    admin.screenshot(path=str(ARTIFACTS / "import-stock-problems.png"), full_page=True)

    check_file(admin, "stock.csv", "organization,warehouse,part_number,quantity\n"
                                   f"Aegean Aquafarms,Main Store,{numbers[0]},7\n"
                                   f"Aegean Aquafarms,Main Store,{numbers[1]},2.5\n")
    expect(admin.locator("#import-ok")).to_be_visible()
    admin.screenshot(path=str(ARTIFACTS / "import-stock-dry-run.png"), full_page=True)
    assert "Imported 2 lines of opening stock from stock.csv" in submit(admin, "Import 2 rows")

    admin.goto(f"/partmodelview/list/?q={numbers[1]}")
    admin.locator("a[href*='/partmodelview/show/']").first.click()
    admin.wait_for_load_state()
    admin.locator(".nav-tabs a", has_text="Stock levels").click()
    stock = admin.locator(".tab-pane.active tr").filter(has_text="Main Store")
    expect(stock).to_be_visible()
    expect(stock).to_contain_text("2.5 kg")
    admin.screenshot(path=str(ARTIFACTS / "import-stock-done.png"), full_page=True)
