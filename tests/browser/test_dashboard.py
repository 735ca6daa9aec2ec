"""Each demo login lands on the dashboard of its role, and its figures open the lists they count."""
from __future__ import annotations

import pytest

from .conftest import record_count

#: The boards (panel ids) each demo login's dashboard shows.
STAFF = ["board-alerts", "board-value", "board-waiting", "board-transit", "board-consumed", "movements-chart"]
CUSTOMER = ["board-alerts", "board-incoming", "board-usage"]
AUDITOR = ["board-ledger-check", "board-exports", "board-adjustments", "movements-chart"]
BOARDS = {"superadmin": STAFF, "oraseas.admin": STAFF, "aegean.admin": CUSTOMER, "aegean.user": CUSTOMER,
          "nordic.user": CUSTOMER, "auditor": AUDITOR}


@pytest.mark.parametrize("username", list(BOARDS))
def test_each_demo_login_lands_on_the_dashboard_of_its_role(browse, username):
    page = browse(username)
    assert page.locator("h2").first.inner_text().startswith("Dashboard")
    for board in BOARDS[username]:
        assert page.locator(f"#{board}").is_visible(), board
    for board in set(STAFF + CUSTOMER + AUDITOR) - set(BOARDS[username]):
        assert page.locator(f"#{board}").count() == 0, board
    # the stock-outs total opens the stock lines it counts
    total = page.locator("#board-alerts tfoot a").first if username != "auditor" else None
    if total is not None:
        figure = int(total.inner_text())
        total.click()
        page.wait_for_load_state()
        assert (record_count(page) if figure else 0) == figure


def test_the_auditor_runs_the_ledger_check_from_the_dashboard(browse):
    page = browse("auditor")
    before = int(page.locator("#board-ledger-check a").first.inner_text())
    with page.expect_navigation():
        page.locator("#run-ledger-check").click()
    assert "Ledger check:" in " ".join(page.locator(".alert").all_inner_texts())
    assert page.locator("#ledger-check-result").inner_text() in ("Books agree", "Books disagree")
    assert int(page.locator("#board-ledger-check a").first.inner_text()) == before + 1
