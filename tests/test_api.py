"""The REST API under bad requests (issue 2, "Generated admin and API").

Bad requests answer 4xx with a clear message, never 500 and never database
error text; ids are UUIDs; quantities are exact decimals, and a value with
more places than the column holds is refused, not rounded.
"""
from __future__ import annotations

import decimal
import json
import urllib.parse

import pytest
import sqlalchemy as sa

from app import models as m

from .conftest import get_one

D = decimal.Decimal
#: Fragments of driver / SQL error text that must never reach a client.
DATABASE_TEXT = ("sqlalchemy", "psycopg", "sqlite3", "integrityerror", "dataerror", "traceback",
                 "statementerror", "operationalerror", "select ", "insert into", "(background on this error")


def ids(app) -> dict:
    from app.extensions import db

    with app.app_context():
        out = {
            "acme": str(get_one(m.Organization, name="Acme Aqua").id),
            "central": str(get_one(m.Warehouse, name="Central").id),
            "acme_main": str(get_one(m.Warehouse, name="Acme Main").id),
            "bulk": str(get_one(m.Part, part_number="BULK-1").id),
            "con": str(get_one(m.Part, part_number="CON-1").id),
        }
        db.session.remove()
    return out


def stock(app, warehouse_id: str, part_id: str) -> D:
    from app.extensions import db

    with app.app_context():
        value = db.session.execute(sa.select(m.Inventory.current_stock).where(
            m.Inventory.warehouse_id == warehouse_id, m.Inventory.part_id == part_id)).scalar_one()
        db.session.remove()
    return value


def n_rows(app, model) -> int:
    from app.extensions import db

    with app.app_context():
        n = db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()
        db.session.remove()
    return n


def assert_clear_4xx(resp, status: int, *words: str):
    """``resp`` is ``status`` with a JSON ``message`` that names ``words`` and shows no database text."""
    body = resp.get_data(as_text=True)
    assert resp.status_code == status, body
    message = resp.get_json()["message"]
    text = json.dumps(message).lower()
    for word in words:
        assert word.lower() in text, f"{word!r} not in {message!r}"
    for fragment in DATABASE_TEXT:
        assert fragment not in body.lower(), f"database text {fragment!r} in {body!r}"
    return message


def q(value: str) -> str:
    return "?q=" + urllib.parse.quote(value)


@pytest.fixture
def api(api_as):
    return api_as("superadmin")


# --- ids ----------------------------------------------------------------------------------

def _get_by_uuid(app, api):
    w = ids(app)
    resp = api.get(f"/api/v1/warehouse/{w['acme_main']}")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["id"] == w["acme_main"] and body["result"]["name"] == "Acme Main"
    # Any spelling of the same UUID finds the row.
    upper = api.get(f"/api/v1/warehouse/{w['acme_main'].upper()}")
    assert upper.status_code == 200 and upper.get_json()["result"]["name"] == "Acme Main"


MALFORMED_IDS = ["not-a-uuid", "123", "-1", "0x10", "%20", "00000000-0000-0000-0000-00000000000g"]
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def _malformed_or_unknown_id_is_404(app, api, subtests):
    before = n_rows(app, m.Warehouse)
    for bad_id in [*MALFORMED_IDS, UNKNOWN_ID]:
        for method in ("get", "put", "delete"):
            with subtests.test(method=method, id=bad_id):
                kwargs = {"json": {"name": "x"}} if method == "put" else {}
                assert_clear_4xx(getattr(api, method)(f"/api/v1/warehouse/{bad_id}", **kwargs), 404, "not found")
    assert n_rows(app, m.Warehouse) == before


def test_ids_by_uuid_and_bad_ids(app, api, subtests):
    with subtests.test("get by uuid"):
        _get_by_uuid(app, api)
    with subtests.test("malformed or unknown id is 404"):
        _malformed_or_unknown_id_is_404(app, api, subtests)


# --- query strings ------------------------------------------------------------------------

BROKEN_RISON = ["(", "(page:", "(page:1", "(filters:!((col:name,opr:eq,value:", "((((", "!(", "(columns:!("]


def _broken_rison_is_400(app, api, subtests):
    w = ids(app)
    routes = ["/api/v1/warehouse/", "/api/v1/warehouse/_info", f"/api/v1/warehouse/{w['acme_main']}"]
    for route in routes:
        for broken in BROKEN_RISON:
            with subtests.test(route=route, q=broken):
                assert_clear_4xx(api.get(route + q(broken)), 400, "rison")


OUT_OF_RANGE_PAGING = [
    ("(page:-1)", "page"),
    ("(page:-1,page_size:10)", "page"),
    ("(page_size:0)", "page_size"),
    ("(page_size:-5)", "page_size"),
    ("(page:a)", "integer"),
    ("(page:99999999999999999999)", "page"),
    ("(page:9223372036854775807,page_size:100)", "page"),
]


def _out_of_range_paging_is_400(app, api, subtests):
    """On both engines (PostgreSQL refuses a negative OFFSET, FAB answers 500)."""
    for args, word in OUT_OF_RANGE_PAGING:
        with subtests.test(q=args):
            assert_clear_4xx(api.get("/api/v1/transaction/" + q(args)), 400, word)


def _paging_within_range_works(app, api):
    body = api.get("/api/v1/transaction/" + q("(page:1,page_size:2,order_column:quantity,order_direction:asc)"))
    assert body.status_code == 200
    # 6 rows: two creations, and a dispatch and a receipt for each of the two shipments
    # (stock transfers since issue 8; before, one transfer row each: 4)
    assert body.get_json()["count"] == 6 and len(body.get_json()["result"]) == 2
    beyond = api.get("/api/v1/transaction/" + q("(page:50,page_size:100)"))
    assert beyond.status_code == 200 and beyond.get_json()["result"] == []


BAD_FILTERS = [
    ("(filters:!((col:name,opr:nonsense,value:x)))", ("nonsense", "operator")),
    ("(filters:!((col:nope,opr:eq,value:x)))", ("nope",)),
    ("(filters:!((col:organization,opr:rel_o_m,value:not-a-uuid)))", ("not-a-uuid",)),
    ("(filters:!((col:organization,opr:rel_o_m,value:42)))", ("42",)),
    ("(order_column:nope,order_direction:asc)", ("nope",)),
    ("(order_column:name,order_direction:sideways)", ("sideways",)),
]


def _bad_filters_and_order_are_400(app, api, subtests):
    for args, words in BAD_FILTERS:
        with subtests.test(q=args):
            assert_clear_4xx(api.get("/api/v1/warehouse/" + q(args)), 400, *words)


def _a_relation_filter_by_uuid_works(app, api):
    w = ids(app)
    resp = api.get("/api/v1/inventory/" + q(f"(filters:!((col:warehouse,opr:rel_o_m,value:'{w['central']}')))"))
    assert resp.status_code == 200
    assert {r["warehouse_id"] for r in resp.get_json()["result"]} == {w["central"]}
    assert resp.get_json()["count"] == 2


def test_query_strings(app, api, subtests):
    with subtests.test("broken rison is 400"):
        _broken_rison_is_400(app, api, subtests)
    with subtests.test("out of range paging is 400"):
        _out_of_range_paging_is_400(app, api, subtests)
    with subtests.test("paging within range works"):
        _paging_within_range_works(app, api)
    with subtests.test("bad filters and order are 400"):
        _bad_filters_and_order_are_400(app, api, subtests)
    with subtests.test("a relation filter by uuid works"):
        _a_relation_filter_by_uuid_works(app, api)


# --- bodies -------------------------------------------------------------------------------

def _malformed_json_body_is_400(app, api, subtests):
    w = ids(app)
    headers = {"Content-Type": "application/json"}
    before = n_rows(app, m.Warehouse)
    for body in ('{"name": "x",', "{'name': 'x'}", "", "nul", '{"name": "x"} trailing'):
        with subtests.test(body=body):
            assert_clear_4xx(api.post("/api/v1/warehouse/", data=body, headers=headers), 400, "json")
            assert_clear_4xx(api.put(f"/api/v1/warehouse/{w['acme_main']}", data=body, headers=headers),
                             400, "json")
    for body in ("[1, 2]", '"a string"', "null", "42"):
        with subtests.test(body=body):
            assert_clear_4xx(api.post("/api/v1/warehouse/", data=body, headers=headers), 400, "object")
    with subtests.test(body="form-encoded"):
        assert_clear_4xx(api.post("/api/v1/warehouse/", data="name=x"), 400, "json")
    assert n_rows(app, m.Warehouse) == before


def _wrong_types_are_422_naming_the_fields(app, api):
    w = ids(app)
    message = assert_clear_4xx(api.post("/api/v1/warehouse/", json={
        "organization": w["acme"], "name": 123, "is_active": "maybe"}), 422)
    assert set(message) == {"name", "is_active"}
    message = assert_clear_4xx(api.put(f"/api/v1/warehouse/{w['acme_main']}", json={"is_active": [1]}), 422)
    assert set(message) == {"is_active"}
    message = assert_clear_4xx(api.post("/api/v1/transaction/", json={
        "transaction_type": "gift", "part": w["con"], "quantity": "one", "to_warehouse": w["central"],
        "transaction_date": "yesterday"}), 422)
    assert {"transaction_type", "quantity", "transaction_date"} <= set(message)


def _values_too_long_for_their_column_are_422(app, api):
    w = ids(app)
    message = assert_clear_4xx(api.post("/api/v1/warehouse/", json={"organization": w["acme"], "name": "x" * 300}), 422)
    assert "name" in message


BAD_RELATED = [
    (UNKNOWN_ID, ("organization", "no organization")),
    ("not-a-uuid", ("organization", "not a valid")),
    (5, ("organization", "not a valid")),
    (True, ("organization", "not a valid")),
    ({"id": UNKNOWN_ID}, ("organization", "no organization")),
]


def _unknown_or_malformed_related_id_is_422(app, api, subtests):
    before = n_rows(app, m.Organization), n_rows(app, m.Warehouse)
    for value, words in BAD_RELATED:
        with subtests.test(organization=value):
            resp = api.post("/api/v1/warehouse/", json={"organization": value, "name": "Orphan"})
            assert_clear_4xx(resp, 422, *words)
    # Nothing was made up: no empty organization, no warehouse.
    assert (n_rows(app, m.Organization), n_rows(app, m.Warehouse)) == before
    w = ids(app)
    with subtests.test("transaction with an unknown part"):
        resp = api.post("/api/v1/transaction/", json={"transaction_type": "creation", "part": UNKNOWN_ID,
                                                      "quantity": "1", "to_warehouse": w["central"]})
        assert_clear_4xx(resp, 422, "part", "no part")


def _unknown_related_id_on_update_is_422(app, api):
    w = ids(app)
    resp = api.put(f"/api/v1/warehouse/{w['acme_main']}",
                   json={"organization": "00000000-0000-4000-8000-000000000000"})
    assert_clear_4xx(resp, 422, "organization")
    assert api.get(f"/api/v1/warehouse/{w['acme_main']}").get_json()["result"]["organization_id"] == w["acme"]


def _a_rule_violation_is_422_with_the_rules_message(app, api):
    w = ids(app)
    resp = api.post("/api/v1/warehouse/", json={"organization": w["acme"], "name": "Acme Main"})
    assert_clear_4xx(resp, 422, "unique within an organization")


def test_request_bodies(app, api, subtests):
    with subtests.test("malformed json body is 400"):
        _malformed_json_body_is_400(app, api, subtests)
    with subtests.test("wrong types are 422 naming the fields"):
        _wrong_types_are_422_naming_the_fields(app, api)
    with subtests.test("values too long for their column are 422"):
        _values_too_long_for_their_column_are_422(app, api)
    with subtests.test("unknown or malformed related id is 422"):
        _unknown_or_malformed_related_id_is_422(app, api, subtests)
    with subtests.test("unknown related id on update is 422"):
        _unknown_related_id_on_update_is_422(app, api)
    with subtests.test("a rule violation is 422 with the rules message"):
        _a_rule_violation_is_422_with_the_rules_message(app, api)


# --- decimals -----------------------------------------------------------------------------

def _consume(api, w, quantity, raw=False):
    payload = {"transaction_type": "consumption", "part": w["bulk"], "from_warehouse": w["central"],
               "quantity": quantity}
    if raw:
        return api.post("/api/v1/transaction/", data=json.dumps(payload).replace(f'"{quantity}"', quantity),
                        headers={"Content-Type": "application/json"})
    return api.post("/api/v1/transaction/", json=payload)


def _more_than_three_decimal_places_is_refused_not_rounded(app, api, subtests):
    """POST a transaction with quantity "1.0005": 422 naming the rule, and nothing posted."""
    w = ids(app)
    before = stock(app, w["central"], w["bulk"]), n_rows(app, m.Transaction)
    for quantity, raw in (("1.0005", False), ("1.0005", True), ("0.0001", False), ("2.1234567", True)):
        with subtests.test(quantity=quantity, as_json_number=raw):
            assert_clear_4xx(_consume(api, w, quantity, raw), 422, "3 decimal places")
    assert (stock(app, w["central"], w["bulk"]), n_rows(app, m.Transaction)) == before


def test_decimal_quantities_keep_their_exact_value(app, api, subtests):
    w = ids(app)
    expected_stock = stock(app, w["central"], w["bulk"])
    for quantity, raw in (("2.125", False), ("0.001", False), ("1.5", True), ("7", True)):
        with subtests.test(quantity=quantity, as_json_number=raw):
            resp = _consume(api, w, quantity, raw)
            assert resp.status_code == 201, resp.get_data(as_text=True)
            expected_stock -= D(quantity)
            stored = api.get(f"/api/v1/transaction/{resp.get_json()['id']}").get_json()["result"]["quantity"]
            assert isinstance(stored, str) and D(stored) == D(quantity)
            assert stock(app, w["central"], w["bulk"]) == expected_stock
            inventory = api.get("/api/v1/inventory/" + q(
                f"(filters:!((col:warehouse,opr:rel_o_m,value:'{w['central']}')))")).get_json()["result"]
            bulk_row = next(r for r in inventory if r["part_id"] == w["bulk"])
            assert D(bulk_row["current_stock"]) == expected_stock
    assert expected_stock == D("50") - D("10.626")


def _quantities_that_are_not_finite_positive_numbers_are_422(app, api, subtests):
    w = ids(app)
    before = n_rows(app, m.Transaction)
    for quantity in ("NaN", "Infinity", "-1", "0", "abc", "1e30"):
        with subtests.test(quantity=quantity):
            assert_clear_4xx(_consume(api, w, quantity), 422, "quantity")
    assert n_rows(app, m.Transaction) == before


def test_refused_quantities(app, api, subtests):
    with subtests.test("more than three decimal places is refused not rounded"):
        _more_than_three_decimal_places_is_refused_not_rounded(app, api, subtests)
    with subtests.test("quantities that are not finite positive numbers are 422"):
        _quantities_that_are_not_finite_positive_numbers_are_422(app, api, subtests)


# --- documents and login --------------------------------------------------------------------

DOMAIN_RESOURCES = ("organization", "warehouse", "part", "inventory", "machine", "transaction", "customer_order",
                    "customer_order_item", "supplier_order", "supplier_order_item", "part_usage",
                    "stock_adjustment", "transaction_approval", "security_event", "user_session")


def _openapi_document_is_valid_json_with_the_domain_paths(app, api):
    resp = api.get("/api/v1/_openapi")
    assert resp.status_code == 200
    doc = json.loads(resp.get_data(as_text=True))
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for resource in DOMAIN_RESOURCES:
        assert f"/api/v1/{resource}/" in paths, resource
    # GET, PUT and DELETE by id take a string (a UUID), not FAB's integer.
    for method in ("get", "put", "delete"):
        by_id = paths["/api/v1/warehouse/{pk}"][method]["parameters"]
        assert any(p["name"] == "pk" and p["schema"]["type"] == "string" for p in by_id), method
    # The append-only ledger documents no PUT or DELETE.
    assert set(paths["/api/v1/transaction/{pk}"]) == {"get"}
    assert "/api/v1/security/login" in paths


def _info_describes_related_fields_as_fab_does(app, api):
    info = api.get("/api/v1/warehouse/_info").get_json()
    organization = next(c for c in info["add_columns"] if c["name"] == "organization")
    assert organization["type"] == "Related" and organization["required"] is True
    assert organization["count"] == 5


def _swagger_ui_is_on(app, client_as):
    resp = client_as("superadmin").get("/swagger/v1")
    assert resp.status_code == 200
    assert "swagger" in resp.get_data(as_text=True).lower()


def _jwt_login_works_and_the_token_authenticates(app):
    c = app.test_client()
    resp = c.post("/api/v1/security/login", json={"username": "acme.admin", "password": "test-password-1",
                                                  "provider": "db", "refresh": True})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["access_token"] and body["refresh_token"]
    listed = c.get("/api/v1/warehouse/", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert listed.status_code == 200 and listed.get_json()["count"] == 2


BAD_LOGINS = [
    ({"username": "acme.admin", "password": "wrong", "provider": "db"}, 401),
    ({"username": "nobody", "password": "test-password-1", "provider": "db"}, 401),
    ({"username": "acme.admin", "provider": "db"}, 400),
]


def _jwt_login_refuses_bad_credentials_and_tokens(app, subtests):
    c = app.test_client()
    for payload, status in BAD_LOGINS:
        with subtests.test(payload=payload):
            resp = c.post("/api/v1/security/login", json=payload)
            assert resp.status_code == status
            assert "access_token" not in resp.get_data(as_text=True)
    with subtests.test("forged token"):
        resp = c.get("/api/v1/warehouse/", headers={"Authorization": "Bearer not.a.token"})
        assert resp.status_code in (401, 422)
        assert "result" not in resp.get_data(as_text=True)



def test_documents_and_login(app, api, client_as, subtests):
    with subtests.test("openapi document is valid json with the domain paths"):
        _openapi_document_is_valid_json_with_the_domain_paths(app, api)
    with subtests.test("/_info describes related fields as FAB does"):
        _info_describes_related_fields_as_fab_does(app, api)
    with subtests.test("swagger ui is on"):
        _swagger_ui_is_on(app, client_as)
    with subtests.test("jwt login works and the token authenticates"):
        _jwt_login_works_and_the_token_authenticates(app)
    with subtests.test("jwt login refuses bad credentials and tokens"):
        _jwt_login_refuses_bad_credentials_and_tokens(app, subtests)