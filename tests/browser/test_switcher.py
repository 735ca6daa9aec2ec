"""The super admin narrows the portal to one customer with the organization switcher, and back."""
from __future__ import annotations

from .conftest import open_menu, record_count, submit


def warehouse_organizations(page) -> set[str]:
    """The organizations named in the Warehouses list (its "Organization" column)."""
    header = page.locator("table.table-bordered th").all_inner_texts()
    column = [h.strip() for h in header].index("Organization")
    return {row.locator("td").nth(column).inner_text().strip()
            for row in page.locator("table.table-bordered tbody tr").all()}


def switch_to(page, organization: str) -> str:
    open_menu(page, "Organizations", "Switch Organization")
    page.select_option("#organization_id", label=organization)
    return submit(page, "Show")


def test_super_admin_narrows_the_portal_to_one_organization_and_back(browse):
    admin = browse("superadmin")
    open_menu(admin, "Organizations", "Warehouses")
    everyone = record_count(admin)

    assert "Showing Nordic Net Services only" in switch_to(admin, "Nordic Net Services (Customer)")
    open_menu(admin, "Organizations", "Warehouses")
    assert warehouse_organizations(admin) == {"Nordic Net Services"}
    assert record_count(admin) < everyone
    open_menu(admin, "Orders", "Customer Orders")
    assert {row.locator("td").nth(2).inner_text() for row in admin.locator("table.table-bordered tbody tr").all()} \
        == {"Nordic Net Services"}

    assert "Showing all organizations." in switch_to(admin, "All organizations")
    open_menu(admin, "Organizations", "Warehouses")
    assert record_count(admin) == everyone
