"""The transaction form: a transfer moves stock between one organization's warehouses.

Since issue 8 stock goes to another organization only through a stock transfer
document (dispatch, then receipt: ``tests/test_transfers.py``): the transaction
form offers only the user's own warehouses, and refuses a direct transfer into
another organization's warehouse, naming the rule, for staff who see both.
"""
import html

import pytest
import sqlalchemy as sa

from app import models as m
from app.extensions import db
from app.scoping import system

from .conftest import choices, csrf_token, get_one

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


@pytest.mark.parametrize("username, refusal", [
    ("oraseas.admin", "Not a valid choice"),  # the customer's warehouse is not offered at all
    ("superadmin", CROSS_ORGANIZATION),  # sees every warehouse: the rule says why
])
def test_nobody_ships_to_a_customer_from_the_transaction_form(app, client_as, username, refusal):
    central, acme_main, con = _ids(app)
    rows = _ledger_rows(app)
    c = client_as(username)
    page = c.get("/transactionmodelview/add").get_data(as_text=True)
    if username == "oraseas.admin":
        assert choices(c, "transactionmodelview", "add", "to_warehouse", q="acme main") == {}
        assert choices(c, "transactionmodelview", "add", "from_warehouse", q="acme main") == {}
    resp = c.post("/transactionmodelview/add", data={
        "csrf_token": csrf_token(page), "transaction_type": "transfer", "part": con, "quantity": "4",
        "from_warehouse": central, "to_warehouse": acme_main, "transaction_date": ""}, follow_redirects=True)
    text = html.unescape(resp.get_data(as_text=True))
    assert "Added Row" not in text and refusal in text
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
