"""Greek and English (issue 13, "Translations"): complete catalogs, pages in Greek, the
language remembered per user, quantities and rule messages in the user's language."""
from __future__ import annotations

import decimal
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app.i18n import extract_messages

from .conftest import csrf_token

ROOT = Path(__file__).resolve().parents[1]
D = decimal.Decimal


def catalog(lang: str):
    with (ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=lang)


@pytest.fixture(scope="module")
def msgids():
    """Every msgid of ours, extracted from the sources as ``pybabel extract`` does: a string
    added later without a translation fails these tests even before the catalog is updated."""
    return extract_messages(ROOT)


@pytest.fixture(scope="module")
def greek():
    return {msg.id if isinstance(msg.id, str) else tuple(msg.id): msg for msg in catalog("el") if msg.id}


# --- the catalogs ------------------------------------------------------------------------------

def test_every_msgid_of_ours_has_a_greek_translation(msgids, greek):
    missing = sorted(str(m) for m in msgids if m not in greek)
    assert not missing, (f"{len(missing)} msgids are not in translations/el "
                         f"(see translations/README.md): {missing[:10]}")
    empty = sorted(str(m) for m in msgids
                   if any(not s.strip() for s in ([greek[m].string] if isinstance(greek[m].string, str)
                                                   else greek[m].string)))
    assert not empty, f"{len(empty)} msgids have no Greek text: {empty[:10]}"
    fuzzy = sorted(str(m) for m in msgids if greek[m].fuzzy)
    assert not fuzzy, f"fuzzy (unchecked) Greek translations: {fuzzy[:10]}"


@pytest.mark.parametrize("lang", ["el", "en"])
def test_catalog_placeholders_match_their_msgids(lang, msgids):
    cat = catalog(lang)
    errors = [(msg.id, [str(e) for e in errs]) for msg, errs in cat.check()]
    assert not errors, errors[:5]
    ours = {msg.id if isinstance(msg.id, str) else tuple(msg.id) for msg in cat if msg.id}
    assert msgids <= ours, f"not in translations/{lang}: {sorted(map(str, msgids - ours))[:10]}"


def test_greek_plural_forms_are_declared():
    assert catalog("el").num_plurals == 2


# --- pages rendered in Greek -------------------------------------------------------------------

class _VisibleText(HTMLParser):
    """The text nodes a person reads (and titles, placeholders, labels of controls)."""

    HIDDEN = {"script", "style", "code", "title"}
    ATTRS = {"title", "placeholder", "aria-label", "alt"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self._hidden += 1
        for name, value in attrs:
            if name in self.ATTRS and value:
                self.texts.append(value.strip())
            if tag == "input" and name == "value" and ("type", "submit") in attrs and value:
                self.texts.append(value.strip())

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.texts.append(" ".join(data.split()))


def visible_texts(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    return parser.texts


#: Texts that read the same in both languages or are FAB's own words that its Greek catalog
#: leaves in English: allowed on a Greek page.
#: FAB's role names are data ("User" in a user's Roles column), not words of ours.  "OK" and
#: "Cancel" are the literal buttons of FAB's alert and confirm dialogs (not msgids in FAB's
#: templates); ours, the stock status and the import's button, are translated.
SAME_IN_GREEK = {"Oraseas EE", "BossAqua", "CSV", "XLSX", "User", "OK", "Cancel"}

#: The pages of each role: the dashboards ("/": staff, customer and auditor boards), the stock
#: screens, the reorder points and the imports included.
PAGES = {
    "superadmin": ["/", "/inventorymodelview/list/", "/intransitview/list/", "/inventorynegativeview/list/",
                   "/transactionmodelview/list/", "/transactionmodelview/add", "/stockadjustmentmodelview/list/",
                   "/stockadjustmentmodelview/add", "/transactionapprovalmodelview/list/",
                   "/reordersuggestionmodelview/list/", "/import/parts/", "/import/stock/",
                   "/organizationmodelview/list/", "/warehousemodelview/list/", "/partmodelview/list/",
                   "/machinemodelview/list/", "/stocktransfermodelview/list/", "/stocktakemodelview/list/",
                   "/customerordermodelview/list/", "/supplierordermodelview/list/",
                   "/partusagemodelview/list/", "/securityeventmodelview/list/", "/usersessionmodelview/list/",
                   "/exportlogmodelview/list/", "/users/list/", "/organization-switcher/",
                   "/warehousemodelview/add", "/machinemodelview/add", "/stocktransfermodelview/add",
                   "/stocktakemodelview/plan", "/my-sessions/", "/nosuchpage/"],
    "oraseas.admin": ["/", "/organizationmodelview/list/", "/warehousemodelview/list/",
                      "/stocktransfermodelview/list/", "/customerordermodelview/list/", "/users/list/"],
    "acme.admin": ["/", "/inventorymodelview/list/", "/transactionmodelview/list/",
                   "/reordersuggestionmodelview/list/", "/import/stock/", "/warehousemodelview/list/",
                   "/customerordermodelview/list/", "/customerordermodelview/add", "/supplierordermodelview/add",
                   "/partusagemodelview/add", "/users/invite"],
    "acme.user": ["/", "/inventorymodelview/list/", "/partmodelview/list/", "/machinemodelview/list/",
                  "/stocktakemodelview/list/", "/securityeventmodelview/list/"],
    "auditor": ["/", "/transactionmodelview/list/", "/reordersuggestionmodelview/list/",
                "/organizationmodelview/list/", "/exportlogmodelview/list/"],
}


def in_greek(client):
    """Choose Greek in the navbar's switcher, as a person does (a POST with the page's CSRF token)."""
    page = client.get("/organizationmodelview/list/").get_data(as_text=True)
    resp = client.post("/language/el", data={"csrf_token": csrf_token(page), "next": "/"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/")
    return client


def english_leftovers(html: str, greek) -> list[str]:
    """Texts of the page that are English msgids of ours with a different Greek translation."""
    english = {msg.id: msg.string for key, msg in greek.items()
               if isinstance(key, str) and "%(" not in key and msg.string != msg.id}
    return sorted({t for t in visible_texts(html) if t in english and t not in SAME_IN_GREEK})


@pytest.mark.parametrize("username", sorted(PAGES))
def test_pages_in_greek_show_no_english_string_of_ours(client_as, username, greek):
    client = in_greek(client_as(username))
    for url in PAGES[username]:
        resp = client.get(url, follow_redirects=True)
        assert resp.status_code in (200, 403, 404), (url, resp.status_code)
        html = resp.get_data(as_text=True)
        assert english_leftovers(html, greek) == [], url


def ids(app, model, **where):
    """The id of the first ``model`` row matching ``where`` (read in an app context of its own:
    the requests that follow must not share its session)."""
    from app.extensions import db

    with app.app_context():
        row = db.session.query(model).filter_by(**where).first()
        key = row.id
        db.session.remove()
    return key


def test_show_pages_in_greek(client_as, greek, app):
    """A record's page: FAB's labels from its Greek catalog, ours from ours, enums as Greek words."""
    from app import models as m

    machine, transfer = ids(app, m.Machine, serial_number="SN-ACME-1"), ids(app, m.StockTransfer)
    client = in_greek(client_as("superadmin"))
    for url in (f"/machinemodelview/show/{machine}", f"/stocktransfermodelview/show/{transfer}",
                f"/machinemodelview/edit/{machine}"):
        html = client.get(url).get_data(as_text=True)
        assert english_leftovers(html, greek) == [], url
    html = client.get(f"/stocktransfermodelview/show/{transfer}").get_data(as_text=True)
    assert "Παραλήφθηκε" in html  # TransferStatus.received
    machine_page = client.get(f"/machinemodelview/show/{machine}").get_data(as_text=True)
    assert "Λεπτομέρειες" in machine_page and "Μηχάνημα" in machine_page  # FAB's tab, the made-up title


def test_menus_and_navbar_in_greek(client_as):
    html = in_greek(client_as("acme.admin")).get("/warehousemodelview/list/").get_data(as_text=True)
    for word in ("Οργανισμοί", "Αποθήκες", "Κατάλογος", "Ανταλλακτικά", "Αποθέματα", "Παραγγελίες"):
        assert word in html
    assert 'id="language-switcher"' in html and "Ελληνικά" in html


# --- the language of a user --------------------------------------------------------------------

def test_a_users_choice_survives_logout_and_login(client_as, app):
    in_greek(client_as("acme.admin")).get("/logout/")
    again = client_as("acme.admin").get("/warehousemodelview/list/").get_data(as_text=True)
    assert "Αποθήκες" in again
    # Another user is not affected.
    assert "Warehouses" in client_as("beta.admin").get("/warehousemodelview/list/").get_data(as_text=True)


def test_switching_back_to_english(client_as):
    client = in_greek(client_as("acme.admin"))
    page = client.get("/warehousemodelview/list/").get_data(as_text=True)
    client.post("/language/en", data={"csrf_token": csrf_token(page), "next": "/warehousemodelview/list/"})
    assert "Warehouses" in client.get("/warehousemodelview/list/").get_data(as_text=True)


def test_an_unknown_language_or_a_foreign_next_is_refused(client_as):
    client = client_as("acme.admin")
    token = csrf_token(client.get("/warehousemodelview/list/").get_data(as_text=True))
    assert client.post("/language/xx", data={"csrf_token": token}).status_code == 404
    resp = client.post("/language/el", data={"csrf_token": token, "next": "//evil.example/"})
    assert resp.headers["Location"].endswith("/") and "evil" not in resp.headers["Location"]


def test_the_switch_needs_a_csrf_token(client_as):
    assert client_as("acme.admin").post("/language/el").status_code == 400


def test_the_browser_language_applies_until_a_choice_is_made(app):
    client = app.test_client()
    assert "Σύνδεση" in client.get("/login/", headers={"Accept-Language": "el-GR,el;q=0.9"}).get_data(as_text=True)
    assert "Σύνδεση" not in client.get("/login/", headers={"Accept-Language": "en-GB"}).get_data(as_text=True)


# --- rule messages -----------------------------------------------------------------------------

def _duplicate_warehouse(client, acme):
    return client.post("/warehousemodelview/add", data={
        "csrf_token": csrf_token(client.get("/warehousemodelview/add").get_data(as_text=True)),
        "organization": str(acme), "name": "Acme Main", "location": "", "is_active": "y"},
        follow_redirects=True).get_data(as_text=True)


def test_a_rule_message_is_shown_in_the_users_language(client_as, app):
    from app import models as m

    acme = ids(app, m.Organization, name="Acme Aqua")
    assert "Warehouse names must be unique within an organization." in _duplicate_warehouse(
        client_as("acme.admin"), acme)
    greek_page = _duplicate_warehouse(in_greek(client_as("acme.admin")), acme)
    assert "Τα ονόματα αποθηκών πρέπει να είναι μοναδικά εντός ενός οργανισμού." in greek_page
    assert "Warehouse names must be unique" not in greek_page


def test_the_api_answers_in_the_users_language(api_as, client_as, app):
    from app import models as m

    body = {"transaction_type": "consumption", "part": str(ids(app, m.Part, part_number="CON-1")),
            "from_warehouse": str(ids(app, m.Warehouse, name="Acme Main")), "quantity": "1000"}
    english = api_as("acme.admin").post("/api/v1/transaction/", json=body)
    assert english.status_code == 422 and "Not enough stock of CON-1" in english.get_json()["message"]
    in_greek(client_as("acme.admin"))  # the user's saved choice applies to its API token too
    greek = api_as("acme.admin").post("/api/v1/transaction/", json=body)
    assert greek.status_code == 422
    assert greek.get_json()["message"].startswith("Ανεπαρκές απόθεμα του CON-1 στην αποθήκη Acme Main")
    assert "1.000" in greek.get_json()["message"] or "1000" in greek.get_json()["message"]
    # A client without a saved choice asks with Accept-Language.
    beta_body = {**body, "from_warehouse": str(ids(app, m.Warehouse, name="Beta Main")), "quantity": "0"}
    asked = api_as("beta.admin").post("/api/v1/transaction/", json=beta_body, headers={"Accept-Language": "el"})
    assert asked.status_code == 422 and "Ποσότητα" in str(asked.get_json()["message"]), asked.get_json()
    # A field error of the payload (a warehouse the user cannot see) too.
    foreign = api_as("beta.admin").post("/api/v1/transaction/", json={**body, "quantity": "1"},
                                        headers={"Accept-Language": "el"})
    assert foreign.status_code == 422 and "Δεν υπάρχει" in str(foreign.get_json()["message"]), foreign.get_json()


def test_rule_messages_stay_english_for_logs_and_the_command_line(app):
    from app.errors import InsufficientStock
    from app.i18n import _

    from app.models.base import format_quantity

    error = InsufficientStock(_("Not enough stock of %(part_number)s in %(warehouse)s: %(on_hand)s on hand, "
                                "%(needed)s needed%(where)s.", part_number="CON-1", warehouse="Central",
                                on_hand=format_quantity(D("1"), "pieces"), needed=format_quantity(D("3")), where=""))
    english = "Not enough stock of CON-1 in Central: 1 piece on hand, 3 needed."
    assert str(error) == english and error.message == english  # no request: English
    with app.test_request_context("/", headers={"Accept-Language": "el"}):
        assert str(error).startswith("Ανεπαρκές απόθεμα του CON-1 στην αποθήκη Central")
        assert error.message == english  # what a log line prints


# --- quantities, numbers, dates ----------------------------------------------------------------

@pytest.mark.parametrize("quantity, unit, english, greek_text", [
    ("1", "pieces", "1 piece", "1 τεμάχιο"),
    ("3", "pieces", "3 pieces", "3 τεμάχια"),
    ("-1", "pieces", "-1 piece", "-1 τεμάχιο"),
    ("1234", "pieces", "1234 pieces", "1.234 τεμάχια"),
    ("2.5", "litres", "2.5 litres", "2,5 λίτρα"),
    ("1", "litres", "1 litre", "1 λίτρο"),
    ("1", "kg", "1 kg", "1 kg"),
    ("4", "boxes", "4 boxes", "4 boxes"),  # a unit without a translation keeps its name
    ("1", "boxes", "1 box", "1 box"),
])
def test_quantities_with_their_unit(app, quantity, unit, english, greek_text):
    from app.i18n import localize
    from app.models.base import format_quantity

    text = format_quantity(D(quantity), unit)
    assert text == english
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert localize(text) == english
    with app.test_request_context("/", headers={"Accept-Language": "el"}):
        assert localize(text) == greek_text


def test_a_stock_list_prints_quantities_in_greek(client_as):
    html = in_greek(client_as("acme.admin")).get("/stocktransfermodelview/list/").get_data(as_text=True)
    html_en = client_as("beta.admin").get("/stocktransfermodelview/list/").get_data(as_text=True)
    assert "Παραλήφθηκε" in html and "Received" in html_en


def test_dates_in_greek(app):
    import datetime as dt

    from app.views.base import format_datetime

    moment = dt.datetime(2026, 11, 23, 14, 5, tzinfo=dt.timezone.utc)
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert format_datetime(moment) == "2026-11-23 14:05 UTC"
    with app.test_request_context("/", headers={"Accept-Language": "el"}):
        assert format_datetime(moment) == "23 Νοε 2026, 14:05 UTC"


# --- the dashboards, stock, reorder and import screens (issue 13, second pass) ------------------

def test_an_import_report_in_greek(client_as, greek):
    """The dry run's report: the problems of each row and the file's refusals in the user's language."""
    from .test_import import STOCK_HEADER, problems, upload

    client = in_greek(client_as("acme.admin"))
    page = upload(client, "stock", STOCK_HEADER + "Acme Aqua,Acme Site,CON-1,2.5\nAcme Aqua,Nowhere,CON-1,1\n"
                  ",Acme Site,NOPE-1,1\n").get_data(as_text=True)
    assert english_leftovers(page, greek) == []
    assert "4 προβλήματα: δεν μπορεί να εισαχθεί τίποτα" in page
    rows = problems(page)
    assert [row for row, _column, _text in rows] == ["2", "3", "4", "4"]
    assert rows[1][2].startswith("Δεν υπάρχει αποθήκη 'Nowhere' του 'Acme Aqua' στις αποθήκες του οργανισμού σας")
    assert rows[2][2] == "Απαιτούνται και ο οργανισμός και η αποθήκη."
    assert rows[3][2] == "Δεν υπάρχει ανταλλακτικό 'NOPE-1' στον κατάλογο."
    refused = upload(client, "stock", "warehouse,colour\nAcme Main,red\n").get_data(as_text=True)
    assert ("Η πρώτη γραμμή πρέπει να ονομάζει τις στήλες ενός αρχείου αρχικού αποθέματος" in refused
            and "λείπουν οι στήλες: organization, part_number, quantity; άγνωστη στήλη: colour" in refused)
    good = upload(client, "stock", STOCK_HEADER + "Acme Aqua,Acme Site,CON-1,1234\n").get_data(as_text=True)
    assert english_leftovers(good, greek) == []
    assert "η εισαγωγή καταχωρίζει 1 εγγραφή καθολικού" in good and "1.234 τεμάχια" in good


def test_an_import_report_stays_english_in_english(client_as):
    from .test_import import STOCK_HEADER, problems, upload

    page = upload(client_as("acme.admin"), "stock", STOCK_HEADER + ",Acme Site,NOPE-1,1\n").get_data(as_text=True)
    assert "2 problems: nothing can be imported until the file is corrected." in " ".join(page.split())
    assert problems(page)[1][2] == "There is no part 'NOPE-1' in the catalog."


def test_the_ledger_check_and_reorder_flashes_in_greek(client_as):
    auditor = in_greek(client_as("auditor"))
    token = csrf_token(auditor.get("/").get_data(as_text=True))
    page = auditor.post("/ledger-check/verify", data={"csrf_token": token},
                        follow_redirects=True).get_data(as_text=True)
    assert "Έλεγχος καθολικού: κάθε υπόλοιπο ισούται με τις εγγραφές του καθολικού του" in page
    assert "Τα βιβλία συμφωνούν" in page and "τελευταίος έλεγχος" in page
    admin = in_greek(client_as("acme.admin"))
    token = csrf_token(admin.get("/reordersuggestionmodelview/list/").get_data(as_text=True))
    page = admin.post("/reordersuggestionmodelview/compute/", data={"csrf_token": token, "window_days": "x"},
                      follow_redirects=True).get_data(as_text=True)
    assert "Το διάστημα πρέπει να είναι ακέραιος αριθμός ημερών, όχι &#39;x&#39;." in page
    page = admin.post("/reordersuggestionmodelview/compute/", data={"csrf_token": token, "window_days": "0"},
                      follow_redirects=True).get_data(as_text=True)
    assert "Το διάστημα πρέπει να είναι ακέραιος αριθμός ημερών από 1 έως 3650." in page


def test_months_in_greek(app):
    import datetime as dt

    from app.views.base import format_month

    month = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert (format_month(month), format_month(month, long=True)) == ("Nov 26", "November 2026")
    with app.test_request_context("/", headers={"Accept-Language": "el"}):
        # The month's own name (nominative), not the genitive of a date ("Νοεμβρίου"), as a month heads a column.
        assert (format_month(month), format_month(month, long=True)) == ("Νοέ 26", "Νοέμβριος 2026")


def test_steps_states_and_documents_inside_a_rule_message(app):
    """'Cannot ship ...': the step, the document and its states in the user's language; English for logs."""
    from app.errors import IllegalTransition
    from app.models import CustomerOrderStatus as C
    from app.workflows.orders import CUSTOMER_ORDER

    with pytest.raises(IllegalTransition) as caught:
        CUSTOMER_ORDER.check("ship", C.draft, "CO-1")
    english = "Cannot ship customer order CO-1: it is draft; ship needs a customer order that is approved or shipped."
    assert caught.value.message == english
    with app.test_request_context("/", headers={"Accept-Language": "el"}):
        assert str(caught.value) == ("Δεν είναι δυνατό το βήμα «αποστολή» για παραγγελία πελάτη CO-1: η τρέχουσα "
                                     "κατάσταση είναι «πρόχειρο»· το βήμα «αποστολή» απαιτεί παραγγελία πελάτη σε "
                                     "κατάσταση εγκρίθηκε ή απεστάλη.")


def test_limit_labels_and_the_stocktake_scope_in_greek(app):
    from app.errors import LimitReached
    from app.i18n import _, localize
    from app.models import Stocktake
    from app.rules.limits import CAPS

    label = CAPS["LIMIT_PARTS"][3]
    error = LimitReached(_("The limit of %(cap)s %(label)s is reached (%(existing)s exist); raise or lift "
                           "%(name)s in the configuration.", cap=10, label=label, existing=10, name="LIMIT_PARTS"))
    assert error.message == ("The limit of 10 parts is reached (10 exist); raise or lift LIMIT_PARTS in the "
                             "configuration.")
    scopes = [Stocktake(scope=s).scope_label for s in ("part_type:bulk_material", "below_reorder_point", "all")]
    assert scopes == ["part type: bulk material", "below reorder point", "all"]
    with app.test_request_context("/", headers={"Accept-Language": "el"}):
        assert "(ανταλλακτικά)" in str(error)
        assert [localize(s) for s in scopes] == ["τύπος ανταλλακτικού: χύδην υλικό",
                                                 "κάτω από το σημείο αναπαραγγελίας", "όλα"]


def test_the_413_page_search_box_and_dropdowns_in_greek(client_as):
    import io

    admin = in_greek(client_as("acme.admin"))
    ledger = admin.get("/transactionmodelview/list/").get_data(as_text=True)
    assert 'placeholder="Αναζήτηση: κωδικός ανταλλακτικού, όνομα ανταλλακτικού, σημειώσεις, αριθμός αναφοράς"' in ledger
    # The dropdowns' placeholders: ours (on-demand choices) and FAB's select2 (an enum field).
    form = admin.get("/transactionmodelview/add").get_data(as_text=True)
    assert 'data-placeholder="Πληκτρολογήστε για αναζήτηση"' in form and 'data-placeholder="Επιλέξτε τιμή"' in form
    token = csrf_token(admin.get("/import/stock/").get_data(as_text=True))
    big = io.BytesIO(b"organization,warehouse,part_number,quantity\n" + b"x" * (50 * 1024 * 1024))
    resp = admin.post("/import/stock/check", data={"csrf_token": token, "file": (big, "big.csv")},
                      content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 413 and "Πολύ μεγάλο αρχείο" in page
    assert "Ένα αρχείο μπορεί να είναι το πολύ 16 MB" in page
