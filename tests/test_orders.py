"""Orders: customer orders are placed by a customer organization and always addressed to
Oraseas EE; the lines of every order follow the ledger's unit rules."""
import decimal
import html
import re
import uuid

import pytest
import sqlalchemy as sa

from app import models as m

from .conftest import choices, csrf_token, get_one, submit_form
from .test_scoping import api_values

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
                     fields=lambda ids: {"ordering_organization": ids["oraseas"], "supplier_name": "BossAqua",
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

    def line(part, quantity):
        resp = submit_form(c, f"/{spec['view']}/add", {
            spec["order"]: order, "part": ids[part], "quantity": quantity, "unit_price": ""},
            follow_redirects=True)
        return html.unescape(resp.get_data(as_text=True))

    assert WHOLE_UNITS in line("con", "2.5")
    assert THREE_PLACES in line("bulk", "1.0005")
    assert _lines(app, spec["model"]) == []
    assert "Added Row" in line("bulk", "2.5")
    assert _lines(app, spec["model"]) == [("BULK-1", D("2.5"), D("4.50"))]


# --- who is named and offered: Oraseas EE's staff and the customer -------------------

def _cells(page: str) -> list[list[str]]:
    """The text cells of each row of a rendered list, tags stripped."""
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S)
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in rows]


def _shown(page: str, label: str) -> str:
    """The value a show page gives for ``label``."""
    match = re.search(rf"<th[^>]*>{label}</th>\s*<td>(.*?)</td>", page, re.S)
    assert match, f"no {label} on the page"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


def _order_form(client, customer: str, **kwargs):
    """Submit the customer order add form: ``customer`` (an organization id), on 2026-12-03, Requested."""
    return submit_form(client, "/customerordermodelview/add", {
        "customer_organization": customer, "order_date": "2026-12-03", "status": "Requested"}, **kwargs)


def _acme_order(app, api_as, order_date="2026-12-03") -> str:
    """A requested order of Acme Aqua: one line worth 12,000 (above the approval threshold), submitted."""
    ids, api = _ids(app), api_as("acme.admin")
    resp = api.post("/api/v1/customer_order/", json={
        "customer_organization": ids["acme"], "order_date": order_date, "status": "Requested"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    order = resp.get_json()["id"]
    line = api.post("/api/v1/customer_order_item/", json={
        "customer_order": order, "part": ids["con"], "quantity": "2", "unit_price": "6000"})
    assert line.status_code == 201, line.get_data(as_text=True)
    submitted = api.post(f"/api/v1/customer_order/{order}/submit")
    assert submitted.get_json()["result"]["status"] == "requested", submitted.get_data(as_text=True)
    return order


def test_oraseas_staff_see_the_customer_of_every_order_they_receive(app, api_as, client_as):
    order = _acme_order(app, api_as)
    c = client_as("oraseas.admin")
    listed = c.get("/customerordermodelview/list/").get_data(as_text=True)
    row = next(cells for cells in _cells(listed) if "2026-12-03 00:00 UTC" in cells)
    assert row[row.index("2026-12-03 00:00 UTC") + 1] == "Acme Aqua"  # the Customer column, not None
    shown = c.get(f"/customerordermodelview/show/{order}").get_data(as_text=True)
    assert _shown(shown, "Customer") == "Acme Aqua"
    assert _shown(shown, "Supplied by") == "Oraseas EE"
    # The customer sees whom it ordered from, though Oraseas EE is not in its scope.
    assert _shown(client_as("acme.admin").get(f"/customerordermodelview/show/{order}").get_data(as_text=True),
                  "Supplied by") == "Oraseas EE"
    # The order's lines name it too.
    lines = c.get("/customerorderitemmodelview/list/").get_data(as_text=True)
    assert "Acme Aqua 2026-12-03 (Requested)" in html.unescape(lines)
    # Only the name: Acme Aqua itself stays out of Oraseas EE's scope.
    orgs = api_as("oraseas.admin").get("/api/v1/organization/").get_json()["result"]
    assert "Acme Aqua" not in {o["name"] for o in orgs}


def test_the_customer_dropdown_offers_customers_only_and_a_customer_only_itself(app, client_as, api_as):
    for user, offered in [("oraseas.admin", {"Acme Aqua", "Beta Fish"}), ("superadmin", {"Acme Aqua", "Beta Fish"}),
                          ("acme.admin", {"Acme Aqua"})]:
        c = client_as(user)
        # No supplier (Acme Supplies), no Oraseas EE or BossAqua; looked up as one types.
        for kind in ("add", "edit"):
            assert set(choices(c, "customerordermodelview", kind, "customer_organization")) == offered, user
        assert "Beta Fish" not in c.get("/customerordermodelview/add").get_data(as_text=True)
        info = api_as(user).get("/api/v1/customer_order/_info").get_json()
        assert api_values(info, "add_columns", "customer_organization") == offered, user


def test_oraseas_staff_place_an_order_on_behalf_of_a_customer(app, client_as, api_as):
    ids = _ids(app)
    c = client_as("oraseas.admin")
    resp = _order_form(c, ids["beta"], follow_redirects=True)
    assert "Added Row" in resp.get_data(as_text=True)
    resp = api_as("oraseas.admin").post("/api/v1/customer_order/", json={
        "customer_organization": ids["acme"], "order_date": "2026-12-04", "status": "Requested"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    with app.app_context():
        orders = sa.select(m.CustomerOrder).order_by(m.CustomerOrder.order_date)
        from app.extensions import db
        assert [(str(o.customer_organization_id), str(o.oraseas_organization_id))
                for o in db.session.execute(orders).scalars()] == [(ids["beta"], ids["oraseas"]),
                                                                  (ids["acme"], ids["oraseas"])]
    # A supplier is no customer, whatever the form or payload says.
    with app.app_context():
        supplier = str(get_one(m.Organization, name="Acme Supplies").id)
    refused = api_as("oraseas.admin").post("/api/v1/customer_order/", json={
        "customer_organization": supplier, "order_date": "2026-12-05", "status": "Requested"})
    assert refused.status_code == 422
    forged = _order_form(c, supplier)
    assert forged.status_code == 200 and "Not a valid choice" in forged.get_data(as_text=True)  # not offered
    assert api_as("superadmin").get("/api/v1/customer_order/").get_json()["count"] == 2


def test_the_edit_form_keeps_the_orders_customer_for_oraseas_staff(app, client_as):
    ids = _ids(app)
    c = client_as("oraseas.admin")
    _order_form(c, ids["beta"])
    with app.app_context():
        order = str(get_one(m.CustomerOrder, customer_organization_id=uuid.UUID(ids["beta"])).id)
    edit = c.get(f"/customerordermodelview/edit/{order}").get_data(as_text=True)
    # Beta Fish is selected, not the first choice (Acme Aqua) a browser would fall back to.
    assert re.search(rf'<option selected value="{ids["beta"]}">Beta Fish</option>', edit)


def test_a_customer_cannot_order_for_another_customer_on_the_form(app, client_as):
    ids = _ids(app)
    resp = _order_form(client_as("acme.admin"), ids["beta"])
    assert resp.status_code == 200 and "Not a valid choice" in resp.get_data(as_text=True)  # not offered
    with app.app_context():
        from app.extensions import db
        assert db.session.execute(sa.select(sa.func.count()).select_from(m.CustomerOrder)).scalar_one() == 0


# --- the status: a state of the order's workflow, not free text (issues 8 and 10) -----

STATUS_RULE = "Order status rule"
#: Per kind of order: its initial state and its API resource.
INITIAL = {"customer": "draft", "supplier": "ordered"}
SCREEN = {"customer": "customerordermodelview", "supplier": "supplierordermodelview"}


def _status(api, kind, order) -> str:
    return api.get(f"/api/v1/{ORDERS[kind]['order']}/{order}").get_json()["result"]["status"]


@pytest.mark.parametrize("kind", list(ORDERS))
def test_a_new_order_starts_in_its_initial_state_whatever_it_was_given(app, api_as, client_as, kind):
    ids, spec = _ids(app), ORDERS[kind]
    api = api_as(spec["user"])
    for given in ("received", "Teleported"):
        resp = api.post(f"/api/v1/{spec['order']}/", json={
            **spec["fields"](ids), "status": given, "order_date": "2026-12-03"})
        assert resp.status_code == 201, resp.get_data(as_text=True)
        assert _status(api, kind, resp.get_json()["id"]) == INITIAL[kind]
    form = {k: v for k, v in spec["fields"](ids).items()}
    resp = submit_form(client_as(spec["user"]), f"/{SCREEN[kind]}/add",
                       {**form, "status": "Teleported", "order_date": "2026-12-04"}, follow_redirects=True)
    assert "Added Row" in resp.get_data(as_text=True)
    statuses = {r["status"] for r in api.get(f"/api/v1/{spec['order']}/").get_json()["result"]}
    assert statuses == {INITIAL[kind]}
    # The forms and the API offer no status to fill in.
    assert 'name="status"' not in client_as(spec["user"]).get(f"/{SCREEN[kind]}/add").get_data(as_text=True)
    info = api.get(f"/api/v1/{spec['order']}/_info").get_json()
    assert "status" not in {c["name"] for c in info["add_columns"] + info["edit_columns"]}


@pytest.mark.parametrize("kind", list(ORDERS))
def test_free_text_status_is_refused_by_put_edit_form_and_code(app, api_as, client_as, kind):
    from app.errors import RuleViolation, flush_checked
    from app.extensions import db

    ids, order = _order(app, api_as, kind)
    spec = ORDERS[kind]
    api = api_as(spec["user"])
    refused = api.put(f"/api/v1/{spec['order']}/{order}", json={"status": "Teleported"})
    assert refused.status_code == 422 and STATUS_RULE in refused.get_json()["message"]
    edit = {**spec["fields"](ids), "order_date": "2026-12-03", "status": "Teleported", "notes": "edited"}
    resp = submit_form(client_as(spec["user"]), f"/{SCREEN[kind]}/edit/{order}", edit, follow_redirects=True)
    assert resp.status_code == 200
    assert _status(api, kind, order) == INITIAL[kind]  # the notes changed, the status did not
    model = m.CustomerOrder if kind == "customer" else m.SupplierOrder
    with app.app_context():
        row = get_one(model, id=uuid.UUID(order))
        for value in ("Teleported", "approved"):
            row.status = value
            with pytest.raises(RuleViolation, match=STATUS_RULE):
                flush_checked(db.session)
            row = get_one(model, id=uuid.UUID(order))
        db.session.remove()
    assert _status(api, kind, order) == INITIAL[kind]


def test_customer_order_steps_through_the_api(app, api_as):
    order = _acme_order(app, api_as)
    staff, customer = api_as("oraseas.admin"), api_as("acme.admin")
    base = f"/api/v1/customer_order/{order}"
    # a customer does not approve its own order; another customer does not see it
    assert customer.post(f"{base}/approve").status_code == 403
    assert api_as("beta.admin").post(f"{base}/approve").status_code == 404
    assert api_as("beta.admin").post(f"{base}/cancel").status_code == 404
    approved = staff.post(f"{base}/approve")
    assert approved.status_code == 200, approved.get_data(as_text=True)
    assert approved.get_json()["result"]["status"] == "approved"
    again = staff.post(f"{base}/approve")
    assert again.status_code == 409 and "it is approved" in again.get_json()["message"]
    cancelled = customer.post(f"{base}/cancel")
    assert cancelled.status_code == 200 and cancelled.get_json()["result"]["status"] == "cancelled"
    for step in ("approve", "cancel"):
        late = staff.post(f"{base}/{step}")
        assert late.status_code == 409 and "it is cancelled" in late.get_json()["message"]
    # requested -> cancelled, by Oraseas EE's staff on behalf of the customer
    other = _acme_order(app, api_as, "2026-12-04")
    assert staff.post(f"/api/v1/customer_order/{other}/cancel").get_json()["result"]["status"] == "cancelled"
    assert api_as("superadmin").post("/api/v1/customer_order/not-an-id/approve").status_code == 404


def test_supplier_order_is_cancelled_once_by_its_organizations_admin(app, api_as):
    _ids_, order = _order(app, api_as, "supplier")
    base = f"/api/v1/supplier_order/{order}"
    assert api_as("acme.admin").post(f"{base}/cancel").status_code == 404
    done = api_as("oraseas.admin").post(f"{base}/cancel")
    assert done.status_code == 200 and done.get_json()["result"]["status"] == "cancelled"
    again = api_as("superadmin").post(f"{base}/cancel")
    assert again.status_code == 409 and "it is cancelled" in again.get_json()["message"]


def _page(client, url) -> str:
    return html.unescape(client.get(url).get_data(as_text=True))


def _press(client, url, step, pk) -> str:
    """Press a step's button on the show page ``url`` (its form, with the page's CSRF token)."""
    token = csrf_token(client.get(url).get_data(as_text=True))
    base = url.split("/show/")[0]
    return html.unescape(client.post(f"{base}/{step}/{pk}", data={"csrf_token": token},
                                     follow_redirects=True).get_data(as_text=True))


def test_order_steps_on_the_show_pages(app, api_as, client_as):
    order = _acme_order(app, api_as)
    url = f"/customerordermodelview/show/{order}"
    staff, customer = client_as("oraseas.admin"), client_as("acme.admin")
    assert ">Approve</button>" in _page(staff, url) and ">Cancel order</button>" in _page(staff, url)
    page = _page(customer, url)
    assert ">Approve</button>" not in page and ">Cancel order</button>" in page
    # a step the page does not offer is refused with the rule's message
    assert "Only an Admin of Oraseas EE or a Super Admin approves" in _press(customer, url, "approve", order)
    page = _press(staff, url, "approve", order)
    assert "Approved." in page and _shown(page, "Status") == "Approved"
    page = _press(staff, url, "approve", order)
    assert "it is approved" in page
    page = _press(customer, url, "cancel", order)
    assert "Cancelled." in page and _shown(page, "Status") == "Cancelled" and 'class="order-steps"' not in page
    # another customer does not see the order, not even through a step's route
    beta = client_as("beta.admin")
    token = csrf_token(beta.get("/customerordermodelview/add").get_data(as_text=True))
    assert beta.post(f"/customerordermodelview/approve/{order}", data={"csrf_token": token}).status_code == 404
    assert beta.get(url).status_code == 404
    # supplier order: cancel on the screen
    _ids_, supplier = _order(app, api_as, "supplier")
    surl = f"/supplierordermodelview/show/{supplier}"
    page = _press(staff, surl, "cancel", supplier)
    assert "Cancelled." in page and _shown(page, "Status") == "Cancelled"


def test_the_list_shows_the_status_as_words(app, api_as, client_as):
    order = _acme_order(app, api_as)
    api_as("oraseas.admin").post(f"/api/v1/customer_order/{order}/approve")
    _acme_order(app, api_as, "2026-12-05")
    page = _page(client_as("oraseas.admin"), "/customerordermodelview/list/")
    cells = [cell for row in _cells(page) for cell in row]
    assert "Approved" in cells and "Requested" in cells
    assert "CustomerOrderStatus" not in page
