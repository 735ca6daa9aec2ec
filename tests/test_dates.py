"""Dates as the browser and clients send them: a date alone, or a date and a time.

FAB 5.3's date pickers fill in ``2026-12-03`` (bootstrap-datepicker, format
``yyyy-mm-dd``) even on date-time columns; clients send ``2026-12-03 14:05:00``
or ISO 8601.  Every date column of orders, transactions, part usage, stock
adjustments and machines takes both, on the forms and in the REST API, and
stores an aware UTC time: a date alone is that day at 00:00 UTC.
"""
from __future__ import annotations

import datetime as dt
import html

import pytest
import sqlalchemy as sa

from app import models as m
from app.models.types import TIMESTAMP_HELP

from .conftest import csrf_token, get_one, submit_form

UTC = dt.timezone.utc
DAY = "2026-12-03"
DAY_AT_MIDNIGHT = dt.datetime(2026, 12, 3, tzinfo=UTC)
MOMENT = "2026-12-03 14:05:00"
AT_MOMENT = dt.datetime(2026, 12, 3, 14, 5, tzinfo=UTC)


def _ids(app) -> dict[str, str]:
    with app.app_context():
        acme_main = get_one(m.Warehouse, name="Acme Main")
        con = get_one(m.Part, part_number="CON-1")
        return {
            "acme": str(get_one(m.Organization, name="Acme Aqua").id),
            "oraseas": str(get_one(m.Organization, name="Oraseas EE").id),
            "central": str(get_one(m.Warehouse, name="Central").id),
            "acme_main": str(acme_main.id),
            "con": str(con.id),
            "machine": str(get_one(m.Machine, serial_number="SN-ACME-1").id),
            "acme_con": str(get_one(m.Inventory, warehouse_id=acme_main.id, part_id=con.id).id),
        }


#: Per record type: who records it, its screen (``None``: no date on the form),
#: its API resource, the fields of a valid record (``n`` makes unique values) and
#: its date columns.
CASES = {
    "customer order": dict(
        model=m.CustomerOrder, user="acme.admin", view="customerordermodelview", resource="customer_order",
        fields=lambda i, n: {"customer_organization": i["acme"], "status": "Requested"},
        dates=["order_date", "expected_delivery_date"]),  # the delivery date comes with the receipt
    "supplier order": dict(
        model=m.SupplierOrder, user="oraseas.admin", view="supplierordermodelview", resource="supplier_order",
        fields=lambda i, n: {"ordering_organization": i["oraseas"], "supplier_name": "BossAqua",
                             "status": "Pending"},
        dates=["order_date", "expected_delivery_date"]),  # the delivery date comes with the receipt
    "transaction": dict(
        model=m.Transaction, user="oraseas.admin", view="transactionmodelview", resource="transaction",
        fields=lambda i, n: {"transaction_type": "creation", "part": i["con"], "quantity": "3",
                             "to_warehouse": i["central"]},
        dates=["transaction_date"]),
    "part usage": dict(
        model=m.PartUsage, user="acme.admin", view="partusagemodelview", resource="part_usage",
        fields=lambda i, n: {"warehouse": i["acme_main"], "machine": i["machine"], "part": i["con"],
                             "quantity": "1"},
        dates=["usage_date"]),
    "stock adjustment": dict(
        model=m.StockAdjustment, user="acme.admin", view=None, resource="stock_adjustment",
        fields=lambda i, n: {"inventory": i["acme_con"], "quantity_adjusted": "1", "reason_code": "found"},
        dates=["adjustment_date"]),
    "machine": dict(
        model=m.Machine, user="superadmin", view="machinemodelview", resource="machine",
        fields=lambda i, n: {"customer_organization": i["acme"], "name": f"Boss {n}",
                             "serial_number": f"SN-DATE-{n}", "model_type": "AutoBoss V4.0", "status": "active"},
        dates=["purchase_date", "warranty_expiry_date", "last_maintenance_date", "next_maintenance_date"]),
}


def _stored(app, model, column: str, when: dt.datetime) -> int:
    """How many rows of ``model`` hold ``when`` in ``column`` (read unscoped)."""
    from app.extensions import db

    with app.app_context():
        n = db.session.execute(
            sa.select(sa.func.count()).select_from(model).where(getattr(model, column) == when)
        ).scalar_one()
        db.session.remove()
    return n


@pytest.mark.parametrize("kind", [k for k, case in CASES.items() if case["view"]])
def test_the_add_form_saves_a_picked_date_and_a_typed_date_time(app, client_as, kind):
    case, ids = CASES[kind], _ids(app)
    c = client_as(case["user"])
    page = c.get(f"/{case['view']}/add").get_data(as_text=True)
    for column in case["dates"]:
        # FAB's picker (bootstrap-datepicker, yyyy-mm-dd) is on every date column.
        assert f'id="{column}"' in page and "appbuilder_datetime" in page
    for n, (sent, stored) in enumerate([(DAY, DAY_AT_MIDNIGHT), (MOMENT, AT_MOMENT)]):
        data = {"csrf_token": csrf_token(page), **case["fields"](ids, n), **dict.fromkeys(case["dates"], sent)}
        resp = c.post(f"/{case['view']}/add", data=data, follow_redirects=True)
        assert "Added Row" in resp.get_data(as_text=True), f"{kind} {sent!r} not saved"
        listed = c.get(f"/{case['view']}/list/").get_data(as_text=True)
        assert stored.strftime("%Y-%m-%d %H:%M UTC") in listed
        for column in case["dates"]:
            assert _stored(app, case["model"], column, stored) == 1, (kind, column, sent)


@pytest.mark.parametrize("kind", list(CASES))
def test_the_api_takes_a_date_and_a_date_time(app, api_as, kind):
    case, ids = CASES[kind], _ids(app)
    api = api_as(case["user"])
    for n, (sent, stored) in enumerate([(DAY, DAY_AT_MIDNIGHT), (MOMENT, AT_MOMENT)]):
        resp = api.post(f"/api/v1/{case['resource']}/",
                        json={**case["fields"](ids, n), **dict.fromkeys(case["dates"], sent)})
        assert resp.status_code == 201, resp.get_data(as_text=True)
        shown = api.get(f"/api/v1/{case['resource']}/{resp.get_json()['id']}").get_json()["result"]
        for column in case["dates"]:
            assert shown[column] == stored.isoformat(), (kind, column, sent)
            assert _stored(app, case["model"], column, stored) == 1


def test_an_offset_is_converted_to_utc(app, api_as):
    ids = _ids(app)
    resp = api_as("acme.admin").post("/api/v1/customer_order/", json={
        "customer_organization": ids["acme"], "status": "Requested", "order_date": "2026-12-03T16:05:00+02:00"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert _stored(app, m.CustomerOrder, "order_date", AT_MOMENT) == 1


def test_a_value_that_is_no_date_is_refused_saying_what_to_enter(app, client_as, api_as):
    ids = _ids(app)
    resp = submit_form(client_as("acme.admin"), "/customerordermodelview/add", {
        "customer_organization": ids["acme"], "status": "Requested", "order_date": "03/12/2026"})
    assert resp.status_code == 200 and TIMESTAMP_HELP in html.unescape(resp.get_data(as_text=True))
    resp = api_as("acme.admin").post("/api/v1/customer_order/", json={
        "customer_organization": ids["acme"], "status": "Requested", "order_date": "03/12/2026"})
    assert resp.status_code == 422
    assert resp.get_json()["message"] == {"order_date": [TIMESTAMP_HELP]}
    assert _count(app, m.CustomerOrder) == 0


def test_a_required_date_left_empty_is_refused_and_an_optional_one_may_be(app, client_as):
    ids = _ids(app)
    c = client_as("acme.admin")
    data = {"customer_organization": ids["acme"], "status": "Requested", "order_date": "",
            "expected_delivery_date": ""}
    assert "This field is required." in submit_form(c, "/customerordermodelview/add", data).get_data(as_text=True)
    assert _count(app, m.CustomerOrder) == 0
    resp = submit_form(c, "/customerordermodelview/add", {**data, "order_date": DAY}, follow_redirects=True)
    assert "Added Row" in resp.get_data(as_text=True)
    assert _stored(app, m.CustomerOrder, "order_date", DAY_AT_MIDNIGHT) == 1


def test_the_edit_form_shows_the_stored_time_and_keeps_it(app, client_as, api_as):
    ids = _ids(app)
    created = api_as("acme.admin").post("/api/v1/customer_order/", json={
        "customer_organization": ids["acme"], "status": "Requested", "order_date": MOMENT}).get_json()["id"]
    c = client_as("acme.admin")
    page = c.get(f"/customerordermodelview/edit/{created}").get_data(as_text=True)
    # FAB's picker writes the stored value as it is: UTC, with its offset.
    assert f'value="{MOMENT}+00:00"' in page
    resp = c.post(f"/customerordermodelview/edit/{created}", data={
        "csrf_token": csrf_token(page), "customer_organization": ids["acme"], "status": "Pending",
        "order_date": f"{MOMENT}+00:00"}, follow_redirects=True)
    assert "Changed Row" in resp.get_data(as_text=True)
    assert _stored(app, m.CustomerOrder, "order_date", AT_MOMENT) == 1


def _count(app, model) -> int:
    from app.extensions import db

    with app.app_context():
        n = db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()
        db.session.remove()
    return n


def test_the_pickers_leave_a_typed_date_time_alone(app, client_as, api_as):
    """FAB's picker would rewrite a typed time or a stored date-time to today's date on blur
    (bootstrap-datepicker's forceParse, checked in Chromium); the add and edit pages turn that off."""
    ids = _ids(app)
    created = api_as("acme.admin").post("/api/v1/customer_order/", json={
        "customer_organization": ids["acme"], "status": "Requested", "order_date": MOMENT}).get_json()["id"]
    c = client_as("acme.admin")
    for url in ("/customerordermodelview/add", f"/customerordermodelview/edit/{created}"):
        page = c.get(url).get_data(as_text=True)
        assert page.index("forceParse: false") > page.index("js/ab.js"), url  # after FAB's own start-up
