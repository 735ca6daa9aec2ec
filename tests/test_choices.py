"""Relation choices on demand: pages never carry a whole table, and a list page's queries do not grow with its rows."""
from __future__ import annotations

import re

import pytest

from app import models as m
from app.views.choices import PAGE_SIZE

from . import factories
from .conftest import choices, counted_queries, csrf_token, get_one

EXTRA_PARTS = 60


def _add_parts(app, count=EXTRA_PARTS) -> None:
    from app.extensions import db

    with app.app_context():
        for i in range(1, count + 1):
            factories.part(f"ZZQ-{i:03d}")
        db.session.commit()
        db.session.remove()


def _ids(app, model, **where) -> str:
    with app.app_context():
        return str(get_one(model, **where).id)


def test_the_ledger_list_does_not_embed_every_part_and_warehouse(app, client_as):
    from app.extensions import db

    _add_parts(app)
    with app.app_context():
        beta = get_one(m.Organization, name="Beta Fish")
        for i in range(1, 31):
            factories.warehouse(beta, f"Zed Store {i:02d}")
        db.session.commit()
        db.session.remove()
    c = client_as("superadmin")
    page = c.get("/transactionmodelview/list/").get_data(as_text=True)
    assert "CON-1 Part CON-1" in page  # the rows themselves are shown
    assert "ZZQ-" not in page and "Zed Store" not in page
    add_form = c.get("/transactionmodelview/add").get_data(as_text=True)
    assert "ZZQ-" not in add_form and "Zed Store" not in add_form
    # ... and typing finds any of them.
    assert choices(c, "transactionmodelview", "search", "part", q="zzq-042") == {
        "ZZQ-042 Part ZZQ-042": _ids(app, m.Part, part_number="ZZQ-042")}
    assert choices(c, "transactionmodelview", "add", "from_warehouse", q="zed store 17") == {
        "Zed Store 17 (Beta Fish)": _ids(app, m.Warehouse, name="Zed Store 17")}


def test_the_endpoint_answers_one_page_at_a_time_in_name_order(app, client_as):
    _add_parts(app)
    c = client_as("superadmin")
    url = "/transactionmodelview/choices/add/part"
    pages = [c.get(url, query_string={"q": "zzq", "page": n}).get_json() for n in (1, 2, 3)]
    assert [len(p["results"]) for p in pages] == [PAGE_SIZE, PAGE_SIZE, EXTRA_PARTS - 2 * PAGE_SIZE]
    assert [p["more"] for p in pages] == [True, True, False]
    texts = [row["text"] for p in pages for row in p["results"]]
    assert texts == sorted(texts) and len(set(texts)) == EXTRA_PARTS
    # Case-insensitive substring of the part number or the name; LIKE wildcards are plain text.
    assert set(choices(c, "transactionmodelview", "add", "part", q="part zzq-05")) == {
        f"ZZQ-05{i} Part ZZQ-05{i}" for i in range(10)}
    assert choices(c, "transactionmodelview", "add", "part", q="%") == {}
    # No text: the first page of everything.
    first = c.get(url).get_json()
    assert len(first["results"]) == PAGE_SIZE and first["more"] is True


def test_a_customer_admin_gets_only_its_own_rows(app, client_as):
    from app.extensions import db

    with app.app_context():
        factories.warehouse(get_one(m.Organization, name="Beta Fish"), "Beta Old", active=False)
        db.session.commit()
        db.session.remove()
    c = client_as("acme.admin")
    for kind, column in (("add", "from_warehouse"), ("add", "to_warehouse"), ("search", "from_warehouse"),
                         ("search", "to_warehouse")):
        assert choices(c, "transactionmodelview", kind, column, q="beta") == {}, (kind, column)
    assert choices(c, "inventorymodelview", "add", "warehouse", q="beta") == {}
    assert choices(c, "warehousemodelview", "add", "organization", q="beta") == {}
    assert choices(c, "users", "search", "organization", q="oraseas") == {}
    # Stock for another organization goes through stock transfers: a ledger row stays in
    # its own organization, and a transit location is never offered.
    assert choices(c, "transactionmodelview", "add", "to_warehouse") == {
        "Acme Main (Acme Aqua)": _ids(app, m.Warehouse, name="Acme Main"),
        "Acme Site (Acme Aqua)": _ids(app, m.Warehouse, name="Acme Site")}
    assert "In transit" not in str(choices(client_as("oraseas.admin"), "transactionmodelview", "add", "to_warehouse"))


def test_the_endpoint_needs_the_views_read_permission(app, client, client_as):
    url = "/transactionmodelview/choices/add/part"
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert client_as("acme.user").get(url).status_code == 403  # a User has no ledger screen
    assert client_as("acme.user").get("/partusagemodelview/choices/add/part").status_code == 200
    assert client_as("auditor").get(url).status_code == 200  # reading is enough
    # Only the relation fields of the view's forms have choices.
    c = client_as("superadmin")
    assert c.get("/transactionmodelview/choices/add/quantity").status_code == 404
    assert c.get("/transactionmodelview/choices/delete/part").status_code == 404
    assert c.get("/transactionmodelview/choices/edit/part").status_code == 404  # the ledger has no edit form


def test_part_usage_is_recorded_through_the_form_with_chosen_rows(app, client_as):
    c = client_as("acme.user")
    page = c.get("/partusagemodelview/add").get_data(as_text=True)
    warehouse = choices(c, "partusagemodelview", "add", "warehouse", q="acme main")["Acme Main (Acme Aqua)"]
    machine = choices(c, "partusagemodelview", "add", "machine", q="sn-acme")["Machine SN-ACME-1 (SN-ACME-1)"]
    part = choices(c, "partusagemodelview", "add", "part", q="con-1")["CON-1 Part CON-1"]
    resp = c.post("/partusagemodelview/add", data={
        "csrf_token": csrf_token(page), "warehouse": warehouse, "machine": machine, "part": part,
        "quantity": "3", "usage_date": ""}, follow_redirects=True)
    assert "Added Row" in resp.get_data(as_text=True)
    with app.app_context():
        assert get_one(m.Inventory, warehouse_id=get_one(m.Warehouse, name="Acme Main").id,
                       part_id=get_one(m.Part, part_number="CON-1").id).current_stock == 7


def test_a_form_refuses_an_id_its_field_would_not_offer(app, client_as):
    c = client_as("acme.user")
    page = c.get("/partusagemodelview/add").get_data(as_text=True)
    resp = c.post("/partusagemodelview/add", data={
        "csrf_token": csrf_token(page), "warehouse": _ids(app, m.Warehouse, name="Beta Main"),
        "machine": _ids(app, m.Machine, serial_number="SN-ACME-1"), "part": _ids(app, m.Part, part_number="CON-1"),
        "quantity": "1"})
    assert resp.status_code == 200 and "Not a valid choice" in resp.get_data(as_text=True)
    # The view's narrowing holds too: only pending transactions can be decided on.
    c = client_as("oraseas.admin")
    page = c.get("/transactionapprovalmodelview/add").get_data(as_text=True)
    with app.app_context():
        posted = str(get_one(m.Transaction, transaction_type=m.TransactionType.creation,
                             part_id=get_one(m.Part, part_number="CON-1").id).id)
    resp = c.post("/transactionapprovalmodelview/add", data={
        "csrf_token": csrf_token(page), "transaction": posted, "status": "approved"})
    assert resp.status_code == 200 and "Not a valid choice" in resp.get_data(as_text=True)


def test_an_edit_form_shows_only_the_current_choice(app, client_as):
    c = client_as("acme.admin")
    acme_main = _ids(app, m.Warehouse, name="Acme Main")
    html = c.get(f"/warehousemodelview/edit/{acme_main}").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="organization"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert re.findall(r"<option[^>]*>([^<]*)</option>", select) == ["", "Acme Aqua"]
    assert f'selected value="{_ids(app, m.Organization, name="Acme Aqua")}"' in select
    assert "Acme Supplies" in choices(c, "warehousemodelview", "edit", "organization")


def test_every_page_with_a_relation_field_loads_the_script_that_fetches_choices(app, client_as):
    c = client_as("acme.admin")
    acme_main = _ids(app, m.Warehouse, name="Acme Main")
    # FAB's edit and show pages replace the frame's add_tail_js block; the script must survive that.
    for url in ("/warehousemodelview/list/", "/warehousemodelview/add", f"/warehousemodelview/edit/{acme_main}",
                f"/warehousemodelview/show/{acme_main}"):
        html = c.get(url).get_data(as_text=True)
        assert 'src="/static/abparts/choices.js"' in html, url
    assert c.get("/static/abparts/choices.js").status_code == 200


def test_filtering_the_ledger_by_part_through_the_url(app, client_as):
    c = client_as("superadmin")
    bulk = _ids(app, m.Part, part_number="BULK-1")
    everything = c.get("/transactionmodelview/list/").get_data(as_text=True)
    assert "CON-1 Part CON-1" in everything and "BULK-1 Part BULK-1" in everything
    page = c.get(f"/transactionmodelview/list/?_flt_0_part={bulk}").get_data(as_text=True)
    assert "CON-1 Part CON-1" not in page
    assert "BULK-1 Part BULK-1" in page
    # The filter's select (embedded as JSON for FAB's filter script) holds the chosen part.
    assert f'\\u003coption value=\\"{bulk}\\"\\u003eBULK-1 Part BULK-1\\u003c/option\\u003e' in page


# --- a list page's queries do not grow with its rows ---------------------------------

def _many_rows(app, n=25) -> None:
    """``n`` customers, each with a warehouse, a user, a part and a stock creation of it: nothing shared."""
    from app.extensions import db

    with app.app_context():
        by = get_one(m.PortalUser, username="superadmin")
        for i in range(n):
            org = factories.organization(f"Many {i:02d}")
            db.session.flush()
            wh = factories.warehouse(org, f"Many Store {i:02d}")
            factories.user(f"many.user{i:02d}", org, "User")
            part = factories.part(f"MANY-{i:02d}")
            db.session.flush()
            factories.txn(m.TransactionType.creation, part, 1, by, dest=wh)
            db.session.flush()
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("screen,size_arg", [
    ("transactionmodelview", "TransactionModelView"),
    ("warehousemodelview", "WarehouseModelView"),
    ("inventorymodelview", "InventoryModelView"),
    ("users", "PortalUserModelView"),
    ("organizationmodelview", "OrganizationModelView"),
])
def test_a_list_pages_queries_do_not_grow_with_its_rows(app, client_as, screen, size_arg):
    from app.extensions import db

    _many_rows(app)
    c = client_as("superadmin")
    url = f"/{screen}/list/"
    assert c.get(url).status_code == 200  # warm-up: FAB's first-request work is not the page's
    counts = {}
    for size in (5, 25):
        with app.app_context():
            engine = db.engine
        with counted_queries(engine) as statements:
            page = c.get(url, query_string={f"psize_{size_arg}": size})
        assert page.status_code == 200
        counts[size] = len(statements)
    assert counts[5] == counts[25], counts


# --- guard: every screen, present and future, gets it ---------------------------------

def test_every_many_to_one_field_of_every_screen_chooses_on_demand(app):
    """A new screen (or a new relation column) must not bring back the whole-table dropdown."""
    from flask_appbuilder import ModelView

    from app.views.choices import OnDemandChoices, RelationChoiceField

    checked = []
    for view in app.appbuilder.baseviews:
        # The portal's screens; FAB's own security screens list its small permission tables.
        if not isinstance(view, ModelView) or not (view.datamodel.obj.__module__.startswith("app.")
                                                   or view.datamodel.obj is m.PortalUser):
            continue
        assert isinstance(view, OnDemandChoices), type(view).__name__
        for kind, form, columns in (("add", view.add_form, view.add_columns),
                                    ("edit", view.edit_form, view.edit_columns),
                                    ("search", view.search_form, view.search_columns)):
            for col in columns:
                many_to_one = view.datamodel.is_relation(col) and (
                    view.datamodel.is_relation_many_to_one(col) or view.datamodel.is_relation_one_to_one(col))
                if many_to_one and col not in view.full_choice_columns:
                    assert getattr(form, col).field_class is RelationChoiceField, (type(view).__name__, kind, col)
                    checked.append((type(view).__name__, kind, col))
    assert ("TransactionModelView", "add", "to_warehouse") in checked
    assert ("PortalUserModelView", "search", "organization") in checked


def test_same_named_warehouses_are_ordered_by_their_organization(app, client_as):
    from app.extensions import db

    with app.app_context():
        for org in ("Beta Fish", "Acme Aqua", "Oraseas EE"):
            factories.warehouse(get_one(m.Organization, name=org), "Twin Store")
        db.session.commit()
        db.session.remove()
    texts = list(choices(client_as("superadmin"), "transactionmodelview", "add", "to_warehouse", q="twin"))
    assert texts == ["Twin Store (Acme Aqua)", "Twin Store (Beta Fish)", "Twin Store (Oraseas EE)"]
