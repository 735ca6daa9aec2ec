"""Who reaches what: a role x endpoint x expected-status matrix (issue 2, "Roles and organization scoping").

The matrix below is written from the spec, not read from ``app/security/roles.py``:

- Super Admin sees and changes everything.
- Admin manages its own organization: its users, its warehouses, its stock and
  transactions (and its orders and part usage).  It reads the organization and
  the shared catalog but creates neither organizations nor parts, and only a
  Super Admin registers machines (seed 004 "Machine registration (super_admin only)").
- User works inside its own organization: reads stock, parts, machines (and the
  warehouses and organization they sit in); records part usage.  Nothing else.
- Auditor reads everything and changes nothing.
- Anonymous visitors are sent to the login page (screens) or get 401 (API).

Where the spec is silent, the choice made is noted next to the row.
Which *rows* each role sees is tested in ``tests/test_scoping.py``.
"""
from __future__ import annotations

import re

import sqlalchemy as sa

from app import models as m

from .conftest import choices, csrf_token

# --- the matrix ---------------------------------------------------------------------
#
# Per domain: the screen (list route), the REST resource (None: no API), and for
# each role what it may do: "R" read (list screen and API list answer 200),
# "W" create (add form 200, API POST of an empty body reaches validation: 422),
# "-" nothing (403).  Audit records are written by the system: no add form, and
# the API has no POST route at all (405 for everyone).

ROLES = ("superadmin", "auditor", "oraseas.admin", "acme.admin", "acme.user")

#: domain: (screen, resource, {role: rights}); the two admins share the "admin" column.
MATRIX = {
    #                     screen                          resource               super  auditor admin user
    "organization":      ("organizationmodelview",       "organization",         "RW", "R", "R",  "R"),
    "user":              ("users",                       None,                   "RW", "R", "RW", "-"),
    "warehouse":         ("warehousemodelview",          "warehouse",            "RW", "R", "RW", "R"),
    "part":              ("partmodelview",               "part",                 "RW", "R", "R",  "R"),
    "machine":           ("machinemodelview",            "machine",              "RW", "R", "R",  "R"),
    "inventory":         ("inventorymodelview",          "inventory",            "RW", "R", "RW", "R"),
    "transaction":       ("transactionmodelview",        "transaction",          "RW", "R", "RW", "-"),
    "stock_adjustment":  ("stockadjustmentmodelview",    "stock_adjustment",     "RW", "R", "RW", "-"),
    "approval":          ("transactionapprovalmodelview", "transaction_approval", "RW", "R", "RW", "-"),
    # a customer's users order for their organization and receive (issue 10)
    "customer_order":    ("customerordermodelview",      "customer_order",       "RW", "R", "RW", "RW"),
    "customer_order_item": ("customerorderitemmodelview", "customer_order_item", "RW", "R", "RW", "RW"),
    "supplier_order":    ("supplierordermodelview",      "supplier_order",       "RW", "R", "RW", "R"),
    "supplier_order_item": ("supplierorderitemmodelview", "supplier_order_item", "RW", "R", "RW", "R"),
    "part_usage":        ("partusagemodelview",          "part_usage",           "RW", "R", "RW", "RW"),
    # Spec silent on audit for admins: an admin who manages its users reads their
    # security events and sessions (scoped to its organization).
    "security_event":    ("securityeventmodelview",      "security_event",       "R",  "R", "R",  "-"),
    "user_session":      ("usersessionmodelview",        "user_session",         "R",  "R", "R",  "-"),
    "invitation_log":    ("invitationauditlogmodelview", None,                   "R",  "R", "R",  "-"),
    "user_mgmt_log":     ("usermanagementauditlogmodelview", None,               "R",  "R", "R",  "-"),
    "export_log":        ("exportlogmodelview",          None,                   "R",  "R", "R",  "-"),
}
#: Audit resources: read-only APIs (no POST route).
SYSTEM_WRITTEN = {"security_event", "user_session", "invitation_log", "user_mgmt_log", "export_log"}
_COLUMN = {"superadmin": 2, "auditor": 3, "oraseas.admin": 4, "acme.admin": 4, "acme.user": 5}


def rights(role: str, domain: str) -> str:
    return MATRIX[domain][_COLUMN[role]]


def expected(role: str | None, domain: str) -> dict[str, int]:
    """Expected status per endpoint of ``domain`` for ``role`` (``None``: anonymous)."""
    screen, resource, *_ = MATRIX[domain]
    out = {}
    if role is None:
        out[f"GET /{screen}/list/"] = 302
        out[f"GET /{screen}/export/"] = 302
        out[f"GET /{screen}/add"] = 302
        if resource:
            out[f"GET /api/v1/{resource}/"] = 401
            out[f"POST /api/v1/{resource}/"] = 405 if domain in SYSTEM_WRITTEN else 401
        return out
    r = rights(role, domain)
    out[f"GET /{screen}/list/"] = 200 if "R" in r else 403
    # an export is checked like its list (issue 11): a role that may not read it gets no file
    out[f"GET /{screen}/export/"] = 200 if "R" in r else 403
    out[f"GET /{screen}/add"] = 200 if "W" in r else 403
    if resource:
        out[f"GET /api/v1/{resource}/"] = 200 if "R" in r else 403
        out[f"POST /api/v1/{resource}/"] = 405 if domain in SYSTEM_WRITTEN else (422 if "W" in r else 403)
    return out


def _observe(ui, api, endpoint: str) -> int:
    method, url = endpoint.split(" ", 1)
    client = api if url.startswith("/api/") else ui
    if method == "GET":
        return client.get(url).status_code
    return client.post(url, json={}).status_code


def test_role_endpoint_matrix(app, client_as, api_as, subtests):
    """Every cell of the matrix; one subtest per role, all its mismatches reported together."""
    for role in (*ROLES, None):
        with subtests.test(role=role or "anonymous"):
            ui = client_as(role) if role else app.test_client()
            api = api_as(role) if role else app.test_client()
            mismatches = []
            for domain in MATRIX:
                for endpoint, status in expected(role, domain).items():
                    got = _observe(ui, api, endpoint)
                    if got != status:
                        mismatches.append(f"{endpoint}: expected {status}, got {got}")
            assert not mismatches, f"{role or 'anonymous'}:\n" + "\n".join(mismatches)


def test_anonymous_api_answers_say_how_to_authenticate(app):
    resp = app.test_client().get("/api/v1/warehouse/")
    assert resp.status_code == 401
    assert "Authorization" in resp.get_data(as_text=True)


def test_anonymous_screens_redirect_to_the_login_page(app):
    resp = app.test_client().get("/warehousemodelview/list/")
    assert resp.status_code == 302 and "/login/" in resp.headers["Location"]


def test_the_organization_switcher_is_only_for_staff_who_see_everything(app, client_as, subtests):
    for role in ROLES:
        with subtests.test(role=role):
            page = client_as(role).get("/organization-switcher/")
            if role in ("superadmin", "auditor"):
                assert page.status_code == 200
                assert "Beta Fish" in page.get_data(as_text=True)
            else:
                assert page.status_code == 403


def test_only_the_super_admin_reaches_fabs_security_screens(app, client_as, subtests):
    for role in ROLES:
        with subtests.test(role=role):
            c = client_as(role)
            for url in ("/roles/list/", "/permissions/list/", "/viewmenus/list/", "/permissionviews/list/"):
                assert c.get(url).status_code == (200 if role == "superadmin" else 403), url


# --- every screen a role can reach renders ---------------------------------------------

_SKIP = ("/logout", "/static/", "/favicon.ico", "/lang/", "/back", "/login")


def _links(html: str) -> set[str]:
    return {h for h in re.findall(r'href="(/[^"#?]*)', html) if not h.startswith(_SKIP)}


def _rows_links(html: str, screen: str) -> list[str]:
    """The first show and edit links of a list page, and its add form."""
    out = []
    for kind in ("show", "edit"):
        found = re.search(rf'href="(/{screen}/{kind}/[^"]+)"', html)
        if found:
            out.append(found.group(1))
    if f'href="/{screen}/add"' in html:
        out.append(f"/{screen}/add")
    return out


def test_every_screen_a_role_reaches_renders(app, client_as, subtests):
    """Follow the menu, then each list's first show and edit page and its add form: all 200.

    The menu offers exactly the screens the matrix says the role may read, so no
    menu entry leads to "access denied".
    """
    for role in ROLES:
        with subtests.test(role=role):
            _crawl(client_as(role), role)


def _crawl(c, role):
    home = c.get("/")
    assert home.status_code == 200
    menu = _links(home.get_data(as_text=True))
    failures, visited = [], set()
    for url in sorted(menu):
        page = c.get(url)
        visited.add(url)
        if page.status_code != 200:
            failures.append(f"{url}: {page.status_code}")
            continue
        screen = url.strip("/").split("/")[0]
        for inner in _rows_links(page.get_data(as_text=True), screen):
            resp = c.get(inner)
            visited.add(inner)
            if resp.status_code != 200:
                failures.append(f"{inner}: {resp.status_code}")
    assert not failures, f"{role}: " + ", ".join(failures)

    readable_menu = {f"/{MATRIX[d][0]}/list/" for d in MATRIX
                     if "R" in rights(role, d) and not d.endswith("_item")}
    listed = {u for u in menu if u.endswith("/list/") and u.split("/")[1] in {v[0] for v in MATRIX.values()}}
    assert listed == readable_menu
    # The base data gives every role at least one row to open.
    assert any("/show/" in u for u in visited)


def test_order_detail_screens_render_with_their_lines(app, client_as, api_as):
    """Master-detail: an order's show page lists its lines (base data has no order: make one)."""
    from app.extensions import db
    from .conftest import get_one

    with app.app_context():
        acme = get_one(m.Organization, name="Acme Aqua").id
        con = get_one(m.Part, part_number="CON-1").id
        db.session.remove()
    api = api_as("superadmin")
    order = api.post("/api/v1/customer_order/", json={
        "customer_organization": str(acme), "order_date": "2026-01-05T10:00:00", "status": "Pending"})
    assert order.status_code == 201, order.get_data(as_text=True)
    line = api.post("/api/v1/customer_order_item/", json={
        "customer_order": order.get_json()["id"], "part": str(con), "quantity": "3", "unit_price": "10.00"})
    assert line.status_code == 201, line.get_data(as_text=True)
    for role in ("superadmin", "acme.admin"):
        page = client_as(role).get(f"/customerordermodelview/show/{order.get_json()['id']}")
        assert page.status_code == 200
        assert "CON-1" in page.get_data(as_text=True)


# --- user administration through the screens -----------------------------------------

def test_a_user_added_on_the_form_logs_in_with_a_hashed_password(app, client_as):
    """The user form stores the password hashed (FAB's pre_add), so the new user can log in."""
    from app.extensions import db

    c = client_as("acme.admin")
    form = c.get("/users/add").get_data(as_text=True)
    org_id = choices(c, "users", "add", "organization", q="Acme Aqua")["Acme Aqua"]
    user_role = re.search(r'<option value="(\d+)">User</option>', form).group(1)
    resp = c.post("/users/add", data={
        "csrf_token": csrf_token(form), "first_name": "New", "last_name": "Hire", "username": "acme.new",
        "email": "acme.new@example.test", "organization": org_id, "roles": [user_role],
        "user_status": "active", "active": "y", "password": "Another-pass-9", "conf_password": "Another-pass-9"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    with app.app_context():
        stored = db.session.execute(
            sa.select(m.PortalUser.password).where(m.PortalUser.username == "acme.new")).scalar_one()
        db.session.remove()
    assert stored != "Another-pass-9"
    client_as("acme.new", password="Another-pass-9")


def test_the_user_form_requires_a_role(app, client_as):
    c = client_as("acme.admin")
    form = c.get("/users/add").get_data(as_text=True)
    org_id = choices(c, "users", "add", "organization", q="Acme Aqua")["Acme Aqua"]
    resp = c.post("/users/add", data={
        "csrf_token": csrf_token(form), "first_name": "No", "last_name": "Role", "username": "acme.norole",
        "email": "acme.norole@example.test", "organization": org_id, "user_status": "active", "active": "y",
        "password": "Another-pass-9", "conf_password": "Another-pass-9"})
    assert resp.status_code == 200
    assert "A user needs at least one role." in resp.get_data(as_text=True)


def test_an_admin_edits_its_own_users_on_the_form(app, client_as):
    from app.extensions import db
    from .conftest import get_one

    with app.app_context():
        acme_user = get_one(m.PortalUser, username="acme.user")
        pk, org_id = acme_user.id, acme_user.organization_id
        role_id = acme_user.roles[0].id
        db.session.remove()
    c = client_as("acme.admin")
    form = c.get(f"/users/edit/{pk}").get_data(as_text=True)
    resp = c.post(f"/users/edit/{pk}", data={
        "csrf_token": csrf_token(form), "first_name": "Renamed", "last_name": "Tester", "username": "acme.user",
        "email": "acme.user@example.test", "organization": str(org_id), "roles": [str(role_id)],
        "user_status": "active", "active": "y"})
    assert resp.status_code == 302
    with app.app_context():
        assert get_one(m.PortalUser, username="acme.user").first_name == "Renamed"
        db.session.remove()
