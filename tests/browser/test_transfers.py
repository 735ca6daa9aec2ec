"""A two-sided stock transfer: Oraseas EE creates and dispatches it, the customer
receives it (short on one line), each in its own browser window."""
from __future__ import annotations

from .conftest import choose, open_menu, submit

#: Parts Central Warehouse holds plenty of in the demo (random seed 2026): one counted in
#: pieces, one in kilograms.
PIECES, BULK = "AB-1141", "OR-1089"


def test_oraseas_dispatches_and_the_customer_receives(browse):
    oraseas = browse("oraseas.admin")
    open_menu(oraseas, "Inventory", "Stock Transfers")
    oraseas.locator("a[href$='/add']").click()
    oraseas.select_option("#from_warehouse", label="Central Warehouse")
    choose(oraseas, "#to_warehouse + .select2 .select2-selection", "Aegean Aquafarms",
           "Main Store (Aegean Aquafarms)")
    choose(oraseas, oraseas.locator("#transfer-lines .select2-selection").nth(0), PIECES)
    oraseas.locator("#transfer-lines input[name=quantity]").nth(0).fill("4")
    oraseas.get_by_role("button", name="Add a line").click()
    choose(oraseas, oraseas.locator("#transfer-lines .select2-selection").nth(1), BULK)
    oraseas.locator("#transfer-lines input[name=quantity]").nth(1).fill("2.5")
    oraseas.fill("#notes", "Spring service kit")
    assert "saved (draft)" in submit(oraseas)
    reference = oraseas.locator("h2").inner_text().split()[2]
    assert reference.startswith("TR-")
    assert "dispatched" in submit(oraseas, "Dispatch").lower()
    assert "dispatched" in oraseas.locator("h2 .label").inner_text()

    customer = browse("aegean.user")
    open_menu(customer, "Inventory", "Stock Transfers")
    row = customer.locator("table tr").filter(has_text=reference)
    assert "Dispatched" in row.inner_text() and "Main Store (Aegean Aquafarms)" in row.inner_text()
    row.locator("a[href*='/show/']").click()
    # Everything arrived but half a kilogram.
    customer.get_by_label(f"Quantity of {BULK} received").fill("2")
    submit(customer, "Receive")
    assert customer.locator("h2 .label").inner_text() == "received with discrepancy"
    lines = customer.locator("#transfer-lines tbody tr")
    assert "4 pieces" in lines.filter(has_text=PIECES).inner_text()
    bulk_line = lines.filter(has_text=BULK).locator("td").all_inner_texts()
    # quantity, received, returned, written off, in transit
    assert bulk_line[2:7] == ["2.5 kg", "2 kg", "0 kg", "0 kg", "0.5 kg"], bulk_line
