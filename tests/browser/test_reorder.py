"""A customer's admin reviews the suggested reorder points and accepts them; the stock
levels list then shows the low lines under the status filter, sorted by severity (issue 11)."""
from __future__ import annotations

import os

from .conftest import ARTIFACTS, open_menu

SEVERITY = ["Out of stock", "Low stock", "OK", "Excess stock"]


def _shot(page, name: str) -> None:
    """Keep a screenshot for a person to look at (``ABPARTS_SCREENSHOTS=1``)."""
    if os.environ.get("ABPARTS_SCREENSHOTS") == "1":
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_customer_admin_accepts_the_suggested_reorder_points(browse):
    admin = browse("nordic.admin")
    open_menu(admin, "Inventory", "Reorder Points")
    table = admin.locator("table.table-bordered")
    assert "Nordic Net Services" in table.inner_text()  # the demo leaves this customer's suggestions to review
    _shot(admin, "reorder_points")
    admin.get_by_role("button", name="Accept all").click()
    admin.wait_for_load_state()
    assert "reorder point(s) set." in admin.locator(".alert").first.inner_text()
    assert admin.locator("table.table-bordered").count() == 0  # nothing left to review

    admin.goto("/inventorymodelview/list/?_oc_InventoryModelView=status&_od_InventoryModelView=asc"
               "&psize_InventoryModelView=100")
    headers = [h.strip() for h in admin.locator("table.table-bordered th").all_inner_texts()]
    status = headers.index("Status")
    rows = admin.locator("table.table-bordered tbody tr")
    labels = [row.locator("td").nth(status).inner_text().strip() for row in rows.all()]
    assert labels and [SEVERITY.index(label) for label in labels] == sorted(SEVERITY.index(label) for label in labels)
    _shot(admin, "stock_levels_by_status")

    admin.goto("/inventorymodelview/list/?_flt_0_status=low")
    _shot(admin, "stock_levels_low")
    cells = admin.locator("table.table-bordered tbody tr td").all_inner_texts()
    if cells:
        assert {text.strip() for text in cells} & {"Low stock"} and "OK" not in {text.strip() for text in cells}
