"""Customer orders: placed by a customer organization, always addressed to Oraseas EE."""
from app import models as m

from .conftest import get_one


def _ids(app):
    with app.app_context():
        return {
            "acme": str(get_one(m.Organization, name="Acme Aqua").id),
            "beta": str(get_one(m.Organization, name="Beta Fish").id),
            "oraseas": str(get_one(m.Organization, name="Oraseas EE").id),
            "con": str(get_one(m.Part, part_number="CON-1").id),
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
