"""Orders: customer orders are placed by a customer organization and always addressed to
Oraseas EE; the lines of every order follow the ledger's unit rules."""
import decimal
import html

import pytest
import sqlalchemy as sa

from app import models as m

from .conftest import csrf_token, get_one

D = decimal.Decimal


def _ids(app):
    with app.app_context():
        return {
            "acme": str(get_one(m.Organization, name="Acme Aqua").id),
            "beta": str(get_one(m.Organization, name="Beta Fish").id),
            "oraseas": str(get_one(m.Organization, name="Oraseas EE").id),
            "con": str(get_one(m.Part, part_number="CON-1").id),
            "bulk": str(get_one(m.Part, part_number="BULK-1").id),
        }


def test_a_customer_admin_places_an_order_addressed_to_oraseas(app, api_as):
    ids = _ids(app)
    resp = api_as("acme.admin").post("/api/v1/customer_order/", json={
        "customer_organization": ids["acme"], "order_date": "2026-02-01T09:00:00", "status": "Requested"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    shown = api_as("superadmin").get(f"/api/v1/customer_order/{resp.get_json()['id']}").get_json()["result"]
    assert shown["oraseas_organization_id"] == ids["oraseas"]
    assert shown["customer_organization_id"] == ids["acme"]
    assert shown["ordered_by_user_id"] is not None


def test_an_order_of_another_customer_lands_in_the_admins_own_organization(app, api_as):
    ids = _ids(app)
    resp = api_as("acme.admin").post("/api/v1/customer_order/", json={
        "customer_organization": ids["beta"], "order_date": "2026-02-01T09:00:00", "status": "Requested"})
    assert resp.status_code in (201, 422)
    if resp.status_code == 201:
        shown = api_as("superadmin").get(f"/api/v1/customer_order/{resp.get_json()['id']}").get_json()["result"]
        assert shown["customer_organization_id"] == ids["acme"]


def test_orders_are_placed_only_by_customer_organizations(app, api_as):
    ids = _ids(app)
    resp = api_as("superadmin").post("/api/v1/customer_order/", json={
        "customer_organization": ids["oraseas"], "order_date": "2026-02-01T09:00:00", "status": "Requested"})
    assert resp.status_code == 422
    assert "placed by customer organizations" in resp.get_json()["message"]
    count = api_as("superadmin").get("/api/v1/customer_order/").get_json()["count"]
    assert count == 0


# --- order lines: the ledger's unit rules, the part's price ------------------------

WHOLE_UNITS = "CON-1 is a consumable counted in whole pieces; 2.5 is not a whole number."
THREE_PLACES = "may have at most 3 decimal places; 1.0005 has more."
#: Per kind of order: who orders, the order's API resource and a valid order, the line's resource and screen.
ORDERS = {
    "customer": dict(user="acme.admin", order="customer_order", line="customer_order_item",
                     view="customerorderitemmodelview", model=m.CustomerOrderItem,
                     fields=lambda ids: {"customer_organization": ids["acme"], "status": "Requested"}),
    "supplier": dict(user="oraseas.admin", order="supplier_order", line="supplier_order_item",
                     view="supplierorderitemmodelview", model=m.SupplierOrderItem,
                     fields=lambda ids: {"ordering_organization": ids["oraseas"], "supplier_name": "Nets Ltd",
                                         "status": "Pending"}),
}


def _order(app, api_as, kind) -> tuple[dict, str]:
    """Ids of the base data and the id of a new order of ``kind`` (made through the API)."""
    ids, spec = _ids(app), ORDERS[kind]
    resp = api_as(spec["user"]).post(f"/api/v1/{spec['order']}/", json={
        **spec["fields"](ids), "order_date": "2026-12-03"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return ids, resp.get_json()["id"]


def _lines(app, model) -> list[tuple]:
    """``(part number, quantity, unit price)`` of every line of ``model`` (read unscoped)."""
    from app.extensions import db
    from app.scoping import system

    with app.app_context(), system():
        rows = [(line.part.part_number, line.quantity, line.unit_price)
                for line in db.session.execute(sa.select(model)).scalars()]
        db.session.remove()
    return sorted(rows)


@pytest.mark.parametrize("kind", list(ORDERS))
def test_order_lines_through_the_api_follow_the_unit_rules(app, api_as, kind):
    ids, order = _order(app, api_as, kind)
    spec = ORDERS[kind]
    api = api_as(spec["user"])
    key = spec["order"]

    def line(part, quantity, **extra):
        return api.post(f"/api/v1/{spec['line']}/", json={key: order, "part": ids[part], "quantity": quantity,
                                                           **extra})

    refused = line("con", "2.5")
    assert refused.status_code == 422 and refused.get_json()["message"] == WHOLE_UNITS
    refused = line("bulk", "1.0005")
    assert refused.status_code == 422 and THREE_PLACES in refused.get_json()["message"]
    assert _lines(app, spec["model"]) == []  # nothing saved, nothing rounded
    assert line("bulk", "2.5").status_code == 201
    assert line("con", "3", unit_price="9.20").status_code == 201
    # The prices: the part's when left empty (BULK-1 costs 4.50), the one given otherwise.
    assert _lines(app, spec["model"]) == [("BULK-1", D("2.5"), D("4.50")), ("CON-1", D(3), D("9.20"))]
    created = api.get(f"/api/v1/{spec['line']}/").get_json()["result"]
    con_line = next(r["id"] for r in created if r["part_id"] == ids["con"])
    changed = api.put(f"/api/v1/{spec['line']}/{con_line}", json={"quantity": "2.5"})
    assert changed.status_code == 422 and changed.get_json()["message"] == WHOLE_UNITS


@pytest.mark.parametrize("kind", list(ORDERS))
def test_order_lines_through_the_form_follow_the_unit_rules(app, api_as, client_as, kind):
    ids, order = _order(app, api_as, kind)
    spec = ORDERS[kind]
    c = client_as(spec["user"])
    page = c.get(f"/{spec['view']}/add").get_data(as_text=True)

    def line(part, quantity):
        resp = c.post(f"/{spec['view']}/add", follow_redirects=True, data={
            "csrf_token": csrf_token(page), spec["order"]: order, "part": ids[part], "quantity": quantity,
            "unit_price": ""})
        return html.unescape(resp.get_data(as_text=True))

    assert WHOLE_UNITS in line("con", "2.5")
    assert THREE_PLACES in line("bulk", "1.0005")
    assert _lines(app, spec["model"]) == []
    assert "Added Row" in line("bulk", "2.5")
    assert _lines(app, spec["model"]) == [("BULK-1", D("2.5"), D("4.50"))]
