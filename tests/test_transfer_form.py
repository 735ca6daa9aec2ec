"""The transaction form: a transfer may deliver into another organization's warehouse."""
from app import models as m

from .conftest import choices, csrf_token, get_one


def _ids(app):
    """Ids of warehouse Central (Oraseas EE), warehouse Acme Main and part CON-1."""
    with app.app_context():
        return (str(get_one(m.Warehouse, name="Central").id), str(get_one(m.Warehouse, name="Acme Main").id),
                str(get_one(m.Part, part_number="CON-1").id))


def test_oraseas_admin_ships_to_a_customer_from_the_form(app, client_as):
    central, acme_main, con = _ids(app)
    c = client_as("oraseas.admin")
    page = c.get("/transactionmodelview/add").get_data(as_text=True)
    # another organization's warehouse is offered as the destination ...
    assert choices(c, "transactionmodelview", "add", "to_warehouse", q="acme main") == {
        "Acme Main (Acme Aqua)": acme_main}
    # ... while the source stays the user's own
    assert choices(c, "transactionmodelview", "add", "from_warehouse", q="acme main") == {}
    resp = c.post("/transactionmodelview/add", data={
        "csrf_token": csrf_token(page), "transaction_type": "transfer", "part": con, "quantity": "4",
        "from_warehouse": central, "to_warehouse": acme_main, "transaction_date": ""}, follow_redirects=True)
    assert "Added Row" in resp.get_data(as_text=True)
    with app.app_context():
        assert get_one(m.Inventory, warehouse_id=get_one(m.Warehouse, name="Acme Main").id,
                       part_id=get_one(m.Part, part_number="CON-1").id).current_stock == 14


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
