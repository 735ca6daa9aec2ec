"""Stock status and reorder points from usage (issue 11): the status filter and sort on the
stock levels list and the REST API, the suggestion formula, accepting exactly the reviewed
rows, scoping, and list URLs with bad arguments (400, never 500)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
import sqlalchemy as sa

from app import models as m
from app.extensions import db

from . import factories
from .conftest import csrf_token, get_one
from .test_list_pages import column

STOCK = "/inventorymodelview/list/"
REORDER = "/reordersuggestionmodelview/list/"
#: The base data's lines after :func:`statuses`: (warehouse, part) -> status.
EXPECTED = {("Central", "CON-1"): "ok", ("Central", "BULK-1"): "excess", ("Acme Main", "CON-1"): "low",
            ("Beta Main", "CON-1"): "ok", ("Acme Site", "BULK-1"): "out"}
LABELS = {"out": "Out of stock", "low": "Low stock", "ok": "OK", "excess": "Excess stock"}


def line(warehouse: str, part: str) -> m.Inventory:
    return db.session.execute(sa.select(m.Inventory).join(m.Warehouse).join(m.Part).where(
        m.Warehouse.name == warehouse, m.Part.part_number == part)).scalar_one()


@pytest.fixture
def statuses(app):
    """Reorder points giving each status: Central CON-1 85 of 30 (ok), BULK-1 50 of 10
    (excess), Acme Main CON-1 10 of 10 (low), Beta Main CON-1 5 without a point (ok), and
    Acme Site's BULK-1, emptied (out)."""
    with app.app_context():
        for (warehouse, part), point in {("Central", "CON-1"): 30, ("Central", "BULK-1"): 10,
                                         ("Acme Main", "CON-1"): 10}.items():
            line(warehouse, part).minimum_stock_recommendation = D(point)
        admin = get_one(m.PortalUser, username="superadmin")
        site, bulk = get_one(m.Warehouse, name="Acme Site"), get_one(m.Part, part_number="BULK-1")
        factories.txn(m.TransactionType.adjustment, bulk, 2, admin, dest=site)
        db.session.flush()
        factories.txn(m.TransactionType.adjustment, bulk, 2, admin, source=site)
        db.session.commit()
        db.session.remove()


def listed(resp) -> list[tuple[str, str, str]]:
    """``(warehouse, part number, status label)`` of a stock levels page, top to bottom."""
    assert resp.status_code == 200, resp.status_code
    page = resp.get_data(as_text=True)
    if "No records found" in page:
        return []
    return [(w.split(" (")[0], p.split()[0], s)
            for w, p, s in zip(column(page, "Warehouse"), column(page, "Part"), column(page, "Status"))]


# --- the status on the stock levels list -----------------------------------------------

@pytest.mark.parametrize("status", ["out", "low", "ok", "excess"])
def test_the_status_filter_lists_exactly_the_lines_of_that_status(statuses, client_as, status):
    c = client_as("superadmin")
    rows = listed(c.get(STOCK, query_string={"_flt_0_status": status}))
    assert sorted((w, p) for w, p, _ in rows) == sorted(k for k, v in EXPECTED.items() if v == status)
    assert {label for *_, label in rows} <= {LABELS[status]}
    # "not equal" (_flt_1_) lists the others
    others = listed(c.get(STOCK, query_string={"_flt_1_status": status}))
    assert sorted((w, p) for w, p, _ in others) == sorted(k for k, v in EXPECTED.items() if v != status)


def test_the_stock_levels_list_sorts_by_status_severity(statuses, client_as):
    c = client_as("superadmin")
    severity = ["Out of stock", "Low stock", "OK", "Excess stock"]
    for direction in ("asc", "desc"):
        rows = listed(c.get(STOCK, query_string={"_oc_InventoryModelView": "status",
                                                 "_od_InventoryModelView": direction}))
        ranks = [severity.index(label) for *_, label in rows]
        assert len(rows) == len(EXPECTED)
        assert ranks == sorted(ranks, reverse=direction == "desc")


def test_a_customer_admins_status_filter_shows_its_own_lines_only(statuses, client_as):
    rows = listed(client_as("beta.admin").get(STOCK, query_string={"_flt_0_status": "low"}))
    assert rows == []
    rows = listed(client_as("acme.admin").get(STOCK, query_string={"_flt_0_status": "low"}))
    assert rows == [("Acme Main", "CON-1", "Low stock")]


def test_an_unknown_status_answers_400_naming_the_allowed_ones(client_as):
    resp = client_as("superadmin").get(STOCK, query_string={"_flt_0_status": "teleport"})
    assert resp.status_code == 400
    assert "out, low, ok, excess" in resp.get_data(as_text=True)


def test_the_api_gives_the_status_filters_and_sorts_by_it(statuses, api_as, w):
    api = api_as("superadmin")
    names = {w[name]: name for name in ("Central", "Acme Main", "Acme Site", "Beta Main")}
    parts = {w[number]: number for number in ("CON-1", "BULK-1")}
    every = api.get("/api/v1/inventory/?q=(page_size:100)").get_json()["result"]
    assert {(names[r["warehouse_id"]], parts[r["part_id"]]): r["status"] for r in every} == EXPECTED
    for status in ("out", "low", "ok", "excess"):
        found = api.get(f"/api/v1/inventory/?q=(filters:!((col:status,opr:eq,value:{status})))").get_json()
        assert sorted((names[r["warehouse_id"]], parts[r["part_id"]]) for r in found["result"]) == \
            sorted(k for k, v in EXPECTED.items() if v == status)
    ordered = api.get("/api/v1/inventory/?q=(order_column:status,order_direction:asc)").get_json()["result"]
    assert [r["status"] for r in ordered] == sorted((r["status"] for r in ordered),
                                                    key=["out", "low", "ok", "excess"].index)
    bad = api.get("/api/v1/inventory/?q=(filters:!((col:status,opr:eq,value:teleport)))")
    assert bad.status_code == 400 and "out, low, ok, excess" in bad.get_json()["message"]


# --- bad list arguments: 400, never 500 ----------------------------------------------------

BAD_ARGUMENTS = [("psize_{v}", "abc"), ("psize_{v}", "-1"), ("psize_{v}", "0"), ("psize_{v}", "100000"),
                 ("page_{v}", "abc"), ("page_{v}", "-3"), ("page_{v}", "99999999999999"),
                 ("_od_{v}", "sideways"), ("_oc_{v}", "nosuchcolumn"), ("_flt_9_{c}", "x")]


def test_bad_list_arguments_answer_400_on_every_list(app, client_as, subtests):
    from app.views.base import ABPartsModelView

    c = client_as("superadmin")
    views = [v for v in app.appbuilder.baseviews
             if isinstance(v, ABPartsModelView) and "list" not in (v.exclude_route_methods or ())]
    assert len(views) > 15
    for view in views:
        name = type(view).__name__
        url = f"{view.route_base}/list/"
        # a column with fewer than ten filters (_flt_9_ is then past its last one); text columns have ten
        searchable = next((col for col, found in view._filters.get_search_filters().items() if len(found) < 10), "x")
        for template, value in BAD_ARGUMENTS:
            arg = template.format(v=name, c=searchable)
            with subtests.test(view=name, arg=arg, value=value):
                resp = c.get(url, query_string={arg: value})
                assert resp.status_code == 400, (url, arg, value, resp.status_code)
                assert arg in resp.get_data(as_text=True)
        with subtests.test(view=name, arg="good"):
            good = c.get(url, query_string={f"psize_{name}": "50", f"page_{name}": "0", f"_od_{name}": "asc",
                                            f"_oc_{name}": view.order_columns[0]})
            assert good.status_code == 200


def test_a_show_page_checks_its_related_lists_arguments(app, client_as):
    with app.app_context():
        org = str(get_one(m.Organization, name="Acme Aqua").id)
        db.session.remove()
    c = client_as("superadmin")
    assert c.get(f"/organizationmodelview/show/{org}").status_code == 200
    assert c.get(f"/organizationmodelview/show/{org}", query_string={"psize_WarehouseModelView": "x"}).status_code == 400


# --- suggested reorder points ---------------------------------------------------------------

def _usage(app):
    """Hand-made usage of Central's parts (plus the base data's two shipments of 10 and 5
    CON-1 dispatched from Central today): consumption of 18 and 9 CON-1 within 90 days and 20
    before; 4.5 litres of BULK-1; an adjustment out (not use); a pending consumption (not posted)."""
    with app.app_context():
        T = m.TransactionType
        admin = get_one(m.PortalUser, username="oraseas.admin")
        central = get_one(m.Warehouse, name="Central")
        con, bulk = get_one(m.Part, part_number="CON-1"), get_one(m.Part, part_number="BULK-1")
        now = dt.datetime.now(dt.timezone.utc)
        for part, qty, days in ((con, 18, 5), (con, 9, 40), (con, 20, 120), (bulk, "4.5", 10)):
            factories.txn(T.consumption, part, qty, admin, source=central,
                          transaction_date=now - dt.timedelta(days=days))
        factories.txn(T.adjustment, con, 3, admin, source=central, transaction_date=now - dt.timedelta(days=3))
        factories.txn(T.consumption, con, 7, admin, source=central, transaction_date=now - dt.timedelta(days=2),
                      requires_approval=True, approval_status="pending")
        db.session.commit()
        db.session.remove()


def suggestions(app) -> dict[tuple[str, str], tuple]:
    """(warehouse, part) -> (suggested point, used in window, accepted) of every stored suggestion."""
    with app.app_context():
        s = m.ReorderSuggestion
        rows = db.session.execute(sa.select(m.Warehouse.name, m.Part.part_number, s.suggested_point,
                                            s.used_in_window, s.accepted_at).join(m.Warehouse, m.Warehouse.id == s.warehouse_id)
                                  .join(m.Part, m.Part.id == s.part_id)).all()
        db.session.remove()
    return {(w, p): (point, used, accepted is not None) for w, p, point, used, accepted in rows}


def points(app) -> dict[tuple[str, str], tuple]:
    with app.app_context():
        rows = db.session.execute(sa.select(m.Warehouse.name, m.Part.part_number, m.Inventory.minimum_stock_recommendation,
                                            m.Inventory.reorder_threshold_set_by, m.Inventory.last_recommendation_update)
                                  .join(m.Warehouse).join(m.Part).where(m.Warehouse.is_transit.is_(False))).all()
        db.session.remove()
    return {(w, p): (point, by, when is not None) for w, p, point, by, when in rows}


def compute(client, **form):
    page = client.get(REORDER)
    assert page.status_code == 200
    resp = client.post("/reordersuggestionmodelview/compute/",
                       data={"csrf_token": csrf_token(page.get_data(as_text=True)), **form})
    assert resp.status_code == 302
    return client.get(REORDER).get_data(as_text=True)


def test_the_suggestion_is_average_daily_use_times_lead_time_and_safety_stock(app, client_as):
    _usage(app)
    compute(client_as("oraseas.admin"))
    found = suggestions(app)
    # CON-1: 18 + 9 consumed + 15 shipped = 42 in 90 days; x (14 + 7) / 90 = 9.8, rounded up to whole pieces
    assert found[("Central", "CON-1")] == (D(10), D(42), False)
    # BULK-1: 4.5 litres x 21 / 90 = 1.05 litres
    assert found[("Central", "BULK-1")] == (D("1.05"), D("4.5"), False)
    # Acme Main and Beta Main used nothing: their reorder point 0 stays, nothing to suggest
    assert set(found) == {("Central", "CON-1"), ("Central", "BULK-1")}


def test_an_organizations_lead_time_and_a_shorter_window_change_the_suggestion(app, client_as):
    _usage(app)
    with app.app_context():
        oraseas = get_one(m.Organization, name="Oraseas EE")
        oraseas.reorder_lead_time_days, oraseas.reorder_safety_stock_days = 30, 0
        db.session.commit()
        db.session.remove()
    compute(client_as("oraseas.admin"), window_days="30")
    # 30 days: 18 + 15 = 33 used, x 30 / 30 = 33
    assert suggestions(app)[("Central", "CON-1")][:2] == (D(33), D(33))


def test_a_bad_window_is_refused_with_its_rule(app, client_as):
    page = compute(client_as("oraseas.admin"), window_days="0")
    assert "The window must be a whole number of days from 1 to 3650." in page
    assert suggestions(app) == {}


def test_accepting_writes_exactly_the_ticked_suggestions(app, client_as):
    _usage(app)
    c = client_as("oraseas.admin")
    page = compute(c)
    with app.app_context():
        con = db.session.execute(sa.select(m.ReorderSuggestion.id).join(m.Part, m.Part.id == m.ReorderSuggestion.part_id)
                                 .where(m.Part.part_number == "CON-1")).scalar_one()
        db.session.remove()
    before = points(app)
    resp = c.post("/reordersuggestionmodelview/action_post", data={
        "csrf_token": csrf_token(page), "action": "accept", "rowid": [str(con)]})
    assert resp.status_code == 302
    after = points(app)
    assert after[("Central", "CON-1")] == (D(10), "oraseas.admin", True)
    assert {k: v for k, v in after.items() if k != ("Central", "CON-1")} == \
        {k: v for k, v in before.items() if k != ("Central", "CON-1")}
    assert suggestions(app) == {("Central", "CON-1"): (D(10), D(42), True), ("Central", "BULK-1"): (D("1.05"), D("4.5"), False)}
    # an accepted suggestion leaves the review list; accepting it again writes nothing
    listed_now = c.get(REORDER).get_data(as_text=True)
    assert "BULK-1" in listed_now and "CON-1" not in listed_now.split("BULK-1", 1)[1].split("</table>")[0]


def test_a_customer_admin_computes_sees_and_accepts_its_own_warehouses_only(app, client_as):
    _usage(app)
    with app.app_context():
        admin = get_one(m.PortalUser, username="superadmin")
        acme_main, beta_main = get_one(m.Warehouse, name="Acme Main"), get_one(m.Warehouse, name="Beta Main")
        con = get_one(m.Part, part_number="CON-1")
        now = dt.datetime.now(dt.timezone.utc)
        for warehouse in (acme_main, beta_main):
            factories.txn(m.TransactionType.consumption, con, 3, admin, source=warehouse, transaction_date=now)
        db.session.commit()
        db.session.remove()
    compute(client_as("oraseas.admin"))
    acme = client_as("acme.admin")
    page = compute(acme)
    found = suggestions(app)
    # Acme's own line (3 x 21 / 90 = 0.7 -> 1); Oraseas EE's stay as computed; Beta's has none
    assert found[("Acme Main", "CON-1")] == (D(1), D(3), False)
    assert ("Central", "CON-1") in found and ("Beta Main", "CON-1") not in found
    assert "Acme Main" in page and "Central" not in page
    with app.app_context():
        central = db.session.execute(sa.select(m.ReorderSuggestion.id).join(
            m.Warehouse, m.Warehouse.id == m.ReorderSuggestion.warehouse_id).where(m.Warehouse.name == "Central")).scalars().first()
        db.session.remove()
    before = points(app)
    resp = acme.post("/reordersuggestionmodelview/action_post", data={
        "csrf_token": csrf_token(page), "action": "accept", "rowid": [str(central)]})
    assert resp.status_code == 404
    acme.post("/reordersuggestionmodelview/accept_all/", data={"csrf_token": csrf_token(page)})
    after = points(app)
    assert after[("Acme Main", "CON-1")][:2] == (D(1), "acme.admin")
    assert {k: v for k, v in after.items() if k != ("Acme Main", "CON-1")} == \
        {k: v for k, v in before.items() if k != ("Acme Main", "CON-1")}


@pytest.mark.parametrize("username", ["acme.user", "auditor"])
def test_users_and_auditors_cannot_compute_or_accept(app, client_as, username):
    _usage(app)
    c = client_as(username)
    token = csrf_token(c.get("/inventorymodelview/list/").get_data(as_text=True))
    resp = c.post("/reordersuggestionmodelview/compute/", data={"csrf_token": token})
    assert resp.status_code in (302, 403) and suggestions(app) == {}
    if resp.status_code == 302:
        assert "/reordersuggestionmodelview/list" not in resp.headers["Location"]


def test_the_command_suggests_and_accepts_for_every_organization(app, runner):
    _usage(app)
    result = runner.invoke(args=["abparts", "suggest-reorder-points", "--accept"])
    assert result.exit_code == 0, result.output
    assert "2 of 4 stock lines have a new suggested reorder point; 2 accepted." in result.output
    after = points(app)
    assert after[("Central", "CON-1")] == (D(10), "flask abparts", True)
    assert after[("Central", "BULK-1")][0] == D("1.05")
    assert after[("Acme Main", "CON-1")] == (D(0), None, False)


def test_the_export_of_the_filtered_stock_levels_has_the_status(statuses, client_as):
    body = client_as("superadmin").get("/inventorymodelview/export/",
                                       query_string={"_flt_0_status": "low", "format": "csv"}).get_data(as_text=True)
    header, *rows = [line for line in body.splitlines() if line]
    assert "Status" in header and len(rows) == 1
    assert "Acme Main" in rows[0] and "low" in rows[0].lower()


def test_an_admin_sets_its_organizations_lead_time_and_a_negative_one_is_refused(app, client_as):
    with app.app_context():
        acme = str(get_one(m.Organization, name="Acme Aqua").id)
        db.session.remove()
    c = client_as("acme.admin")
    url = f"/organizationmodelview/edit/{acme}"
    page = c.get(url).get_data(as_text=True)
    assert "Reorder lead time (days)" in page
    form = {"name": "Acme Aqua", "organization_type": "customer", "is_active": "y", "reorder_lead_time_days": "30",
            "reorder_safety_stock_days": "5"}
    assert c.post(url, data={"csrf_token": csrf_token(page), **form}).status_code == 302
    with app.app_context():
        org = get_one(m.Organization, name="Acme Aqua")
        assert (org.reorder_lead_time_days, org.reorder_safety_stock_days) == (30, 5)
        db.session.remove()
    page = c.get(url).get_data(as_text=True)
    refused = c.post(url, data={"csrf_token": csrf_token(page), **form, "reorder_lead_time_days": "-1"},
                     follow_redirects=True)
    assert refused.status_code == 200
    assert "A reorder lead time is a number of days, 0 or more." in refused.get_data(as_text=True)
    with app.app_context():
        assert get_one(m.Organization, name="Acme Aqua").reorder_lead_time_days == 30
        db.session.remove()
