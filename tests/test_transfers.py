"""Two-sided stock transfers through the REST API (issue 8).

Each test acts as the users who take the steps (JWT logins of the base data:
Oraseas EE ships from Central; Acme Aqua and Beta Fish are customers) and
checks what they would see: the answer, the document's state, the balances,
and that the books still agree (``verify-ledger``).
"""
from __future__ import annotations

import decimal
import json
import random
import threading

import pytest
import sqlalchemy as sa

from app import models as m
from app.extensions import db
from app.ledger_check import verify_balances

from .conftest import get_one

D = decimal.Decimal
API = "/api/v1/stock_transfer/"


def stock(app, warehouse: str, part: str) -> D:
    """Stock on hand of ``part`` (number) in ``warehouse`` (name); 0 without a record."""
    with app.app_context():
        value = db.session.execute(sa.select(m.Inventory.current_stock).join(m.Warehouse).join(m.Part).where(
            m.Warehouse.name == warehouse, m.Part.part_number == part)).scalar_one_or_none()
        db.session.remove()
    return D(value or 0)


def in_transit(app, organization: str, part: str) -> D:
    """The organization's stock of ``part`` in transit (its transit location's balance)."""
    with app.app_context():
        value = db.session.execute(sa.select(m.Inventory.current_stock).join(m.Warehouse).join(m.Part).join(
            m.Organization, m.Organization.id == m.Warehouse.organization_id).where(
            m.Organization.name == organization, m.Warehouse.is_transit.is_(True),
            m.Part.part_number == part)).scalar_one_or_none()
        db.session.remove()
    return D(value or 0)


def books_agree(app) -> bool:
    with app.app_context():
        ok = verify_balances(db.session) == []
        db.session.remove()
    return ok


def ledger_rows(app) -> int:
    with app.app_context():
        n = db.session.execute(sa.select(sa.func.count()).select_from(m.Transaction)).scalar_one()
        db.session.remove()
    return n


def create(api, w, source="Central", dest="Acme Main", lines=(("CON-1", "4"),), headers=None, **extra):
    return api.post(API, headers=headers or {}, json={
        "from_warehouse": w[source], "to_warehouse": w[dest],
        "lines": [{"part": w[p], "quantity": q} for p, q in lines], **extra})


def receipt(w, **quantities):
    return {"lines": [{"part": w[p.replace("_", "-")], "received_quantity": q} for p, q in quantities.items()]}


def test_a_shipment_goes_out_into_transit_and_in_on_receipt_with_a_discrepancy_resolved(app, api_as, w):
    oraseas, acme = api_as("oraseas.admin"), api_as("acme.user")
    resp = create(oraseas, w, lines=[("CON-1", "4"), ("BULK-1", "2.5")], notes="Spring service kit")
    assert resp.status_code == 201, resp.get_json()
    doc = resp.get_json()["result"]
    tid = doc["id"]
    assert doc["status"] == "draft" and doc["actions"] == ["dispatch", "cancel"]
    assert [(ln["part_number"], ln["quantity"]) for ln in doc["lines"]] == [("CON-1", "4.000"), ("BULK-1", "2.500")]
    assert stock(app, "Central", "CON-1") == 85  # a draft posts nothing

    resp = oraseas.post(f"{API}{tid}/dispatch")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["result"]["status"] == "dispatched"
    assert stock(app, "Central", "CON-1") == 81 and stock(app, "Central", "BULK-1") == D("47.5")
    assert in_transit(app, "Oraseas EE", "CON-1") == 4 and in_transit(app, "Oraseas EE", "BULK-1") == D("2.5")
    assert stock(app, "Acme Main", "CON-1") == 10  # in transit is nobody's stock on hand

    seen = acme.get(f"{API}{tid}").get_json()["result"]
    assert seen["from_warehouse"] == "Central (Oraseas EE)" and seen["actions"] == ["receive"]
    resp = acme.post(f"{API}{tid}/receive", json=receipt(w, CON_1="4", BULK_1="2"))
    assert resp.status_code == 200, resp.get_json()
    doc = resp.get_json()["result"]
    assert doc["status"] == "received_with_discrepancy"
    bulk = next(ln for ln in doc["lines"] if ln["part_number"] == "BULK-1")
    assert (bulk["received"], bulk["in_transit"]) == ("2.000", "0.500")
    assert stock(app, "Acme Main", "CON-1") == 14 and stock(app, "Acme Main", "BULK-1") == 2
    assert in_transit(app, "Oraseas EE", "CON-1") == 0 and in_transit(app, "Oraseas EE", "BULK-1") == D("0.5")

    # The customer may not settle it; an Oraseas admin writes it off, pending approval.
    assert acme.post(f"{API}{tid}/resolve", json={"line": w["BULK-1"], "action": "write_off"}).status_code == 403
    resp = oraseas.post(f"{API}{tid}/resolve", json={"line": w["BULK-1"], "action": "write_off", "notes": "leaked"})
    assert resp.status_code == 200, resp.get_json()
    bulk = next(ln for ln in resp.get_json()["result"]["lines"] if ln["part_number"] == "BULK-1")
    assert (bulk["pending_write_off"], bulk["in_transit"]) == ("0.500", "0.500")
    again = oraseas.post(f"{API}{tid}/resolve", json={"line": w["BULK-1"], "action": "return"})
    assert again.status_code == 409 and "Nothing is left to resolve" in again.get_json()["message"]
    with app.app_context():
        write_off = get_one(m.Transaction, stock_transfer_id=m.parse_uuid(tid),
                            transaction_type=m.TransactionType.adjustment).id
        db.session.remove()
    # The performer may not approve its own write-off; another Oraseas admin (super admin) does.
    assert oraseas.post(f"/api/v1/transaction_approval/{write_off}/approve").status_code == 403
    assert api_as("superadmin").post(f"/api/v1/transaction_approval/{write_off}/approve").status_code == 201
    assert in_transit(app, "Oraseas EE", "BULK-1") == 0
    final = acme.get(f"{API}{tid}").get_json()["result"]
    bulk = next(ln for ln in final["lines"] if ln["part_number"] == "BULK-1")
    assert (bulk["written_off"], bulk["in_transit"]) == ("0.500", "0.000")
    assert books_agree(app)


def test_a_shortage_returned_goes_back_to_the_source_warehouse(app, api_as, w):
    oraseas = api_as("oraseas.admin")
    tid = create(oraseas, w, lines=[("CON-1", "6")]).get_json()["id"]
    oraseas.post(f"{API}{tid}/dispatch")
    assert api_as("acme.admin").post(f"{API}{tid}/receive", json=receipt(w, CON_1="5")).status_code == 200
    resp = oraseas.post(f"{API}{tid}/resolve", json={"line": w["CON-1"], "action": "return"})
    assert resp.status_code == 200, resp.get_json()
    assert stock(app, "Central", "CON-1") == 85 - 6 + 1 and stock(app, "Acme Main", "CON-1") == 15
    assert in_transit(app, "Oraseas EE", "CON-1") == 0 and books_agree(app)


@pytest.mark.parametrize("first, step, body, message", [
    ("dispatch", "dispatch", None, "it is dispatched"),
    (None, "receive", "full", "it is draft"),
    ("dispatch", "cancel", None, "it is dispatched"),
    (None, "resolve", "resolve", "it is draft"),
])
def test_a_step_the_state_does_not_allow_answers_409_naming_state_and_step(app, api_as, w, first, step, body,
                                                                        message):
    api = api_as("superadmin")
    tid = create(api, w).get_json()["id"]
    if first:
        assert api.post(f"{API}{tid}/{first}").status_code == 200
    rows = ledger_rows(app)
    json = {"full": receipt(w, CON_1="4"), "resolve": {"line": w["CON-1"], "action": "return"}}.get(body)
    resp = api.post(f"{API}{tid}/{step}", json=json)
    assert resp.status_code == 409, resp.get_json()
    assert message in resp.get_json()["message"] and f"Cannot {step}" in resp.get_json()["message"]
    assert ledger_rows(app) == rows


def test_each_side_takes_only_its_own_steps_and_other_organizations_see_nothing(app, api_as, w):
    acme_user, oraseas = api_as("acme.user"), api_as("oraseas.admin")
    # A customer returns parts to Oraseas EE: Acme dispatches, Oraseas EE receives.
    resp = create(acme_user, w, source="Acme Main", dest="Central", lines=[("CON-1", "2")])
    assert resp.status_code == 201, resp.get_json()
    tid = resp.get_json()["id"]
    for outsider in ("beta.admin", "beta.user"):
        other = api_as(outsider)
        assert other.get(f"{API}{tid}").status_code == 404
        assert other.post(f"{API}{tid}/dispatch").status_code == 404
        assert tid not in {row["id"] for row in other.get(API).get_json()["result"]}
    assert acme_user.post(f"{API}{tid}/dispatch").status_code == 200
    refused = acme_user.post(f"{API}{tid}/receive", json=receipt(w, CON_1="2"))
    assert refused.status_code == 403 and "receiving organization" in refused.get_json()["message"]
    assert api_as("auditor").post(f"{API}{tid}/receive", json=receipt(w, CON_1="2")).status_code == 403
    assert oraseas.post(f"{API}{tid}/receive", json=receipt(w, CON_1="2")).get_json()["result"]["status"] == "received"
    assert stock(app, "Acme Main", "CON-1") == 8 and stock(app, "Central", "CON-1") == 87
    assert tid in {row["id"] for row in oraseas.get(API).get_json()["result"]}


def test_a_customer_cannot_send_from_or_to_another_customers_warehouses(app, api_as, w):
    acme = api_as("acme.admin")
    assert create(acme, w, source="Acme Main", dest="Beta Main").status_code == 404
    assert create(acme, w, source="Beta Main", dest="Acme Main").status_code in (403, 422)
    assert create(acme, w, source="Central", dest="Acme Main").status_code in (403, 422)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(m.StockTransfer)).scalar_one() == 2
        db.session.remove()


@pytest.mark.parametrize("quantities, message", [
    ({"CON_1": "5"}, "Over-receipt refused"),
    ({"CON_1": "-1"}, "greater than zero"),
    ({"CON_1": "1.5"}, "whole number"),
    ({}, "CON-1 is missing"),
])
def test_a_wrong_receipt_is_refused_with_the_rule_and_posts_nothing(app, api_as, w, quantities, message):
    api = api_as("oraseas.admin")
    tid = create(api, w).get_json()["id"]
    api.post(f"{API}{tid}/dispatch")
    rows = ledger_rows(app)
    resp = api_as("acme.user").post(f"{API}{tid}/receive", json=receipt(w, **quantities))
    assert resp.status_code == 422 and message in resp.get_json()["message"], resp.get_json()
    assert ledger_rows(app) == rows
    assert api.get(f"{API}{tid}").get_json()["result"]["status"] == "dispatched"


def test_a_draft_with_bad_lines_is_refused_and_nothing_is_created(app, api_as, w):
    api = api_as("oraseas.admin")
    for lines, message in [([], "at least one line"), ([("CON-1", "2"), ("CON-1", "1")], "each part once"),
                           ([("CON-1", "0.5")], "whole number"), ([("BULK-1", "1.0005")], "3 decimal places")]:
        resp = create(api, w, lines=lines)
        assert resp.status_code == 422 and message in resp.get_json()["message"], (lines, resp.get_json())
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(m.StockTransfer)).scalar_one() == 2
        db.session.remove()


def test_dispatch_without_enough_stock_names_the_part(app, api_as, w):
    api = api_as("oraseas.admin")
    tid = create(api, w, lines=[("CON-1", "86")]).get_json()["id"]
    resp = api.post(f"{API}{tid}/dispatch")
    assert resp.status_code == 422 and "CON-1" in resp.get_json()["message"]
    assert api.get(f"{API}{tid}").get_json()["result"]["status"] == "draft"


def test_within_one_organization_a_transfer_may_be_done_in_one_step_between_never(app, api_as, w):
    acme = api_as("acme.user")
    resp = create(acme, w, source="Acme Main", dest="Acme Site", lines=[("CON-1", "3")], in_one_step=True)
    assert resp.status_code == 201 and resp.get_json()["result"]["status"] == "received"
    assert stock(app, "Acme Main", "CON-1") == 7 and stock(app, "Acme Site", "CON-1") == 3
    oraseas = api_as("oraseas.admin")
    resp = create(oraseas, w, dest="Acme Main", in_one_step=True)
    assert resp.status_code == 422 and "dispatch and receipt" in resp.get_json()["message"]
    # ... and not as a bare ledger transfer either: the customer's warehouse is no destination
    # of a ledger row (the rule says why when the user does see both warehouses).
    resp = oraseas.post("/api/v1/transaction/", json={
        "transaction_type": "transfer", "part": w["CON-1"], "quantity": "1",
        "from_warehouse": w["Central"], "to_warehouse": w["Acme Main"]})
    assert resp.status_code == 422 and "to_warehouse" in resp.get_json()["message"]
    resp = api_as("superadmin").post("/api/v1/transaction/", json={
        "transaction_type": "transfer", "part": w["CON-1"], "quantity": "1",
        "from_warehouse": w["Central"], "to_warehouse": w["Acme Main"]})
    assert resp.status_code == 422 and "dispatch and receipt" in resp.get_json()["message"]
    assert stock(app, "Central", "CON-1") == 85 and books_agree(app)


def test_a_repeated_idempotency_key_posts_once_and_answers_the_same(app, api_as, w):
    api = api_as("oraseas.admin")
    key = {"Idempotency-Key": "ship-acme-0001"}
    first = create(api, w, headers=key)
    second = create(api, w, headers=key)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    tid = first.get_json()["id"]
    go = {"Idempotency-Key": "dispatch-0001"}
    answers = [api.post(f"{API}{tid}/dispatch", headers=go) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200] and answers[0].get_json() == answers[1].get_json()
    assert stock(app, "Central", "CON-1") == 81  # dispatched once
    reused = create(api, w, lines=[("CON-1", "9")], headers=key)
    assert reused.status_code == 422 and "different request" in reused.get_json()["message"]
    # A plain ledger POST too: one row for two calls.
    rows = ledger_rows(app)
    body = {"transaction_type": "creation", "part": w["CON-1"], "quantity": "5", "to_warehouse": w["Central"]}
    answers = [api.post("/api/v1/transaction/", json=body, headers={"Idempotency-Key": "grn-77"}) for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201] and answers[0].get_json() == answers[1].get_json()
    assert ledger_rows(app) == rows + 1
    # Another user's identical key is its own.
    assert create(api_as("superadmin"), w, headers=key).get_json()["id"] != tid


def test_reverse_and_approve_are_rest_actions_that_run_once(app, api_as, w):
    api = api_as("oraseas.admin")
    created = api.post("/api/v1/transaction/", json={
        "transaction_type": "creation", "part": w["CON-1"], "quantity": "5", "to_warehouse": w["Central"]})
    tid = created.get_json()["id"]
    first = api.post(f"/api/v1/transaction/{tid}/reverse")
    assert first.status_code == 201 and first.get_json()["result"]["reversal_of_id"] == tid
    second = api.post(f"/api/v1/transaction/{tid}/reverse")
    assert second.status_code == 409 and "already been reversed" in second.get_json()["message"]
    assert api_as("beta.admin").post(f"/api/v1/transaction/{tid}/reverse").status_code == 404
    assert stock(app, "Central", "CON-1") == 85

    pending = api.post("/api/v1/transaction/", json={
        "transaction_type": "creation", "part": w["CON-1"], "quantity": "7", "to_warehouse": w["Central"],
        "requires_approval": True}).get_json()["id"]
    # Cross-organization approval (a defect of issue 8): a customer admin never decides on Oraseas stock.
    acme = api_as("acme.admin").post(f"/api/v1/transaction_approval/{pending}/approve")
    assert acme.status_code in (403, 404)
    assert api.post(f"/api/v1/transaction_approval/{pending}/approve").status_code == 403  # its performer
    assert stock(app, "Central", "CON-1") == 85
    ok = api_as("superadmin").post(f"/api/v1/transaction_approval/{pending}/reject", json={"notes": "no GRN"})
    assert ok.status_code == 201 and ok.get_json()["result"]["status"] == "rejected"
    assert api_as("superadmin").post(f"/api/v1/transaction_approval/{pending}/approve").status_code == 409
    assert stock(app, "Central", "CON-1") == 85 and books_agree(app)


def test_the_openapi_document_describes_every_workflow_action(app, api_as):
    spec = api_as("superadmin").get("/api/v1/_openapi").get_json()
    paths = spec["paths"]
    for path in ("stock_transfer/{pk}/dispatch", "stock_transfer/{pk}/receive", "stock_transfer/{pk}/cancel",
                 "stock_transfer/{pk}/resolve", "transaction/{pk}/reverse",
                 "transaction_approval/{pk}/approve", "transaction_approval/{pk}/reject"):
        operation = paths[f"/api/v1/{path}"]["post"]
        assert {"403", "404", "409", "422"} <= set(operation["responses"]), path
    assert "requestBody" in paths["/api/v1/stock_transfer/{pk}/receive"]["post"]
    assert "lines" in json.dumps(paths["/api/v1/stock_transfer/"]["post"]["requestBody"])


def race(clients, url, json=None) -> list[int]:
    """POST ``url`` from every client at once (a thread each, released together); the statuses."""
    barrier, answers = threading.Barrier(len(clients)), [None] * len(clients)

    def go(i):
        barrier.wait(timeout=20)
        answers[i] = clients[i].post(url, json=json).status_code

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(clients))]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    return sorted(answers)


@pytest.mark.postgres
def test_simultaneous_double_dispatch_and_double_receipt_post_once(app, api_as, w, engine_name):
    if engine_name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises every writer")
    api = api_as("oraseas.admin")
    tid = create(api, w).get_json()["id"]
    assert race([api_as("oraseas.admin"), api_as("superadmin")], f"{API}{tid}/dispatch") == [200, 409]
    assert stock(app, "Central", "CON-1") == 81 and in_transit(app, "Oraseas EE", "CON-1") == 4
    receivers = [api_as("acme.user"), api_as("acme.admin"), api_as("acme.user")]
    assert race(receivers, f"{API}{tid}/receive", receipt(w, CON_1="4")) == [200, 409, 409]
    assert stock(app, "Acme Main", "CON-1") == 14 and in_transit(app, "Oraseas EE", "CON-1") == 0
    assert books_agree(app)


def test_a_transit_location_is_no_warehouse_to_manage(app, api_as, client_as, w):
    with app.app_context():
        transit = get_one(m.Warehouse, is_transit=True)
        tid = str(transit.id)
        db.session.remove()
    api = api_as("superadmin")
    assert api.get(f"/api/v1/warehouse/{tid}").status_code == 404
    assert tid not in api.get("/api/v1/warehouse/?q=(page_size:100)").get_data(as_text=True)
    assert api.put(f"/api/v1/warehouse/{tid}", json={"name": "Mine now"}).status_code == 404
    with app.app_context():
        from app.errors import DomainError
        from app.scoping import acting_as

        with acting_as(get_one(m.PortalUser, username="superadmin")):
            transit = db.session.get(m.Warehouse, m.parse_uuid(tid))
            transit.name = "Renamed"
            with pytest.raises(DomainError, match="transit location"):
                db.session.flush()
            db.session.rollback()
        # Nor is a transit location posted into directly (a creation into it).
        with pytest.raises(DomainError, match="Stock in transit moves only"):
            db.session.add(m.Transaction(transaction_type=m.TransactionType.creation, part_id=m.parse_uuid(w["CON-1"]),
                                         quantity=D(1), to_warehouse_id=m.parse_uuid(tid),
                                         performed_by_user_id=get_one(m.PortalUser, username="superadmin").id))
            db.session.flush()
        db.session.rollback()
        db.session.remove()


def test_random_transfers_with_shortages_returns_and_write_offs_keep_the_books(app, w):
    """A randomized sequence (fixed seeds) of creates, dispatches, receipts, returns,
    write-offs and approvals: every balance equals its ledger sum, and every
    transfer's in-transit figure adds up to the transit locations' balances."""
    from app.errors import DomainError
    from app.scoping import acting_as
    from app.workflows import transfers as tw
    from app.workflows.ledger import decide_transaction

    rng = random.Random(8)
    with app.app_context():
        users = {name: get_one(m.PortalUser, username=name)
                 for name in ("oraseas.admin", "superadmin", "acme.user", "acme.admin")}
        routes = [("oraseas.admin", "Central", "Acme Main"), ("acme.user", "Acme Main", "Central"),
                  ("acme.user", "Acme Main", "Acme Site"), ("oraseas.admin", "Central", "Beta Main")]
        refused = 0
        for _ in range(25):
            sender, source, dest = rng.choice(routes)
            parts = rng.sample(["CON-1", "BULK-1"], rng.randint(1, 2))
            lines = [(w[p], D(rng.randint(1, 6)) if p == "CON-1" else D(rng.randint(1, 3000)) / 1000)
                     for p in parts]
            try:
                with acting_as(users[sender]):
                    t = tw.create_transfer(w[source], w[dest], lines)
                    if rng.random() < 0.15:
                        tw.cancel_transfer(t.id)
                        continue
                    tw.dispatch_transfer(t.id)
                with acting_as(users["superadmin"]):
                    got = {ln.part_id: (ln.quantity if rng.random() < 0.5
                                        else (ln.quantity - (1 if ln.part.is_whole_units else D("0.25"))).max(D(0)))
                           for ln in t.lines}
                    t = tw.receive_transfer(t.id, got)
                    for ln in t.lines:
                        if tw.line_figures(db.session, t)[ln.part_id].open_discrepancy > 0:
                            action = rng.choice(["return", "write_off"])
                            txn = tw.resolve_discrepancy(t.id, ln.part_id, action)
                            if action == "write_off" and rng.random() < 0.7:
                                decide_transaction(txn.id, rng.choice(list(m.ApprovalStatus)[1:]))
            except DomainError:
                refused += 1  # e.g. not enough stock: refused whole, nothing written
        assert verify_balances(db.session) == []
        transfers = db.session.execute(sa.select(m.StockTransfer)).scalars().all()
        total = D(0)
        for t in transfers:
            total += sum((f.in_transit for f in tw.line_figures(db.session, t).values()), D(0))
            assert all(f.in_transit >= 0 for f in tw.line_figures(db.session, t).values())
        transit = db.session.execute(sa.select(sa.func.coalesce(sa.func.sum(m.Inventory.current_stock), 0)).join(
            m.Warehouse).where(m.Warehouse.is_transit.is_(True))).scalar_one()
        assert total == D(transit)
        assert refused < 25
        db.session.remove()



def test_the_screens_take_a_transfer_from_draft_to_received(app, client_as, w):
    """As users do it in the browser: the multi-line form, the document's buttons, the receipt form."""
    from .conftest import csrf_token

    oraseas = client_as("oraseas.admin")
    page = oraseas.get("/stocktransfermodelview/add").get_data(as_text=True)
    assert "Central" in page and "Beta Main" not in page  # destinations are looked up as one types
    found = oraseas.get("/stocktransfermodelview/destinations?q=acme").get_json()["results"]
    assert {r["text"] for r in found} == {"Acme Main (Acme Aqua)", "Acme Site (Acme Aqua)"}
    parts = oraseas.get("/stocktransfermodelview/parts?q=bulk").get_json()["results"]
    assert [r["text"] for r in parts] == ["BULK-1 Part BULK-1 (litres)"]
    token = csrf_token(page)
    refused = oraseas.post("/stocktransfermodelview/add", data={
        "csrf_token": token, "from_warehouse": w["Central"], "to_warehouse": w["Acme Main"],
        "part": [w["CON-1"]], "quantity": ["1.5"]}, follow_redirects=True).get_data(as_text=True)
    assert "whole number" in refused and 'value="1.5"' in refused  # the rule, and the input kept
    resp = oraseas.post("/stocktransfermodelview/add", data={
        "csrf_token": token, "from_warehouse": w["Central"], "to_warehouse": w["Acme Main"],
        "part": [w["CON-1"], w["BULK-1"], ""], "quantity": ["3", "1.25", ""], "notes": "Kit"})
    assert resp.status_code == 302
    show_url = resp.headers["Location"]
    page = oraseas.get(show_url).get_data(as_text=True)
    assert "draft" in page and ">Dispatch<" in page and "Central (Oraseas EE)" in page
    tid = show_url.rstrip("/").rsplit("/", 1)[-1]
    page = oraseas.post(f"/stocktransfermodelview/dispatch/{tid}", data={"csrf_token": csrf_token(page)},
                        follow_redirects=True).get_data(as_text=True)
    assert "Dispatched: the stock is in transit." in page and ">Dispatch<" not in page

    acme = client_as("acme.user")
    page = acme.get(show_url).get_data(as_text=True)
    assert "Receive" in page and f'name="received_{w["CON-1"]}"' in page
    page = acme.post(f"/stocktransfermodelview/receive/{tid}", data={
        "csrf_token": csrf_token(page), f"received_{w['CON-1']}": "3", f"received_{w['BULK-1']}": "1"},
        follow_redirects=True).get_data(as_text=True)
    assert "received with discrepancy" in page
    assert stock(app, "Acme Main", "CON-1") == 13 and stock(app, "Acme Main", "BULK-1") == 1
    assert acme.get("/stocktransfermodelview/list/").status_code == 200
    assert client_as("beta.admin").get(show_url).status_code == 404
    in_transit_page = oraseas.get("/intransitview/list/").get_data(as_text=True)
    assert "BULK-1" in in_transit_page
    # Both parties read the receipt's warehouses by name in the ledger, though neither sees the
    # other's warehouse rows: the sender its customer's store, the receiver where it came from.
    ledger = oraseas.get("/transactionmodelview/list/?q=receipt")
    assert "Acme Main (Acme Aqua)" in ledger.get_data(as_text=True)
    assert "In transit (Oraseas EE)" in client_as("acme.admin").get(
        "/transactionmodelview/list/?q=receipt").get_data(as_text=True)
    assert stock(app, "Central", "CON-1") == 82 and books_agree(app)


@pytest.mark.parametrize("step, body", [
    ("receive", {"lines": "all of it"}),
    ("receive", {"lines": [{"part": "not-a-uuid", "received_quantity": "1"}]}),
    ("receive", {"lines": [{"part": None, "received_quantity": [1]}]}),
    ("receive", ["not", "an", "object"]),
    ("resolve", {"line": 7, "action": "burn"}),
    ("dispatch", "[1, 2"),
])
def test_hostile_bodies_get_a_clear_4xx_never_a_500(app, api_as, w, step, body):
    api = api_as("superadmin")
    tid = create(api, w).get_json()["id"]
    if step != "dispatch":
        api.post(f"{API}{tid}/dispatch")
    rows = ledger_rows(app)
    if isinstance(body, str):  # not JSON at all
        resp = api.post(f"{API}{tid}/{step}", data=body, headers={"Content-Type": "application/json"})
    else:
        resp = api.post(f"{API}{tid}/{step}", json=body)
    assert 400 <= resp.status_code < 500 and resp.get_json()["message"], resp.get_data(as_text=True)
    assert ledger_rows(app) == rows
    assert api.post(f"{API}not-a-uuid/dispatch").status_code == 404
    assert api.post(f"{API}{'0' * 32}/dispatch").status_code == 404


def test_a_ledger_transfer_within_the_organization_answers_with_both_warehouses(app, api_as, w):
    """A defect of issue 8: the POST answer showed ``to_warehouse`` as null."""
    resp = api_as("acme.admin").post("/api/v1/transaction/", json={
        "transaction_type": "transfer", "part": w["CON-1"], "quantity": "2",
        "from_warehouse": w["Acme Main"], "to_warehouse": w["Acme Site"]})
    assert resp.status_code == 201, resp.get_json()
    result = resp.get_json()["result"]
    assert (result["from_warehouse"], result["to_warehouse"]) == (w["Acme Main"], w["Acme Site"])
    assert stock(app, "Acme Site", "CON-1") == 2
