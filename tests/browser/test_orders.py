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


def test_an_order_from_the_date_picker_to_its_receipt(browse):
    """The customer drafts an order (dates from the picker), adds a line and submits it; worth
    more than the threshold, it waits for Oraseas EE, which approves it and ships part of it;
    the customer receives the shipment into its store.  Each step's page is checked as a user sees it."""
    today = dt.datetime.now(ATHENS).date()
    # The 28th of next month: no demo order is expected that late (they are due within 10 days).
    due = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=28)

    customer = browse("aegean.admin")
    open_menu(customer, "Orders", "Customer Orders")
    customer.locator("a[href$='/add']").click()
    # a customer orders for itself: its organization is already chosen
    assert "Aegean Aquafarms" in customer.locator("#customer_organization + .select2").inner_text()
    pick_date(customer, "#order_date", 0, today.day)
    pick_date(customer, "#expected_delivery_date", 1, 28)
    assert customer.input_value("#order_date") == today.isoformat()
    assert customer.input_value("#expected_delivery_date") == due.isoformat()
    customer.fill("#notes", "Nozzles for the spring service")
    assert "Added Row" in submit(customer)
    # the new order's page, a draft, where its lines are added
    assert "Draft" in customer.locator("table tr").filter(has_text="Status").inner_text()
    order_url = customer.url
    customer.locator("#add-order-line").click()
    choose(customer, "#part + .select2 .select2-selection", "AB-1000")
    customer.fill("#quantity", "400")  # 400 x 14.00 + : above the approval threshold
    assert "Added Row" in submit(customer)
    assert customer.url == order_url
    assert "400 pieces" in customer.locator("#order-lines").inner_text()
    assert "Submitted." in submit(customer, "Submit order")
    assert "Requested" in customer.locator("table tr").filter(has_text="Status").inner_text()
    assert "above the approval threshold" in customer.locator("#order-history").inner_text()

    oraseas = browse("oraseas.admin")
    open_menu(oraseas, "Orders", "Customer Orders")
    order_row(oraseas, due.isoformat()).locator("a[href*='/show/']").click()
    assert "Aegean Aquafarms" in oraseas.locator(".tab-pane.active").inner_text()
    assert "Approved." in submit(oraseas, "Approve")
    oraseas.locator("#ship-form input[name^='ship_']").fill("2")
    assert "Shipped" in submit(oraseas, "Ship")
    assert "Shipped" in oraseas.locator("table tr").filter(has_text="Status").inner_text()
    assert "SH-" in oraseas.locator("#order-shipments").inner_text()

    customer.goto(order_url)
    receipt = customer.locator(".receive-form")
    assert receipt.count() == 1 and "Main Store" in receipt.locator("select[name='warehouse']").inner_text()
    assert "Received." in submit(customer, "Receive")
    lines = customer.locator("#order-lines").inner_text()
    assert "398 pieces" in lines  # left to ship
    assert [step for step in ("submit", "approve", "ship", "receive")
            if step in customer.locator("#order-history").inner_text()] == ["submit", "approve", "ship", "receive"]
