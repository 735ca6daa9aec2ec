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


def test_the_auditors_dashboard_in_greek(browse):
    """The dashboard's boards, the chart's months and the ledger check's result and flash in Greek."""
    import datetime as dt

    auditor = browse("auditor")
    switch_language(auditor, "el")
    try:
        board = auditor.locator(".abparts-dashboard").inner_text()
        for words in ("Πίνακας ελέγχου", "Ακεραιότητα καθολικού", "Διορθώσεις αποθέματος ανά αιτιολογία",
                      "Κινήσεις καθολικού ανά μήνα"):
            assert words in board
        months = auditor.locator("#movements-chart text").all_text_contents()
        greek_months = ["Ιαν", "Φεβ", "Μάρ", "Απρ", "Μάι", "Ιούν", "Ιούλ", "Αύγ", "Σεπ", "Οκτ", "Νοέ", "Δεκ"]
        this_month = f"{greek_months[dt.date.today().month - 1]} {dt.date.today():%y}"
        assert this_month in months, months
        with auditor.expect_navigation():
            auditor.locator("#run-ledger-check").click()
        alerts = " ".join(auditor.locator(".alert").all_inner_texts())
        assert "Έλεγχος καθολικού:" in alerts and "Ledger check" not in alerts, alerts
        assert auditor.locator("#ledger-check-result").inner_text() in ("Τα βιβλία συμφωνούν", "Τα βιβλία διαφωνούν")
    finally:
        switch_language(auditor, "en")
