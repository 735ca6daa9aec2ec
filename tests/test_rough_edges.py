"""The rough edges a new user met (issue 13): what the pages show, as a user reads them."""
from __future__ import annotations

import html
import re
from decimal import Decimal as D

import pytest

from app import models as m
from app.extensions import db
from app.models.base import format_quantity
from app.security.roles import CATEGORIES, fab_roles

from . import factories
from .conftest import get_one


def text(resp) -> str:
    """The visible text of a page: no tags, scripts or styles; spaces collapsed."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", resp.get_data(as_text=True), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def ids(app, model, **where):
    with app.app_context():
        pk = get_one(model, **where).id
        db.session.remove()
    return pk


def menu(page: str) -> dict[str, list[str]]:
    """Navbar category -> its entries, from a rendered page."""
    categories = {}
    for block in re.findall(r'<li class="dropdown">(.*?)</ul>\s*</li>', page, re.S):
        name = re.search(r'class="dropdown-toggle"[^>]*>(.*?)<b class="caret"', block, re.S)
        if name:
            title = re.sub(r"<[^>]+>", "", name.group(1)).strip()
            categories[title] = [" ".join(html.unescape(re.sub(r"<[^>]+>", "", e)).split())
                                 for e in re.findall(r"<li>\s*<a[^>]*>(.*?)</a>", block, re.S)]
    return categories


# -- "None", "__None" and raw enum names -------------------------------------------

def test_empty_cells_show_no_none_on_the_ledger_list_and_a_part_page(app, client_as):
    admin = client_as("oraseas.admin")
    ledger = text(admin.get("/transactionmodelview/list/"))
    assert "Stock ledger" in ledger and "None" not in ledger
    part = text(admin.get(f"/partmodelview/show/{ids(app, m.Part, part_number='CON-1')}"))
    assert "Manufacturer lead time" in part and "None" not in part and "\u2014" in part


def test_the_csv_export_keeps_empty_cells_empty(client_as):
    body = client_as("auditor").get("/warehousemodelview/export/").get_data(as_text=True)
    assert "None" not in body and "\u2014" not in body


@pytest.mark.parametrize("url", ["/warehousemodelview/add", "/transactionmodelview/add", "/machinemodelview/list/",
                                 "/organizationmodelview/list/", "/partusagemodelview/add"])
def test_select_boxes_show_no_none_as_a_choice(client_as, url):
    page = client_as("superadmin").get(url)
    assert page.status_code == 200
    assert "__None" not in text(page)
    assert not re.search(r"<option[^>]*>\s*(__)?None\s*</option>", page.get_data(as_text=True))


def test_enum_values_are_words_on_lists_show_pages_and_forms(app, client_as):
    from app.scoping import acting_as
    from app.workflows import transfers

    with app.app_context():
        central, acme_main = get_one(m.Warehouse, name="Central"), get_one(m.Warehouse, name="Acme Main")
        con = get_one(m.Part, part_number="CON-1")
        with acting_as(get_one(m.PortalUser, username="oraseas.admin")):
            t = transfers.create_transfer(central.id, acme_main.id, [(con.id, D("3"))])
            transfers.dispatch_transfer(t.id)
            transfers.receive_transfer(t.id, {con.id: D("2")})
        db.session.remove()
    staff = client_as("oraseas.admin")
    transfers_list = text(staff.get("/stocktransfermodelview/list/"))
    assert "received with discrepancy" in transfers_list.lower() and "received_with_discrepancy" not in transfers_list
    parts = text(staff.get("/partmodelview/list/"))
    assert "Bulk material" in parts and "bulk_material" not in parts
    organizations = text(staff.get("/organizationmodelview/list/"))
    assert "Oraseas EE" in organizations and "oraseas_ee" not in organizations
    form = staff.get("/transactionmodelview/add").get_data(as_text=True)
    assert '<option value="consumption">Consumption</option>' in form


# -- quantities -----------------------------------------------------------------------

@pytest.mark.parametrize("quantity, unit, whole, shown", [
    (1, "pieces", True, "1 piece"), (2, "pieces", True, "2 pieces"), (D("1.000"), "litres", False, "1 litre"),
    (D("2"), "litres", False, "2 litres"), (1, "kg", False, "1 kg"), (D("1.5"), "litres", False, "1.5 litres"),
    (0, "pieces", True, "0 pieces"), (-1, "pieces", True, "-1 piece"),
])
def test_exactly_one_of_a_plural_unit_is_singular(quantity, unit, whole, shown):
    assert format_quantity(quantity, unit, whole) == shown


def test_the_ledger_shows_one_piece(app, client_as):
    with app.app_context():
        factories.shipped_to(get_one(m.Warehouse, name="Acme Site"), get_one(m.Part, part_number="CON-1"), 1,
                             get_one(m.Warehouse, name="Central"), get_one(m.PortalUser, username="oraseas.admin"))
        db.session.remove()
    ledger = text(client_as("acme.admin").get("/transactionmodelview/list/"))
    assert "1 piece " in ledger and "1 pieces" not in ledger


# -- show pages: Edit, stock and usage -------------------------------------------------

def test_a_warehouse_page_offers_edit_to_its_admin_only_and_lists_its_stock(app, client_as):
    url = f"/warehousemodelview/show/{ids(app, m.Warehouse, name='Acme Main')}"
    admin, user = client_as("acme.admin").get(url), client_as("acme.user").get(url)
    assert admin.status_code == user.status_code == 200
    assert 'class="btn btn-sm btn-primary abparts-edit"' in admin.get_data(as_text=True)
    assert "abparts-edit" not in user.get_data(as_text=True)
    for page in (text(admin), text(user)):
        assert "Stock levels" in page and "CON-1" in page and "10 pieces" in page


def test_no_edit_button_where_a_screen_has_no_edit(app, client_as):
    page = client_as("superadmin").get("/partusagemodelview/list/")
    assert page.status_code == 200
    ledger = client_as("superadmin").get(f"/transactionmodelview/show/{_any_transaction(app)}")
    assert ledger.status_code == 200 and "abparts-edit" not in ledger.get_data(as_text=True)


def _any_transaction(app):
    with app.app_context():
        pk = db.session.query(m.Transaction.id).first()[0]
        db.session.remove()
    return pk


def test_a_part_page_lists_its_stock_per_warehouse_of_the_users_organization(app, client_as):
    url = f"/partmodelview/show/{ids(app, m.Part, part_number='CON-1')}"
    acme = text(client_as("acme.user").get(url))
    assert "Acme Main (Acme Aqua)" in acme and "Beta Main" not in acme and "Central" not in acme
    staff = text(client_as("superadmin").get(url))
    assert "Acme Main (Acme Aqua)" in staff and "Beta Main (Beta Fish)" in staff and "In transit" not in staff


def test_a_machine_page_lists_its_part_usage(app, client_as, api_as):
    machine = ids(app, m.Machine, serial_number="SN-ACME-1")
    resp = api_as("acme.user").post("/api/v1/part_usage/", json={
        "warehouse": str(ids(app, m.Warehouse, name="Acme Main")), "machine": str(machine),
        "part": str(ids(app, m.Part, part_number="CON-1")), "quantity": 1})
    assert resp.status_code == 201, resp.get_json()
    page = text(client_as("acme.user").get(f"/machinemodelview/show/{machine}"))
    assert "Part usage" in page and "CON-1" in page and "1 piece" in page


# -- not allowed, menus, favicon -----------------------------------------------------

def test_a_page_the_role_may_not_open_answers_403_in_the_portals_layout(client_as):
    resp = client_as("acme.user").get("/transactionmodelview/list/")
    assert resp.status_code == 403
    page = resp.get_data(as_text=True)
    assert "Not available to your role" in page and "Your role may not open this page" in page
    assert 'class="navbar' in page and "Logout" in text(resp) and 'href="/"' in page


def test_a_record_of_another_organization_answers_404_in_the_portals_layout(app, client_as):
    with app.app_context():
        warehouse = str(get_one(m.Warehouse, name="Beta Main").id)
    for url in (f"/warehousemodelview/show/{warehouse}", "/no/such/page"):
        resp = client_as("acme.admin").get(url)
        assert resp.status_code == 404, url
        page = resp.get_data(as_text=True)
        assert "Not found" in page and "not yours to see" in page and 'class="navbar' in page, url


def test_the_api_keeps_its_own_403(api_as):
    resp = api_as("acme.user").get("/api/v1/transaction/")
    assert resp.status_code == 403 and resp.is_json


@pytest.mark.parametrize("username", ["acme.user", "acme.admin", "auditor", "superadmin"])
def test_the_menu_has_no_empty_category(client_as, username):
    categories = menu(client_as(username).get("/").get_data(as_text=True))
    assert categories, "no menu found"
    assert all(entries for entries in categories.values()), categories
    if username == "acme.user":
        assert "Audit" not in categories
        assert categories["Catalog"] == ["Parts", "Machines"]
        assert categories["Orders"] == ["Customer Orders", "Supplier Orders"]  # issue 10


def test_the_roles_menu_categories_match_the_registered_menu():
    from app.views import MENU

    registered = {}
    for _view, name, _icon, category in MENU:
        registered.setdefault(category, []).append(name)
    registered["Organizations"] += ["Users", "Switch Organization"]
    assert {c: sorted(e) for c, e in registered.items()} == {c: sorted(e) for c, e in CATEGORIES.items()}
    menus = next(v for v, p in fab_roles()["User"] if p == "^menu_access$" and "Parts" in v)
    granted = set(menus.strip("^$()").split("|"))
    assert {"Catalog", "Inventory", "Usage", "Organizations", "Orders"} <= granted
    assert not granted & {"Audit"}


def test_favicon_is_served_and_linked(client, client_as):
    resp = client.get("/favicon.ico")
    assert resp.status_code == 200 and resp.data[:4] == b"\x00\x00\x01\x00"
    assert 'rel="icon"' in client.get("/login/").get_data(as_text=True)
    assert 'href="/favicon.ico"' in client_as("acme.user").get("/").get_data(as_text=True)


def test_a_transfer_page_prints_quantities_as_every_page_does(app, client_as):
    with app.app_context():
        t = db.session.query(m.StockTransfer).join(m.StockTransfer.lines).filter(
            m.StockTransfer.to_warehouse_id == get_one(m.Warehouse, name="Acme Main").id).one()
        pk = t.id
        db.session.remove()
    page = text(client_as("acme.admin").get(f"/stocktransfermodelview/show/{pk}"))
    # Decimal.normalize() printed 10 as "1E+1"
    assert "10 pieces" in page and "1E+1" not in page and "0 pieces" in page
