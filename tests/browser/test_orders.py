"""A customer orders parts from the browser, picking its dates in the date picker;
Oraseas EE approves the order (the date-picker defect once kept orders from saving)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from .conftest import choose, open_menu, submit

#: The browser's time zone (see the ``browse`` fixture): the picker's "today" is Athens' today.
ATHENS = ZoneInfo("Europe/Athens")


def pick_date(page, field: str, months_ahead: int, day: int) -> None:
    """Open the date picker of ``field`` and click ``day`` of the month ``months_ahead`` from now."""
    page.click(field)
    picker = page.locator(".datepicker-days:visible")
    for _ in range(months_ahead):
        picker.locator("th.next").click()
    picker.locator("td.day:not(.old):not(.new)").filter(has_text=str(day)).get_by_text(
        str(day), exact=True).click()
    page.keyboard.press("Escape")


def open_tab(page, name: str) -> None:
    """Click the tab ``name`` of a show page (FAB's tabs are plain links)."""
    page.locator("a[data-toggle='tab']").filter(has_text=name).click()


def order_row(page, expected_delivery: str):
    """The list row of the order with this expected delivery date (shown as ``YYYY-MM-DD 00:00 UTC``)."""
    return page.locator("table tr").filter(has_text=f"{expected_delivery} 00:00 UTC")


def test_customer_orders_with_the_date_picker_and_oraseas_approves(browse):
    today = dt.datetime.now(ATHENS).date()
    # The 28th of next month: no demo order is expected that late (they are due within 10 days).
    due = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=28)

    customer = browse("aegean.admin")
    open_menu(customer, "Orders", "Customer Orders")
    customer.locator("a[href$='/add']").click()
    choose(customer, "#customer_organization + .select2 .select2-selection", "Aegean")
    pick_date(customer, "#order_date", 0, today.day)
    pick_date(customer, "#expected_delivery_date", 1, 28)
    assert customer.input_value("#order_date") == today.isoformat()
    assert customer.input_value("#expected_delivery_date") == due.isoformat()
    customer.fill("#notes", "Nozzles for the spring service")
    assert "Added Row" in submit(customer)
    row = order_row(customer, due.isoformat())
    assert row.count() == 1, "the new order is not in the customer's list"
    assert "Requested" in row.inner_text() and f"{today.isoformat()} 00:00 UTC" in row.inner_text()

    # Its lines: a part, and a quantity in the part's unit.
    row.locator("a[href*='/show/']").click()
    open_tab(customer, "Customer order lines")
    customer.locator(".tab-pane.active a[href*='/add?']").click()
    choose(customer, "#part + .select2 .select2-selection", "AB-1000")
    customer.fill("#quantity", "3")
    assert "Added Row" in submit(customer)
    open_tab(customer, "Customer order lines")
    assert "3 pieces" in customer.locator(".tab-pane.active").inner_text()

    oraseas = browse("oraseas.admin")
    open_menu(oraseas, "Orders", "Customer Orders")
    order_row(oraseas, due.isoformat()).locator("a[href*='/show/']").click()
    assert "Aegean Aquafarms" in oraseas.locator(".tab-pane.active").inner_text()
    assert "Approved." in submit(oraseas, "Approve")
    assert "Approved" in oraseas.locator("table tr").filter(has_text="Status").inner_text()
