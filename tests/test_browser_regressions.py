"""Defects the browser tests (tests/browser) found, held here by quick test-client tests too."""
from __future__ import annotations

import re

import sqlalchemy as sa

from app import models as m

from .conftest import get_one, submit_form


def test_a_line_added_from_the_orders_lines_tab_joins_that_order(app, api_as, client_as):
    """The "+" of an order's lines tab opens the line form with the order as a URL filter
    (``?_flt_0_customer_order=<id>``); saving it answered 400 "not a valid id"."""
    with app.app_context():
        acme, con = get_one(m.Organization, name="Acme Aqua").id, get_one(m.Part, part_number="CON-1").id
    order = api_as("acme.admin").post("/api/v1/customer_order/", json={
        "customer_organization": str(acme), "order_date": "2026-12-03", "status": "Requested"}).get_json()["id"]

    resp = submit_form(client_as("acme.admin"), f"/customerorderitemmodelview/add?_flt_0_customer_order={order}",
                       {"part": str(con), "quantity": "3"})

    assert resp.status_code == 302, resp.get_data(as_text=True)
    with app.app_context():
        from app.extensions import db
        from app.scoping import system

        with system():
            lines = db.session.execute(sa.select(m.CustomerOrderItem.customer_order_id, m.CustomerOrderItem.quantity)
                                       ).all()
        db.session.remove()
    assert [(str(order_id), quantity) for order_id, quantity in lines] == [(str(m.parse_uuid(order)), 3)]


def test_the_users_list_names_roles_in_words(client_as):
    """A user's roles were shown as a Python list, "[Admin]"."""
    page = client_as("superadmin").get("/users/list/").get_data(as_text=True)
    assert "[Admin]" not in page and "[Super Admin]" not in page
    assert re.search(r">\s*Super Admin\s*<", page)
