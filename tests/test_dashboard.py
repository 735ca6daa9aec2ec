"""The landing page's dashboard (issue 11): every figure equals the count of the list it links to."""
from __future__ import annotations

import decimal
import html
import re

import pytest
import sqlalchemy as sa

from app import models as m
from app.errors import flush_checked
from app.extensions import db
from app.scoping import acting_as, system

from .conftest import csrf_token, get_one
from .test_counting import _count_text
from .test_order_fulfilment import approved_order, new_order, ship

D = decimal.Decimal


def record_count(client, link: str) -> int:
    """The record count a list shows (a list with no rows shows none: 0)."""
    page = client.get(link).get_data(as_text=True)
    assert "Record Count" in page or "No records found" in page, link
    return int(_count_text(page)) if "Record Count" in page else 0


def figures(page: str) -> list[tuple[str, int]]:
    """``(link, number)`` of every linked figure on the dashboard (bars of the chart excluded)."""
    return [(html.unescape(link), int(n)) for link, n in re.findall(r'<a href="([^"]+)"[^>]*>(\d+)</a>', page)]


def write(username, *objs):
    """Write ``objs`` as ``username`` through the rule hooks, committed."""
    with acting_as(get_one(m.PortalUser, username=username)):
        db.session.add_all(objs)
        flush_checked(db.session)
        db.session.commit()


@pytest.fixture
def activity(app, api_as, client_as, w):
    """Something on every board: reorder points that make Acme Main's and Beta Main's CON-1 low
    and Central's BULK-1 excess, an empty line at Acme Site (out of stock), a consumption,
    part usage, an adjustment, an order shipped to Acme and one drafted by Beta, an export
    and a ledger check."""
    order = approved_order(app, api_as, w)
    ship(api_as("oraseas.admin"), w, order, CON_1="4")
    new_order(app, api_as("beta.user"), w, customer="Beta Fish")
    with app.app_context():
        con, bulk = get_one(m.Part, part_number="CON-1"), get_one(m.Part, part_number="BULK-1")
        acme_main, acme_site = get_one(m.Warehouse, name="Acme Main"), get_one(m.Warehouse, name="Acme Site")
        with system():
            for warehouse, part, point in (("Acme Main", con, 20), ("Beta Main", con, 5), ("Central", bulk, 10)):
                db.session.execute(sa.update(m.Inventory).where(
                    m.Inventory.warehouse_id == get_one(m.Warehouse, name=warehouse).id,
                    m.Inventory.part_id == part.id).values(minimum_stock_recommendation=point))
            db.session.commit()
        write("acme.admin", m.Inventory(warehouse_id=acme_site.id, part_id=bulk.id, unit_of_measure="litres"))
        write("acme.user", m.PartUsage(warehouse_id=acme_main.id, part_id=con.id, quantity=1,
                                       machine_id=get_one(m.Machine, serial_number="SN-ACME-1").id))
        stock = get_one(m.Inventory, warehouse_id=acme_main.id, part_id=con.id)
        write("acme.admin", m.StockAdjustment(inventory_id=stock.id, quantity_adjusted=-1, reason_code="damage"))
        db.session.remove()
    assert client_as("acme.admin").get("/inventorymodelview/export/").status_code == 200
    assert run_ledger_check(client_as("auditor")).status_code == 200


def run_ledger_check(client):
    """Press the auditors' dashboard button "Check the ledger now" (a form post with its CSRF token)."""
    token = csrf_token(client.get("/").get_data(as_text=True))
    return client.post("/ledger-check/verify", data={"csrf_token": token}, follow_redirects=True)


#: The boards each role's dashboard shows (their panels' ids).
BOARDS = {
    "staff": ["board-alerts", "board-value", "board-waiting", "board-transit", "board-consumed", "movements-chart"],
    "customer": ["board-alerts", "board-incoming", "board-usage"],
    "auditor": ["board-ledger-check", "board-exports", "board-adjustments", "movements-chart"],
}
ROLE_OF = {"superadmin": "staff", "oraseas.admin": "staff", "acme.admin": "customer", "acme.user": "customer",
           "auditor": "auditor"}


@pytest.mark.parametrize("user", ["oraseas.admin", "acme.user", "acme.admin", "superadmin", "auditor"])
def test_every_dashboard_figure_is_the_count_of_its_list(app, activity, client_as, user):
    client = client_as(user)
    page = client.get("/").get_data(as_text=True)
    role = ROLE_OF[user]
    assert f'data-role="{role}"' in page
    for board in BOARDS[role]:
        assert f'id="{board}"' in page, (user, board)
    for other in {b for boards in BOARDS.values() for b in boards} - set(BOARDS[role]):
        assert f'id="{other}"' not in page, (user, other)
    found = figures(page)
    assert len(found) >= 10
    for link, n in found:
        assert record_count(client, link) == n, (user, link)
    # the chart's bars open the ledger rows they count
    bars = re.findall(r'<a href="([^"]+)"><rect[^>]*>\s*<title>[^:]+: (\d+) ', page)
    if role != "customer":
        assert bars
    for link, n in bars:
        assert record_count(client, html.unescape(link)) == int(n), (user, link)


def test_a_customer_sees_only_its_own_figures_and_no_page_leaves_the_portal(app, api_as, client_as, w):
    new_order(app, api_as("beta.user"), w, customer="Beta Fish")
    acme = client_as("acme.user").get("/").get_data(as_text=True)
    drafts = dict(figures(acme))
    assert all(n == 0 for link, n in figures(acme) if "customerorder" in link and "draft" in link)
    assert drafts  # figures are shown
    beta = client_as("beta.user").get("/").get_data(as_text=True)
    assert any(n == 1 for link, n in figures(beta) if "customerorder" in link and "=draft" in link)
    for page in (acme, beta, client_as("superadmin").get("/").get_data(as_text=True)):
        assert not re.search(r'(src|href)="https?://', page)


def test_the_dashboard_is_for_signed_in_users(client):
    resp = client.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def board(page: str, board_id: str) -> str:
    """The HTML of one board of a dashboard page."""
    start = page.index(f'id="{board_id}"')
    return page[start:page.index("</table>", start)]


def test_stock_alerts_and_value_per_organization(app, activity, client_as):
    """Staff who see every organization (here the Super Admin) get a row per organization;
    Oraseas EE's own admin, scoped to Oraseas EE, gets its row only (none here: nothing is low)."""
    assert "No stock line is out or low" in board(client_as("oraseas.admin").get("/").get_data(as_text=True),
                                                  "board-alerts")
    page = client_as("superadmin").get("/").get_data(as_text=True)
    alerts = board(page, "board-alerts")
    rows = dict(re.findall(r"<tr><td>([^<]+)</td>(.*?)</tr>", alerts, re.S))
    numbers = {name: [int(n) for n in re.findall(r">(\d+)</a>", cells)] for name, cells in rows.items()}
    assert numbers == {"Acme Aqua": [1, 1], "Beta Fish": [0, 1]}  # out, low; Central's BULK-1 is in excess
    assert [int(n) for n in re.findall(r">(\d+)</a>", alerts.split("<tfoot>")[1])] == [1, 2]
    # the value: stock on hand x unit price per warehouse, as the database sums it
    with app.app_context(), system():
        expected = {name: D(value).quantize(D("0.01")) for name, value in db.session.execute(
            sa.select(m.Warehouse.name, sa.func.sum(m.Inventory.current_stock * m.Part.unit_price))
            .join(m.Inventory, m.Inventory.warehouse_id == m.Warehouse.id).join(m.Part, m.Part.id == m.Inventory.part_id)
            .where(m.Warehouse.is_transit.is_(False))
            .group_by(m.Warehouse.name))}
        db.session.remove()
    value = board(page, "board-value")
    shown = {name: D(v.replace(",", "")) for name, v in re.findall(
        r'<td style="padding-left: 2em">([^<]+)</td><td class="text-right"><a href="[^"]+">([\d,.]+)</a>', value)}
    assert shown == expected and expected["Central"] > 0
    assert D(re.findall(r">([\d,.]+)</a></th></tr></tfoot>", value)[0].replace(",", "")) == sum(expected.values())


def test_a_customer_sees_only_its_own_alerts_and_no_value_board(app, activity, client_as):
    page = client_as("acme.admin").get("/").get_data(as_text=True)
    alerts = board(page, "board-alerts")
    assert "Acme Aqua" in alerts and "Beta Fish" not in alerts
    incoming = board(page, "board-incoming")
    assert [int(n) for n in re.findall(r">(\d+)</a>", incoming)] == [1, 1]  # the shipment; the order shipped
    beta = client_as("beta.admin").get("/").get_data(as_text=True)
    assert "Acme Aqua" not in board(beta, "board-alerts")
    assert [int(n) for n in re.findall(r">(\d+)</a>", board(beta, "board-incoming"))] == [0, 0]


def test_the_ledger_check_button_records_who_ran_it_and_what_it_found(app, client_as, runner):
    auditor = client_as("auditor")
    assert "has not been checked yet" in auditor.get("/").get_data(as_text=True)
    page = run_ledger_check(auditor).get_data(as_text=True)
    assert "every balance equals its ledger rows" in page
    check = board(page, "board-ledger-check")
    assert "Books agree" in check and "Auditor Tester" in check
    with app.app_context(), system():
        event = db.session.execute(sa.select(m.SecurityEvent).where(m.SecurityEvent.event_type == "ledger_check")
                                   ).scalar_one()
        assert event.user.username == "auditor" and '"agree": true' in event.details
        db.session.remove()
    # the command records its runs too; an organization's admin may not run the check
    assert runner.invoke(args=["abparts", "verify-ledger"]).exit_code == 0
    assert re.search(r'Checks recorded: <a href="[^"]+">2</a>', auditor.get("/").get_data(as_text=True))
    admin = client_as("oraseas.admin")
    assert "run-ledger-check" not in admin.get("/").get_data(as_text=True)
    token = csrf_token(admin.get("/warehousemodelview/add").get_data(as_text=True))  # a page with a form
    assert admin.post("/ledger-check/verify", data={"csrf_token": token}).status_code in (302, 403)
    with app.app_context(), system():
        assert db.session.execute(sa.select(sa.func.count()).select_from(m.SecurityEvent).where(
            m.SecurityEvent.event_type == "ledger_check")).scalar_one() == 2
        db.session.remove()


def test_a_stock_status_filter_value_that_does_not_exist_answers_400(client_as):
    client = client_as("oraseas.admin")
    page = client.get("/").get_data(as_text=True)
    link = html.unescape(re.search(r'<a href="(/inventorymodelview/list/[^"]*_status=out[^"]*)"', page).group(1))
    bad = client.get(link.replace("=out", "=empty"))
    assert bad.status_code == 400 and "allowed: out, low, ok, excess" in bad.get_data(as_text=True)
