"""A stocktake counted on a phone: the customer's admin starts the demo's planned
stocktake of Aegean Aquafarms' main store, its user counts in the aisle on a
phone-sized screen (part number, quantity, save), never seeing the book figures."""
from __future__ import annotations

import re

from .conftest import open_menu, submit

#: A phone held upright (CSS pixels), as the counters carry them.
PHONE = {"width": 390, "height": 844}


def test_a_counter_counts_on_a_phone(browse):
    admin = browse("aegean.admin")
    open_menu(admin, "Inventory", "Stocktakes")
    admin.locator("table tr").filter(has_text="planned").filter(has_text="Aegean").first.locator(
        "a[href*='/show/']").click()
    assert "counting" in submit(admin, "Start counting").lower()
    show_url = admin.url

    counter = browse("aegean.user", viewport=PHONE)
    counter.goto(show_url)
    counter.get_by_role("link", name="Count screen").click()
    progress = counter.locator("#progress").inner_text()
    done, total = map(int, re.match(r"(\d+) of (\d+) lines counted", progress).groups())
    assert done == 0 and total > 0
    first = counter.locator("#count-lines tbody tr").first.get_attribute("data-part")
    # The big fields fit the phone's width: nothing to scroll sideways to.
    assert counter.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = counter.locator("#quantity").bounding_box()
    assert box["height"] >= 44 and box["x"] + box["width"] <= PHONE["width"]
    counter.fill("#part_number", first.lower())  # typed as it comes: the part number in any case
    counter.fill("#quantity", "3")
    message = submit(counter, "Save count")
    assert f"{first}: counted." in message
    assert counter.locator("#progress").inner_text().startswith(f"1 of {total} lines counted")
    # blind: the counter's screens show no book quantity or variance
    text = counter.locator("body").inner_text()
    for hidden in ("Snapshot", "Variance", "Book at count"):
        assert hidden not in text
    counter.goto(show_url)
    assert "Variance" not in counter.locator("body").inner_text()
