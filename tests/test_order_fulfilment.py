"""Orders that move stock (issue 10): submit and approval by value, shipping into transit,
receipt by the customer, supplier-order receipts posting ``creation``, the order history.

Each test acts as the users who take the steps (JWT logins of the base data:
Oraseas EE ships from Central; Acme Aqua and Beta Fish are customers) and checks
what they would see: the answer, the order's state and figures, the balances,
and that the books still agree (``verify-ledger``).
"""
from __future__ import annotations

import decimal
import random

import pytest
import sqlalchemy as sa

from app import models as m
from app.extensions import db

from .conftest import get_one
from .test_transfers import books_agree, in_transit, race, stock

D = decimal.Decimal
CO = "/api/v1/customer_order/"
SO = "/api/v1/supplier_order/"


def new_order(app, api, w, lines=(("CON-1", "10"),), price=None, customer="Acme Aqua") -> str:
    """A draft customer order of ``customer`` with ``lines`` ((part number, quantity)); its id."""
    with app.app_context():
        org = str(get_one(m.Organization, name=customer).id)
        db.session.remove()
    made = api.post(CO, json={"customer_organization": org, "order_date": "2026-12-03"})
    assert made.status_code == 201, made.get_data(as_text=True)
    order = made.get_json()["id"]
    for part, quantity in lines:
        line = api.post("/api/v1/customer_order_item/", json={
            "customer_order": order, "part": w[part], "quantity": quantity,
            **({"unit_price": price} if price else {})})
        assert line.status_code == 201, line.get_data(as_text=True)
    return order


def approved_order(app, api_as, w, lines=(("CON-1", "10"),)) -> str:
    """An order of Acme Aqua (10 CON-1 at 10.00: within the threshold), submitted: approved."""
    order = new_order(app, api_as("acme.user"), w, lines)
    done = api_as("acme.user").post(f"{CO}{order}/submit")
    assert done.get_json()["result"]["status"] == "approved", done.get_data(as_text=True)
    return order


def lines(w, field="quantity", **quantities) -> dict:
    return [{"part": w[p.replace("_", "-")], field: q} for p, q in quantities.items()]


def ship(api, w, order, source="Central", **quantities):
    return api.post(f"{CO}{order}/ship", json={"warehouse": w[source], "lines": lines(w, **quantities)})


def receive(api, w, order, dest="Acme Main", shipment=None, **quantities):
    body = {"warehouse": w[dest], "lines": lines(w, "received_quantity", **quantities)}
    if shipment:
        body["shipment"] = shipment
    return api.post(f"{CO}{order}/receive", json=body)


def figures(answer) -> dict:
    """``{part number: (ordered, shipped, received)}`` of an order answer."""
    return {ln["part_number"]: (D(ln["ordered"]), D(ln["shipped"]), D(ln["received"]))
            for ln in answer.get_json()["result"]["lines"]}


# --- submit and approval by value -----------------------------------------------

def test_a_customer_user_orders_and_a_small_order_is_approved_on_submission(app, api_as, w):
    user = api_as("acme.user")
    order = new_order(app, user, w)
    shown = user.get(f"{CO}{order}").get_json()["result"]
    assert shown["status"] == "draft" and shown["value"] == "100.000" and "submit" in shown["actions"]
    submitted = user.post(f"{CO}{order}/submit")
    assert submitted.status_code == 200
    result = submitted.get_json()["result"]
    assert result["status"] == "approved"
    assert [(e["step"], e["from_status"], e["to_status"]) for e in result["history"]] == [
        ("submit", "draft", "approved")]
    assert "within the approval threshold 5000.00" in result["history"][0]["note"]
    # the value was approved as submitted: its lines no longer change
    refused = user.post("/api/v1/customer_order_item/", json={"customer_order": order, "part": w["BULK-1"],
                                                               "quantity": "1"})
    assert refused.status_code == 422 and "Order lines rule" in refused.get_json()["message"]
    assert user.post(f"{CO}{order}/submit").status_code == 409


def test_a_large_order_waits_for_an_oraseas_admin_and_the_threshold_is_per_customer(app, api_as, w):
    user = api_as("acme.user")
    big = new_order(app, user, w, lines=(("CON-1", "2"),), price="3000")  # 6,000 > 5,000
    assert user.post(f"{CO}{big}/submit").get_json()["result"]["status"] == "requested"
    assert user.post(f"{CO}{big}/approve").status_code == 403
    assert api_as("oraseas.admin").post(f"{CO}{big}/approve").get_json()["result"]["status"] == "approved"
    # Acme's own threshold (10,000), set by Oraseas staff, never by Acme, lets the same order through
    with app.app_context():
        acme = str(get_one(m.Organization, name="Acme Aqua").id)
    refused = api_as("acme.admin").put(f"/api/v1/organization/{acme}", json={"order_approval_threshold": "10000"})
    assert refused.status_code == 422 and "Order approval threshold rule" in refused.get_json()["message"]
    assert user.post(f"{CO}{new_order(app, user, w, lines=(('CON-1', '2'),), price='3000')}/submit"
                     ).get_json()["result"]["status"] == "requested"
    assert api_as("superadmin").put(f"/api/v1/organization/{acme}",
                                    json={"order_approval_threshold": "10000"}).status_code == 200
    again = new_order(app, user, w, lines=(("CON-1", "2"),), price="3000")
    assert user.post(f"{CO}{again}/submit").get_json()["result"]["status"] == "approved"


def test_a_submitted_order_keeps_its_customer(app, api_as, w):
    order = approved_order(app, api_as, w)
    with app.app_context():
        beta = str(get_one(m.Organization, name="Beta Fish").id)
    moved = api_as("superadmin").put(f"{CO}{order}", json={"customer_organization": beta})
    assert moved.status_code == 422 and "stays with its customer" in moved.get_json()["message"]
    assert api_as("superadmin").put(f"{CO}{order}", json={"notes": "Deliver to the north gate"}).status_code == 200


def test_an_empty_draft_is_not_submitted_and_a_given_status_is_ignored(app, api_as, w):
    user = api_as("acme.user")
    with app.app_context():
        acme = str(get_one(m.Organization, name="Acme Aqua").id)
    made = user.post(CO, json={"customer_organization": acme, "order_date": "2026-12-03", "status": "received"})
    assert made.status_code == 201
    assert user.get(f"{CO}{made.get_json()['id']}").get_json()["result"]["status"] == "draft"
    refused = user.post(f"{CO}{made.get_json()['id']}/submit")
    assert refused.status_code == 422 and "at least one line" in refused.get_json()["message"]


# --- shipping -----------------------------------------------------------------------

def test_partial_shipments_go_into_transit_and_never_exceed_the_order(app, api_as, w):
    order = approved_order(app, api_as, w, lines=(("CON-1", "10"), ("BULK-1", "2.5")))
    staff = api_as("oraseas.admin")
    assert ship(api_as("acme.admin"), w, order, CON_1="4").status_code == 403
    first = ship(staff, w, order, CON_1="4")
    assert first.status_code == 200, first.get_data(as_text=True)
    result = first.get_json()["result"]
    assert result["status"] == "shipped" and len(result["shipments"]) == 1
    assert figures(first)["CON-1"] == (10, 4, 0) and figures(first)["BULK-1"] == (D("2.5"), 0, 0)
    assert stock(app, "Central", "CON-1") == 81 and in_transit(app, "Oraseas EE", "CON-1") == 4
    over = ship(staff, w, order, CON_1="7")
    assert over.status_code == 422 and "only 6.000 left to ship" in over.get_json()["message"].replace("6 ", "6.000 ")
    assert ship(staff, w, order, CON_1="6", BULK_1="2.5").get_json()["result"]["status"] == "shipped"
    assert stock(app, "Central", "CON-1") == 75 and in_transit(app, "Oraseas EE", "BULK-1") == D("2.5")
    nothing_left = ship(staff, w, order, CON_1="1")
    assert nothing_left.status_code == 422 and "Over-ship" in nothing_left.get_json()["message"]
    assert books_agree(app)


def test_shipping_is_refused_before_approval_from_a_customer_warehouse_and_when_stock_is_short(app, api_as, w):
    staff = api_as("oraseas.admin")
    user = api_as("acme.user")
    requested = new_order(app, user, w, lines=(("CON-1", "2"),), price="3000")
    user.post(f"{CO}{requested}/submit")
    early = ship(staff, w, requested, CON_1="1")
    assert early.status_code == 409 and "it is requested" in early.get_json()["message"]
    order = approved_order(app, api_as, w, lines=(("CON-1", "200"),))
    wrong = ship(staff, w, order, source="Acme Main", CON_1="1")
    assert wrong.status_code == 422 and "warehouse of Oraseas EE" in wrong.get_json()["message"]
    short = ship(staff, w, order, CON_1="150")
    assert short.status_code == 422 and "CON-1" in short.get_json()["message"]
    assert stock(app, "Central", "CON-1") == 85 and in_transit(app, "Oraseas EE", "CON-1") == 0
    assert ship(api_as("beta.admin"), w, order, CON_1="1").status_code == 404


# --- receiving ----------------------------------------------------------------------

def test_the_customer_receives_into_its_own_warehouse_and_the_order_is_received(app, api_as, w):
    order = approved_order(app, api_as, w)
    staff, customer = api_as("oraseas.admin"), api_as("acme.user")
    ship(staff, w, order, CON_1="6")
    assert customer.get(f"{CO}{order}").get_json()["result"]["actions"] == ["receive"]
    other = receive(customer, w, order, dest="Beta Main", CON_1="6")
    assert other.status_code == 422 and "warehouse of its customer" in other.get_json()["message"]
    assert receive(api_as("beta.admin"), w, order, dest="Beta Main", CON_1="6").status_code == 404
    over = receive(customer, w, order, CON_1="7")
    assert over.status_code == 422 and "Over-receipt" in over.get_json()["message"]
    got = receive(customer, w, order, CON_1="6")
    assert got.status_code == 200, got.get_data(as_text=True)
    assert got.get_json()["result"]["status"] == "shipped"  # 4 more to come
    assert stock(app, "Acme Main", "CON-1") == 16 and in_transit(app, "Oraseas EE", "CON-1") == 0
    ship(staff, w, order, CON_1="4")
    done = receive(customer, w, order, dest="Acme Site", CON_1="4")
    result = done.get_json()["result"]
    assert result["status"] == "received" and result["actual_delivery_date"]
    assert stock(app, "Acme Site", "CON-1") == 4 and figures(done)["CON-1"] == (10, 10, 10)
    assert [e["step"] for e in result["history"]] == ["submit", "ship", "receive", "ship", "receive"]
    assert receive(customer, w, order, CON_1="4").status_code == 409
    assert books_agree(app)


def test_a_shortage_stays_in_transit_until_resolved_and_may_be_shipped_again(app, api_as, w):
    order = approved_order(app, api_as, w)
    staff, customer = api_as("oraseas.admin"), api_as("acme.admin")
    shipped = ship(staff, w, order, CON_1="10").get_json()["result"]["shipments"][0]["id"]
    short = receive(customer, w, order, CON_1="8")
    assert short.get_json()["result"]["status"] == "shipped" and figures(short)["CON-1"] == (10, 10, 8)
    assert in_transit(app, "Oraseas EE", "CON-1") == 2
    # the shipment's discrepancy is resolved on the transfer, by Oraseas EE: returned to Central
    transfer = api_as("oraseas.admin").get(f"/api/v1/stock_transfer/{shipped}").get_json()["result"]
    assert transfer["status"] == "received_with_discrepancy" and transfer["customer_order_id"] == order
    assert transfer["actions"] == ["resolve"]
    direct = customer.post(f"/api/v1/stock_transfer/{shipped}/receive",
                           json={"lines": [{"part": w["CON-1"], "received_quantity": "2"}]})
    assert direct.status_code in (409, 422)
    resolved = staff.post(f"/api/v1/stock_transfer/{shipped}/resolve", json={"line": w["CON-1"], "action": "return"})
    assert resolved.status_code in (200, 201), resolved.get_data(as_text=True)
    assert stock(app, "Central", "CON-1") == 77 and in_transit(app, "Oraseas EE", "CON-1") == 0
    assert figures(staff.get(f"{CO}{order}"))["CON-1"] == (10, 8, 8)
    ship(staff, w, order, CON_1="2")
    assert receive(customer, w, order, CON_1="2").get_json()["result"]["status"] == "received"
    assert books_agree(app)


def test_with_two_shipments_in_transit_the_receipt_names_one(app, api_as, w):
    order = approved_order(app, api_as, w)
    staff, customer = api_as("oraseas.admin"), api_as("acme.user")
    ship(staff, w, order, CON_1="3")
    second = ship(staff, w, order, CON_1="2").get_json()["result"]["shipments"][1]["id"]
    unnamed = receive(customer, w, order, CON_1="2")
    assert unnamed.status_code == 422 and "name the one received" in unnamed.get_json()["message"]
    assert receive(customer, w, order, shipment=second, CON_1="2").status_code == 200
    assert stock(app, "Acme Main", "CON-1") == 12 and in_transit(app, "Oraseas EE", "CON-1") == 3


def test_cancel_before_shipping_only(app, api_as, w):
    order = approved_order(app, api_as, w)
    ship(api_as("oraseas.admin"), w, order, CON_1="1")
    late = api_as("acme.user").post(f"{CO}{order}/cancel")
    assert late.status_code == 409 and "it is shipped" in late.get_json()["message"]
    draft = new_order(app, api_as("acme.user"), w)
    assert api_as("acme.user").post(f"{CO}{draft}/cancel").get_json()["result"]["status"] == "cancelled"


@pytest.mark.postgres
def test_simultaneous_receipts_of_one_shipment_post_once(app, api_as, w, engine_name):
    if engine_name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises every writer")
    order = approved_order(app, api_as, w)
    ship(api_as("oraseas.admin"), w, order, CON_1="10")
    body = {"warehouse": w["Acme Main"], "lines": lines(w, "received_quantity", CON_1="10")}
    answers = race([api_as("acme.user"), api_as("acme.admin")], f"{CO}{order}/receive", body)
    assert answers == [200, 409]
    assert stock(app, "Acme Main", "CON-1") == 20 and books_agree(app)


# --- supplier orders --------------------------------------------------------------

def supplier_order(app, api, w, **quantities) -> str:
    with app.app_context():
        oraseas = str(get_one(m.Organization, name="Oraseas EE").id)
    made = api.post(SO, json={"ordering_organization": oraseas, "supplier_name": "BossAqua",
                              "order_date": "2026-12-01"})
    assert made.status_code == 201, made.get_data(as_text=True)
    order = made.get_json()["id"]
    for part, quantity in quantities.items():
        assert api.post("/api/v1/supplier_order_item/", json={
            "supplier_order": order, "part": w[part.replace("_", "-")], "quantity": quantity}).status_code == 201
    return order


def test_a_supplier_order_is_received_in_parts_as_creations_with_its_reference(app, api_as, w):
    staff = api_as("oraseas.admin")
    order = supplier_order(app, staff, w, CON_1="50", BULK_1="20")
    url = f"{SO}{order}/receive"
    body = {"warehouse": w["Central"], "lines": lines(w, "received_quantity", CON_1="30")}
    part = staff.post(url, json=body)
    assert part.status_code == 200, part.get_data(as_text=True)
    assert part.get_json()["result"]["status"] == "partially_received"
    assert stock(app, "Central", "CON-1") == 115
    with app.app_context():
        txn = db.session.execute(sa.select(m.Transaction).where(
            m.Transaction.supplier_order_id == sa.cast(order, m.Transaction.supplier_order_id.type))).scalar_one()
        assert txn.transaction_type == m.TransactionType.creation and txn.to_warehouse.name == "Central"
        assert txn.reference_number.startswith("PO-") and txn.quantity == 30
        db.session.remove()
    over = staff.post(url, json={"warehouse": w["Central"], "lines": lines(w, "received_quantity", CON_1="21")})
    assert over.status_code == 422 and "Over-receive" in over.get_json()["message"]
    foreign = staff.post(url, json={"warehouse": w["Acme Main"], "lines": lines(w, "received_quantity", CON_1="1")})
    assert foreign.status_code == 422 and "organization that ordered it" in foreign.get_json()["message"]
    assert staff.post(f"{SO}{order}/cancel").status_code == 409
    rest = staff.post(url, json={"warehouse": w["Central"],
                                 "lines": lines(w, "received_quantity", CON_1="20", BULK_1="20")})
    result = rest.get_json()["result"]
    assert result["status"] == "received" and [e["to_status"] for e in result["history"]] == [
        "partially_received", "received"]
    assert stock(app, "Central", "BULK-1") == 70 and books_agree(app)
    assert staff.post(url, json={"warehouse": w["Central"],
                                 "lines": lines(w, "received_quantity", CON_1="1")}).status_code == 409


def test_a_customer_receives_only_its_own_supplier_orders(app, api_as, w):
    order = supplier_order(app, api_as("oraseas.admin"), w, CON_1="5")
    body = {"warehouse": w["Acme Main"], "lines": lines(w, "received_quantity", CON_1="5")}
    assert api_as("acme.admin").post(f"{SO}{order}/receive", json=body).status_code == 404


# --- the books after a randomized flow ------------------------------------------

def test_random_order_flows_keep_the_books(app, w):
    """Random orders (fixed seed) submitted, approved, shipped in parts, received with
    shortages, resolved and shipped again: every balance equals its ledger sum and every
    order's figures agree with the stock that moved."""
    from app.errors import DomainError
    from app.ledger_check import verify_balances, verify_transit
    from app.scoping import acting_as
    from app.workflows import orders as ow
    from app.workflows import transfers as tw

    rng = random.Random(10)
    with app.app_context():
        staff = get_one(m.PortalUser, username="oraseas.admin")
        customer = get_one(m.PortalUser, username="acme.user")
        acme = get_one(m.Organization, name="Acme Aqua")
        refused = 0
        for _ in range(12):
            try:
                with acting_as(customer):
                    order = m.CustomerOrder(customer_organization_id=acme.id,
                                            order_date=_today())
                    db.session.add(order)
                    for number in rng.sample(["CON-1", "BULK-1"], rng.randint(1, 2)):
                        part = get_one(m.Part, part_number=number)
                        qty = D(rng.randint(1, 8)) if number == "CON-1" else D(rng.randint(500, 4000)) / 1000
                        db.session.add(m.CustomerOrderItem(customer_order=order, part=part, quantity=qty))
                    db.session.commit()
                    ow.submit_customer_order(order.id)
                for _round in range(3):
                    figs = ow.customer_order_figures(db.session, order)
                    left = {pid: f.left_to_ship for pid, f in figs.items() if f.left_to_ship > 0}
                    if not left:
                        break
                    with acting_as(staff):
                        shipment = ow.ship_customer_order(order.id, w["Central"], {
                            pid: (q if rng.random() < 0.6 else _part_of(q, rng)) for pid, q in left.items()})
                    got = {ln.part_id: (ln.quantity if rng.random() < 0.7 else _part_of(ln.quantity, rng, zero=True))
                           for ln in shipment.lines}
                    with acting_as(customer):
                        shipment = ow.receive_customer_order(order.id, w[rng.choice(["Acme Main", "Acme Site"])], got)
                    for ln in shipment.lines:
                        if tw.line_figures(db.session, shipment)[ln.part_id].open_discrepancy > 0:
                            with acting_as(staff):
                                tw.resolve_discrepancy(shipment.id, ln.part_id, "return")
            except DomainError:
                refused += 1
                db.session.rollback()
        assert verify_balances(db.session) == []
        assert verify_transit(db.session) == ([], [])  # what verify-ledger checks of stock in transit
        orders = db.session.execute(sa.select(m.CustomerOrder)).scalars().all()
        assert sum(o.status == m.CustomerOrderStatus.received for o in orders) >= 3
        for order in orders:
            figs = ow.customer_order_figures(db.session, order)
            for f in figs.values():
                assert f.received <= f.shipped <= f.ordered
            if order.status == m.CustomerOrderStatus.received:
                assert all(f.received == f.ordered for f in figs.values())
        assert refused < 12
        db.session.remove()


def _today():
    import datetime as dt

    return dt.datetime(2026, 12, 3, tzinfo=dt.timezone.utc)


def _part_of(quantity: D, rng, zero=False) -> D:
    """Part of ``quantity``: whole units stay whole (at least 1 unless ``zero``)."""
    if quantity == quantity.to_integral_value():
        return D(rng.randint(0 if zero else 1, int(quantity)))
    return (quantity * D(rng.randint(1 if not zero else 0, 9)) / 10).quantize(D("0.001"))


# --- the screens ------------------------------------------------------------------

def test_the_order_page_takes_an_order_from_draft_to_received(app, client_as, api_as, w):
    """As users do it in the browser: the add form, the lines, the buttons and the ship and receive forms."""
    import html

    from .conftest import csrf_token, submit_form

    customer = client_as("acme.user")
    with app.app_context():
        acme = str(get_one(m.Organization, name="Acme Aqua").id)
    resp = submit_form(customer, "/customerordermodelview/add", {"customer_organization": acme,
                                                                  "order_date": "2026-12-03"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with app.app_context():
        order = str(db.session.execute(sa.select(m.CustomerOrder.id)).scalar_one())
    url = f"/customerordermodelview/show/{order}"
    page = html.unescape(customer.get(url).get_data(as_text=True))
    assert ">Submit order</button>" in page and "No lines yet" in page
    assert submit_form(customer, "/customerorderitemmodelview/add", {
        "customer_order": order, "part": w["CON-1"], "quantity": "5"}).status_code == 302

    def post(client, step, data):
        token = csrf_token(client.get(url).get_data(as_text=True))
        return html.unescape(client.post(f"/customerordermodelview/{step}/{order}", data={"csrf_token": token, **data},
                                         follow_redirects=True).get_data(as_text=True))

    page = post(customer, "submit", {})
    assert "Submitted." in page and "within the approval threshold" in page
    staff = client_as("oraseas.admin")
    page = html.unescape(staff.get(url).get_data(as_text=True))
    assert 'id="ship-form"' in page and f'name="ship_{w["CON-1"]}"' in page and "Central" in page
    page = post(staff, "ship", {"warehouse": w["Central"], f"ship_{w['CON-1']}": "7"})
    assert "Over-ship refused" in page and stock(app, "Central", "CON-1") == 85
    page = post(staff, "ship", {"warehouse": w["Central"], f"ship_{w['CON-1']}": "5"})
    assert "Shipped: the stock is in transit" in page and 'id="order-shipments"' in page
    page = html.unescape(customer.get(url).get_data(as_text=True))
    assert 'class="panel panel-default receive-form"' in page and "Acme Site" in page and "Central" not in page.split(
        'id="order-shipments"')[0].split('receive-form')[1]
    page = post(customer, "receive", {"warehouse": w["Acme Site"], f"received_{w['CON-1']}": "5",
                                      "shipment": _only_shipment(app)})
    assert "Received." in page and stock(app, "Acme Site", "CON-1") == 5
    history = page.split('id="order-history"')[1]
    assert all(step in history for step in ("submit", "ship", "receive", "shipped → received"))
    assert "Acme Tester (acme.user)" in history and "Oraseas Tester (oraseas.admin)" in history
    assert client_as("beta.admin").get(url).status_code == 404
    assert books_agree(app)


def _only_shipment(app) -> str:
    with app.app_context():
        return str(db.session.execute(sa.select(m.StockTransfer.id).where(
            m.StockTransfer.customer_order_id.is_not(None))).scalar_one())


def test_the_supplier_order_page_receives_into_stock(app, client_as, api_as, w):
    import html

    from .conftest import csrf_token

    order = supplier_order(app, api_as("oraseas.admin"), w, CON_1="20")
    staff = client_as("oraseas.admin")
    url = f"/supplierordermodelview/show/{order}"
    page = html.unescape(staff.get(url).get_data(as_text=True))
    assert "receive-form" in page and "from BossAqua" in page and f'name="received_{w["CON-1"]}"' in page
    page = html.unescape(staff.post(f"/supplierordermodelview/receive/{order}", data={
        "csrf_token": csrf_token(page), "warehouse": w["Central"], f"received_{w['CON-1']}": "12"},
        follow_redirects=True).get_data(as_text=True))
    assert "Received into stock." in page and "Partially received" in page
    assert stock(app, "Central", "CON-1") == 97 and books_agree(app)


# --- part usage per machine -------------------------------------------------------

def test_a_machines_usage_history_with_totals_per_part_on_its_page_and_the_api(app, api_as, client_as, w):
    import html

    with app.app_context():
        machine = str(get_one(m.Machine, serial_number="SN-ACME-1").id)
    user = api_as("acme.user")
    for when, quantity in (("2026-03-01", "2"), ("2026-05-01", "3"), ("2026-09-01", "1")):
        made = user.post("/api/v1/part_usage/", json={"warehouse": w["Acme Main"], "machine": machine,
                                                       "part": w["CON-1"], "quantity": quantity, "usage_date": when})
        assert made.status_code == 201, made.get_data(as_text=True)
    usage = user.get(f"/api/v1/machine/{machine}/usage").get_json()["result"]
    assert [(t["part_number"], t["quantity"], t["times"]) for t in usage["totals"]] == [("CON-1", "6.000", 3)]
    assert usage["last_used"].startswith("2026-09-01") and len(usage["records"]) == 3
    spring = user.get(f"/api/v1/machine/{machine}/usage?from=2026-04-01&to=2026-06-01").get_json()["result"]
    assert [t["quantity"] for t in spring["totals"]] == ["3.000"] and len(spring["records"]) == 1
    assert user.get(f"/api/v1/machine/{machine}/usage?from=yesterday").status_code == 400
    assert api_as("beta.admin").get(f"/api/v1/machine/{machine}/usage").status_code == 404
    page = html.unescape(client_as("acme.admin").get(f"/machinemodelview/show/{machine}").get_data(as_text=True))
    totals = page.split('id="machine-usage-totals"')[1].split("</table>")[0]
    assert "CON-1" in totals and "6 pieces" in totals and "2026-09-01" in totals and "last used 2026-09-01" in page


def test_oraseas_staff_filter_the_order_list_by_customer_status_and_date(app, api_as, client_as, w):
    import html

    approved_order(app, api_as, w)
    beta = new_order(app, api_as("beta.user"), w, customer="Beta Fish")
    with app.app_context():
        acme = str(get_one(m.Organization, name="Acme Aqua").id)
        beta_id = str(get_one(m.Organization, name="Beta Fish").id)
    staff = client_as("oraseas.admin")
    offered = staff.get("/customerordermodelview/choices/search/customer_organization?q=fish").get_json()
    assert [r["text"] for r in offered["results"]] == ["Beta Fish"]

    def listed(query):
        page = html.unescape(staff.get(f"/customerordermodelview/list/?{query}").get_data(as_text=True))
        return page.count("Acme Aqua</td>"), page.count("Beta Fish</td>")

    assert listed("") == (1, 1)
    assert listed(f"_flt_0_customer_organization={acme}") == (1, 0)
    assert listed(f"_flt_0_customer_organization={beta_id}") == (0, 1)
    assert listed("_flt_0_status=draft") == (0, 1)
    assert listed("_flt_1_order_date=2026-12-04") == (0, 0)  # after the orders' date
    csv = staff.get(f"/customerordermodelview/export/?_flt_0_customer_organization={beta_id}")
    assert csv.status_code == 200 and "Beta Fish" in csv.get_data(as_text=True) \
        and "Acme Aqua" not in csv.get_data(as_text=True)
    assert beta


def test_a_new_order_opens_its_page_and_a_line_added_there_returns_to_it(app, client_as, api_as, w):
    from .conftest import submit_form

    customer = client_as("acme.user")
    page = customer.get("/customerordermodelview/add").get_data(as_text=True)
    # a customer's user orders for its own organization: already chosen
    with app.app_context():
        acme = str(get_one(m.Organization, name="Acme Aqua").id)
    assert f'<option selected value="{acme}">Acme Aqua</option>' in page
    assert 'name="actual_delivery_date"' not in page  # set by the receipt
    added = submit_form(customer, "/customerordermodelview/add", {"customer_organization": acme,
                                                                   "order_date": "2026-12-03"})
    assert added.status_code == 302 and "/customerordermodelview/show/" in added.headers["Location"]
    order = added.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    shown = customer.get(f"/customerordermodelview/show/{order}").get_data(as_text=True)
    add_line = f"/customerorderitemmodelview/add?_flt_0_customer_order={order}"
    assert f'href="{add_line}"' in shown.replace("&amp;", "&")
    line = submit_form(customer, add_line, {"part": w["CON-1"], "quantity": "2"})
    assert line.status_code == 302 and line.headers["Location"].endswith(f"/customerordermodelview/show/{order}")
    assert "CON-1" in customer.get(f"/customerordermodelview/show/{order}").get_data(as_text=True)
    api_as("acme.user").post(f"{CO}{order}/submit")
    assert 'id="add-order-line"' not in customer.get(f"/customerordermodelview/show/{order}").get_data(as_text=True)


def test_an_organization_orders_only_from_its_own_suppliers(app, api_as):
    with app.app_context():
        ids = {name: str(get_one(m.Organization, name=name).id) for name in ("Acme Aqua", "Oraseas EE")}
    acme, staff = api_as("acme.admin"), api_as("oraseas.admin")
    own = acme.post(SO, json={"ordering_organization": ids["Acme Aqua"], "supplier_name": "acme supplies",
                              "order_date": "2026-12-01"})
    assert own.status_code == 201, own.get_data(as_text=True)
    assert acme.get(f"{SO}{own.get_json()['id']}").get_json()["result"]["supplier_name"] == "Acme Supplies"
    for api, orderer, supplier in ((acme, "Acme Aqua", "BossAqua"), (staff, "Oraseas EE", "Acme Supplies"),
                                   (staff, "Oraseas EE", "Nets Ltd")):
        refused = api.post(SO, json={"ordering_organization": ids[orderer], "supplier_name": supplier,
                                     "order_date": "2026-12-01"})
        assert refused.status_code == 422, (orderer, supplier)
        assert "Supplier order rule" in refused.get_json()["message"] and f"'{supplier}'" in refused.get_json()["message"]
    assert staff.post(SO, json={"ordering_organization": ids["Oraseas EE"], "supplier_name": "BossAqua",
                                "order_date": "2026-12-01"}).status_code == 201


@pytest.mark.parametrize("path, body", [
    ("customer_order/{order}/ship", {"warehouse": "x", "lines": "all"}),
    ("customer_order/{order}/ship", {"warehouse": None, "lines": [{"part": None, "quantity": [1]}]}),
    ("customer_order/{order}/ship", ["not", "an", "object"]),
    ("customer_order/{order}/receive", {"warehouse": 7, "lines": [{"part": "p", "received_quantity": True}]}),
    ("customer_order/{order}/receive", "[1, 2"),
    ("customer_order/{order}/submit", {"unexpected": 1}),
    ("customer_order/not-an-id/ship", {}),
])
def test_hostile_order_bodies_get_a_clear_4xx_never_a_500(app, api_as, w, path, body):
    order = approved_order(app, api_as, w)
    api = api_as("oraseas.admin")
    url = f"/api/v1/{path.format(order=order)}"
    if isinstance(body, str):
        resp = api.post(url, data=body, headers={"Content-Type": "application/json"})
    else:
        resp = api.post(url, json=body)
    assert 400 <= resp.status_code < 500 and resp.is_json, (resp.status_code, resp.get_data(as_text=True))
    assert stock(app, "Central", "CON-1") == 85
