"""A user switches the portal to Greek in the navbar: Greek menus, a Greek rule message,
and the choice kept for the next visit; then back to English (issue 13)."""
from __future__ import annotations

from .conftest import choose, open_menu


def switch_language(page, code: str) -> None:
    """Open the navbar's language menu and pick ``code`` ("el", "en"), as a person does."""
    page.locator("#language-switcher > a.dropdown-toggle").click()
    with page.expect_navigation():
        page.locator(f"#language-switcher button[data-language='{code}']").click()


def test_switch_to_greek_in_the_navbar(browse):
    admin = browse("nordic.admin")
    switch_language(admin, "el")
    try:
        menu = admin.locator(".navbar-nav").first.inner_text()
        for word in ("Οργανισμοί", "Κατάλογος", "Αποθέματα", "Παραγγελίες"):
            assert word in menu
        open_menu(admin, "Οργανισμοί", "Αποθήκες")
        assert admin.locator("h4, .panel-title, h3, h2").filter(has_text="Αποθήκες").count() >= 1
        headers = [h.strip() for h in admin.locator("table.table-bordered th").all_inner_texts()]
        column = headers.index("Όνομα")  # FAB's column headers are ours, in Greek
        existing = admin.locator("table.table-bordered tbody tr").first.locator("td").nth(column).inner_text().strip()

        admin.locator("a[href$='/add']").click()
        choose(admin, "#organization + .select2 .select2-selection", "Nordic", "Nordic Net Services")
        admin.fill("#name", existing)
        with admin.expect_navigation():
            admin.get_by_role("button", name="Αποθήκευση").click()  # FAB's Save, from FAB's Greek catalog
        alerts = " ".join(admin.locator(".alert").all_inner_texts())
        assert "Τα ονόματα αποθηκών πρέπει να είναι μοναδικά εντός ενός οργανισμού." in alerts, alerts
        assert "must be unique" not in alerts

        # The choice is the user's: a new window (a new login) opens in Greek.
        again = browse("nordic.admin")
        assert "Οργανισμοί" in again.locator(".navbar-nav").first.inner_text()
    finally:
        switch_language(admin, "en")
    assert "Organizations" in admin.locator(".navbar-nav").first.inner_text()
