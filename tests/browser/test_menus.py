"""Each demo login sees a menu that fits its role, and every entry of it opens."""
from __future__ import annotations

import pytest

ORGANIZATIONS = ["Organizations", "Warehouses", "Users"]
CATALOG = ["Parts", "Machines"]
INVENTORY = ["Stock Levels", "Stock Transfers", "Stock in Transit", "Stocktakes", "Transactions",
             "Stock Adjustments", "Approvals"]
ORDERS = ["Customer Orders", "Supplier Orders"]
USAGE = ["Part Usage"]
AUDIT = ["Security Events", "User Sessions", "User Management Log", "Invitation Log", "Export Log"]
SECURITY = ["List Users", "List Roles", "List Groups", "User's Statistics", "Base Permissions", "Views/Menus",
            "Permission on Views/Menus"]
#: What an organization's admin manages: its users, warehouses, stock (and its opening stock, imported)
#: and orders, and reads its audit trail.
ADMIN_MENU = {"Organizations": ORGANIZATIONS, "Catalog": CATALOG, "Inventory": INVENTORY + ["Import Opening Stock"],
              "Orders": ORDERS, "Usage": USAGE, "Audit": AUDIT}
#: A customer's user: stock, parts and machines, transfers to receive, stocktakes to count, its orders,
#: part usage; no users or audit.
USER_MENU = {"Organizations": ["Organizations", "Warehouses"], "Catalog": CATALOG,
             "Inventory": ["Stock Levels", "Stock Transfers", "Stock in Transit", "Stocktakes"], "Orders": ORDERS,
             "Usage": USAGE}
#: Staff who see every organization also narrow the portal to one (the switcher).
SWITCHING = {"Organizations": ORGANIZATIONS + ["Switch Organization"]}

MENUS = {
    # the Super Admin alone adds parts, so imports them too
    "superadmin": {"Security": SECURITY, **ADMIN_MENU, **SWITCHING, "Catalog": CATALOG + ["Import Parts"]},
    # the auditor reads every list and imports nothing
    "auditor": {**ADMIN_MENU, **SWITCHING, "Inventory": INVENTORY},
    "oraseas.admin": ADMIN_MENU,
    "aegean.admin": ADMIN_MENU,
    "aegean.user": USER_MENU,
    "nordic.admin": ADMIN_MENU,
    "nordic.user": USER_MENU,
}

_READ_MENU = """() => [...document.querySelectorAll('.navbar-nav:not(.navbar-right) > li.dropdown')].map(li => [
    li.querySelector(':scope > a').innerText.trim(),
    [...li.querySelectorAll(':scope > ul.dropdown-menu > li > a')].map(a => a.textContent.trim())])"""

_MENU_LINKS = """() => [...document.querySelectorAll('.navbar-nav:not(.navbar-right) > li.dropdown > ul.dropdown-menu > li > a')]
    .map(a => [a.textContent.trim(), a.getAttribute('href')])"""


def navbar_menu(page) -> dict[str, list[str]]:
    """The navbar's drop-downs as the page shows them: ``{category: [entries]}``."""
    return dict(page.evaluate(_READ_MENU))


@pytest.mark.parametrize("username", list(MENUS))
def test_each_demo_login_sees_the_menu_of_its_role(browse, username):
    page = browse(username)
    assert navbar_menu(page) == MENUS[username]


@pytest.mark.parametrize("username", ["superadmin", "aegean.user"])
def test_every_menu_entry_opens(browse, username):
    """The widest menu (every screen, FAB's security screens too) and the narrowest:
    no entry ends on a refusal or the login page, and no screen needs the internet."""
    page = browse(username)
    links = page.evaluate(_MENU_LINKS)
    assert [name for name, _href in links] == [entry for entries in MENUS[username].values() for entry in entries]
    for name, href in links:
        page.goto(href)
        assert "/login" not in page.url, f"{name} sent {username} to the login page"
        assert "Access is Denied" not in page.locator("body").inner_text(), name
        assert page.locator(".panel-heading, h2").count(), f"{name}: a page with no heading"
