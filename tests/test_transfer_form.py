"""The transaction form: a transfer moves stock between one organization's warehouses.

Since issue 8 stock goes to another organization only through a stock transfer
document (dispatch, then receipt: ``tests/test_transfers.py``); the transaction
form refuses a direct transfer into a customer's warehouse, naming the rule.
"""
import html

import sqlalchemy as sa

from app import models as m
from app.extensions import db
from app.scoping import system

from .conftest import csrf_token, get_one

CROSS_ORGANIZATION = "Transfers between organizations go through dispatch and receipt"


def _ids(app):
    """Ids of warehouse Central (Oraseas EE), warehouse Acme Main and part CON-1."""
    with app.app_context():
        return (str(get_one(m.Warehouse, name="Central").id), str(get_one(m.Warehouse, name="Acme Main").id),
                str(get_one(m.Part, part_number="CON-1").id))


def _stock(app, warehouse):
    with app.app_context():
        return get_one(m.Inventory, warehouse_id=get_one(m.Warehouse, name=warehouse).id,
                       part_id=get_one(m.Part, part_number="CON-1").id).current_stock


def _ledger_rows(app):
    with app.app_context(), system():
        return db.session.execute(sa.select(sa.func.count()).select_from(m.Transaction)).scalar_one()


def test_oraseas_admin_cannot_ship_to_a_customer_from_the_form(app, client_as):
    central, acme_main, con = _ids(app)
    rows = _ledger_rows(app)
    c = client_as("oraseas.admin")
    page = c.get("/transactionmodelview/add").get_data(as_text=True)
    from_select = page[page.index('id="from_warehouse"'):]
    from_select = from_select[:from_select.index("</select>")]
    assert "Acme Main" not in from_select  # the source stays the user's own
    resp = c.post("/transactionmodelview/add", data={
        "csrf_token": csrf_token(page), "transaction_type": "transfer", "part": con, "quantity": "4",
        "from_warehouse": central, "to_warehouse": acme_main, "transaction_date": ""}, follow_redirects=True)
    text = html.unescape(resp.get_data(as_text=True))
    assert "Added Row" not in text
    assert CROSS_ORGANIZATION in text and "create a stock transfer" in text
    assert (_stock(app, "Central"), _stock(app, "Acme Main")) == (85, 10)
    assert _ledger_rows(app) == rows


def test_a_customer_cannot_take_stock_out_of_oraseas_through_the_form(app, client_as):
    central, acme_main, con = _ids(app)
    c = client_as("acme.admin")
    page = c.get("/transactionmodelview/add").get_data(as_text=True)
    resp = c.post("/transactionmodelview/add", data={
        "csrf_token": csrf_token(page), "transaction_type": "transfer", "part": con, "quantity": "4",
        "from_warehouse": central, "to_warehouse": acme_main}, follow_redirects=True)
    assert "Added Row" not in resp.get_data(as_text=True)
    with app.app_context():
        assert get_one(m.Inventory, warehouse_id=get_one(m.Warehouse, name="Central").id,
                       part_id=get_one(m.Part, part_number="CON-1").id).current_stock == 85


def test_a_transfer_between_ones_own_warehouses_posts_from_the_form(app, client_as):
    _central, acme_main, con = _ids(app)
    with app.app_context():
        acme_site = str(get_one(m.Warehouse, name="Acme Site").id)
    c = client_as("acme.admin")
    page = c.get("/transactionmodelview/add").get_data(as_text=True)
    resp = c.post("/transactionmodelview/add", data={
        "csrf_token": csrf_token(page), "transaction_type": "transfer", "part": con, "quantity": "4",
        "from_warehouse": acme_main, "to_warehouse": acme_site, "transaction_date": ""}, follow_redirects=True)
    assert "Added Row" in resp.get_data(as_text=True)
    assert (_stock(app, "Acme Main"), _stock(app, "Acme Site")) == (6, 4)
