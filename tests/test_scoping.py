"""Organization scoping (issue 2, "Roles and organization scoping"), end to end.

What a user would notice: a customer admin never sees, opens, changes or
deletes another organization's rows (404, never the data), is offered only
its own organization's rows in lists, dropdowns and ``/_info``, and every new
record it makes lands in its own organization.  Super Admins and Auditors see
every organization and can narrow the portal with the organization switcher;
Auditors change nothing.

Requests here never run inside an open application context: a shared context
would keep Flask-Login's user in ``g`` from one request to the next, so the
acting user of :mod:`app.scoping` would not be established.  Ids and row
snapshots are read in short contexts of their own (:func:`world`, :func:`snapshot`).
"""
from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa
from flask_appbuilder import ModelView
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.security.sqla import models as fab_models

from app import models as m
from app import scoping
from app.views.interface import ABPartsInterface

from .conftest import choices, csrf_token, get_one

# --- helpers --------------------------------------------------------------------

#: FAB's own security tables: not organization data.  ``Role`` is narrowed for
#: organization admins by ``scoping._role_criterion`` (tested below).
FAB_INTERNALS = {
    fab_models.Role, fab_models.Permission, fab_models.ViewMenu, fab_models.PermissionView,
    fab_models.Group, fab_models.RegisterUser, fab_models.ApiKey,
}
#: Association tables of FAB's security model (no mapped class of their own).
FAB_ASSOCIATION_TABLES = {
    "ab_user_role", "ab_permission_view_role", "ab_user_group", "ab_group_role",
}


def world(app) -> dict:
    """Ids of the base data's rows that the tests aim at (read unscoped, context closed after)."""
    from app.extensions import db

    with app.app_context():
        orgs = {o.name: o.id for o in db.session.execute(sa.select(m.Organization)).scalars()}
        whs = {w.name: w.id for w in db.session.execute(sa.select(m.Warehouse)).scalars()}
        users = {u.username: u.id for u in db.session.execute(sa.select(m.PortalUser)).scalars()}
        roles = {r.name: r.id for r in db.session.execute(sa.select(fab_models.Role)).scalars()}
        con = get_one(m.Part, part_number="CON-1")
        inventory = {
            name: get_one(m.Inventory, warehouse_id=whs[name], part_id=con.id).id
            for name in ("Beta Main", "Acme Main")
        }
        beta_txn = get_one(m.Transaction, to_warehouse_id=whs["Beta Main"]).id
        db.session.remove()
    return {"org": orgs, "wh": whs, "user": users, "role": roles, "inv": inventory,
            "part": {"CON-1": con.id}, "beta_txn": beta_txn}


def snapshot(app, model, pk) -> dict | None:
    """Every column of one row (plus a user's role names), read unscoped; ``None`` if gone."""
    from app.extensions import db

    with app.app_context():
        obj = db.session.get(model, pk)
        if obj is None:
            return None
        row = {c.key: getattr(obj, c.key) for c in sa.inspect(model).column_attrs}
        if isinstance(obj, m.PortalUser):
            row["roles"] = sorted(r.name for r in obj.roles)
        db.session.remove()
    return row


def count(app, model, **where) -> int:
    from app.extensions import db

    with app.app_context():
        n = db.session.execute(sa.select(sa.func.count()).select_from(model).filter_by(**where)).scalar_one()
        db.session.remove()
    return n


def select_options(html: str, name: str) -> dict[str, str]:
    """``{value: label}`` of the ``<select name=...>`` of a rendered form."""
    match = re.search(rf'<select[^>]*\bname="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert match, f"no <select name={name}> in the form"
    options = re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', match.group(1))
    # "__None" is the blank choice of an optional field.
    return {v: label.strip() for v, label in options if v != "__None"}


def list_names(html: str, names) -> set[str]:
    """Which of ``names`` appear in a rendered page."""
    return {n for n in names if n in html}


def api_values(info: dict, section: str, column: str) -> set[str]:
    """The labels FAB's ``/_info`` offers for a related column."""
    for col in info[section]:
        if col["name"] == column:
            return {v["value"] for v in col["values"]}
    raise AssertionError(f"{column} not in {section} of /_info")


ALL_WAREHOUSES = {"Central", "Acme Main", "Acme Site", "Beta Main"}
ALL_ORGANIZATIONS = {"Oraseas EE", "BossAqua", "Acme Aqua", "Acme Supplies", "Beta Fish"}


# --- guard: nothing escapes the rule -----------------------------------------------

def _mapped_classes():
    from flask_appbuilder import Model

    return {mapper.class_ for mapper in Model.registry.mappers}


def test_every_mapped_class_is_scoped_or_declared_shared():
    """A new model must be put in SCOPE_RULES (or, if truly shared, UNSCOPED_MODELS)."""
    declared = set(scoping.SCOPE_RULES) | set(scoping.UNSCOPED_MODELS) | FAB_INTERNALS
    escaped = []
    for cls in _mapped_classes():
        # A subclass mapped on its base's table (PortalUser on FAB's User) inherits the base's rule.
        base = cls.__mapper__.base_mapper.class_
        if cls not in declared and base not in declared:
            escaped.append(cls.__name__)
    assert not escaped, f"models escaping organization scoping: {sorted(escaped)}"
    # Every domain model of app.models is reached, and the user model through FAB's User.
    for name in m.__all__:
        obj = getattr(m, name)
        if isinstance(obj, type) and hasattr(obj, "__mapper__"):
            assert obj in _mapped_classes()
    assert fab_models.User in scoping.SCOPE_RULES
    assert not set(scoping.SCOPE_RULES) & set(scoping.UNSCOPED_MODELS)


def test_every_table_belongs_to_a_checked_class():
    """A bare association table holding organization data would escape the mapper-based rule."""
    from flask_appbuilder import Model

    mapped_tables = {cls.__table__.name for cls in _mapped_classes()}
    loose = set(Model.metadata.tables) - mapped_tables - FAB_ASSOCIATION_TABLES
    assert not loose, f"tables with no mapped class (scope them or map them): {sorted(loose)}"


def _is_domain_model(model) -> bool:
    return model.__module__.startswith("app.models") or model is fab_models.User


def test_every_domain_view_and_api_uses_the_portal_interface(app):
    """Every registered ModelView / ModelRestApi of a domain model goes through ABPartsInterface."""
    checked, wrong = [], []
    for view in app.appbuilder.baseviews:
        if not isinstance(view, (ModelView, ModelRestApi)):
            continue
        datamodel = getattr(view, "datamodel", None)
        if datamodel is None or not _is_domain_model(datamodel.obj):
            continue
        checked.append(type(view).__name__)
        if not isinstance(datamodel, ABPartsInterface):
            wrong.append(type(view).__name__)
    assert not wrong, f"views/APIs of domain models not using ABPartsInterface: {wrong}"
    # The check saw the screens and APIs it is meant to guard.
    for name in ("WarehouseModelView", "WarehouseRestApi", "InventoryRestApi", "PortalUserModelView"):
        assert name in checked


# --- another organization's rows, by id: 404 ----------------------------------------

#: target -> (model, how to find its id in world(), UI view route, API resource or None, UI delete answer).
#: An Admin has no delete right on stock records (Inventory): FAB refuses before it
#: looks at the row, with the same 403 for its own rows (checked below), so nothing leaks.
TARGETS = {
    "warehouse": (m.Warehouse, ("wh", "Beta Main"), "warehousemodelview", "warehouse", 404),
    "user": (m.PortalUser, ("user", "beta.user"), "users", None, 404),
    "inventory": (m.Inventory, ("inv", "Beta Main"), "inventorymodelview", "inventory", 403),
}
EDIT_PAYLOAD = {
    "warehouse": {"name": "Hijacked", "location": "nowhere"},
    "user": {"first_name": "Hijacked"},
    "inventory": {"minimum_stock_recommendation": "99"},
}


def _target(world_, target):
    model, (kind, key), route, resource, delete_status = TARGETS[target]
    return model, world_[kind][key], route, resource, delete_status


def test_customer_admin_gets_404_for_another_organizations_rows_in_the_ui(app, client_as, subtests):
    w = world(app)
    c = client_as("acme.admin")
    token = csrf_token(c.get("/warehousemodelview/add").get_data(as_text=True))
    for target in sorted(TARGETS):
        with subtests.test(target=target):
            model, pk, route, _resource, delete_status = _target(w, target)
            before = snapshot(app, model, pk)
            show = c.get(f"/{route}/show/{pk}")
            assert show.status_code == 404
            assert "Beta" not in show.get_data(as_text=True)
            edit = c.get(f"/{route}/edit/{pk}")
            assert edit.status_code == 404
            assert "Beta" not in edit.get_data(as_text=True)
            assert c.post(f"/{route}/edit/{pk}", data={"csrf_token": token, **EDIT_PAYLOAD[target]}).status_code == 404
            assert c.post(f"/{route}/delete/{pk}", data={"csrf_token": token}).status_code == delete_status
            # A delete over GET is refused before the row is looked at (see the CSRF test below).
            assert c.get(f"/{route}/delete/{pk}").status_code in (302, 403)
            assert snapshot(app, model, pk) == before
    with subtests.test("no delete right: the same answer for own and foreign rows"):
        own = c.post(f"/inventorymodelview/delete/{w['inv']['Acme Main']}", data={"csrf_token": token})
        foreign = c.post(f"/inventorymodelview/delete/{w['inv']['Beta Main']}", data={"csrf_token": token})
        assert own.status_code == foreign.status_code == 403
        assert snapshot(app, m.Inventory, w["inv"]["Acme Main"]) is not None


def test_customer_admin_gets_404_for_another_organizations_rows_in_the_api(app, api_as, subtests):
    w = world(app)
    api = api_as("acme.admin")
    for target in ("warehouse", "inventory"):
        with subtests.test(target=target):
            model, pk, _route, resource, _ = _target(w, target)
            before = snapshot(app, model, pk)
            got = api.get(f"/api/v1/{resource}/{pk}")
            assert got.status_code == 404
            assert str(pk) not in got.get_data(as_text=True)
            assert api.put(f"/api/v1/{resource}/{pk}", json=EDIT_PAYLOAD[target]).status_code == 404
            deleted = api.delete(f"/api/v1/{resource}/{pk}")
            # Inventory has no delete right for an Admin: 403 for every id, own or foreign.
            assert deleted.status_code == (404 if target == "warehouse" else 403)
            if target == "inventory":
                assert api.delete(f"/api/v1/inventory/{w['inv']['Acme Main']}").status_code == 403
            assert snapshot(app, model, pk) == before
    with subtests.test("users: no REST API to reach around the screens (FAB's security API is off)"):
        beta_user = w["user"]["beta.user"]
        before = snapshot(app, m.PortalUser, beta_user)
        assert api.get(f"/api/v1/security/users/{beta_user}").status_code == 404
        assert api.put(f"/api/v1/security/users/{beta_user}", json={"first_name": "X"}).status_code == 404
        assert api.delete(f"/api/v1/security/users/{beta_user}").status_code == 404
        created = api.post("/api/v1/security/users/", json={
            "username": "root2", "first_name": "R", "last_name": "R", "email": "root2@example.test",
            "password": "x" * 12, "roles": [w["role"]["Super Admin"]], "active": True})
        assert created.status_code == 404
        assert snapshot(app, m.PortalUser, beta_user) == before
        assert count(app, m.PortalUser, username="root2") == 0


def test_row_actions_are_scoped_and_need_the_csrf_token(app, client_as, subtests):
    """The ledger's "reverse" action: 404 on Beta's transaction for acme.admin; no token, no action."""
    from app.extensions import db

    w = world(app)
    with app.app_context():
        acme_txn = get_one(m.Transaction, to_warehouse_id=w["wh"]["Acme Main"]).id
        db.session.remove()
    c = client_as("acme.admin")
    token = csrf_token(c.get("/warehousemodelview/add").get_data(as_text=True))
    before = count(app, m.Transaction)
    with subtests.test("another organization's row"):
        single = c.post(f"/transactionmodelview/action/reverse/{w['beta_txn']}", data={"csrf_token": token})
        assert single.status_code == 404
        multi = c.post("/transactionmodelview/action_post",
                       data={"csrf_token": token, "action": "reverse", "rowid": str(w["beta_txn"])})
        assert multi.status_code == 404
        malformed = c.post("/transactionmodelview/action/reverse/not-an-id", data={"csrf_token": token})
        assert malformed.status_code == 404
        nothing_ticked = c.post("/transactionmodelview/action_post", data={"csrf_token": token, "action": "reverse"})
        assert nothing_ticked.status_code == 400
    with subtests.test("own row without the token"):
        assert c.post(f"/transactionmodelview/action/reverse/{acme_txn}").status_code == 400
        assert c.get(f"/transactionmodelview/action/reverse/{acme_txn}").status_code == 302
    assert count(app, m.Transaction) == before


def test_a_delete_needs_a_post_with_the_csrf_token(app, client_as):
    """A link (GET) or a forged cross-site POST without the token deletes nothing."""
    w = world(app)
    pk = w["wh"]["Acme Site"]
    c = client_as("acme.admin")
    assert c.get(f"/warehousemodelview/delete/{pk}").status_code == 302
    assert snapshot(app, m.Warehouse, pk) is not None
    assert c.post(f"/warehousemodelview/delete/{pk}").status_code == 400
    assert snapshot(app, m.Warehouse, pk) is not None
    token = csrf_token(c.get("/warehousemodelview/list/").get_data(as_text=True))
    assert c.post(f"/warehousemodelview/delete/{pk}", data={"csrf_token": token}).status_code == 302
    assert snapshot(app, m.Warehouse, pk) is None


# --- lists, dropdowns, /_info, counts ------------------------------------------------

def test_customer_admin_sees_only_own_rows_in_lists_counts_dropdowns_and_info(app, client_as, api_as, subtests):
    w = world(app)
    c = client_as("acme.admin")
    api = api_as("acme.admin")
    own_family = {"Acme Aqua", "Acme Supplies"}
    own_warehouses = {"Acme Main (Acme Aqua)", "Acme Site (Acme Aqua)"}

    with subtests.test("warehouse list, UI and API with count"):
        page = c.get("/warehousemodelview/list/")
        assert page.status_code == 200
        assert list_names(page.get_data(as_text=True), ALL_WAREHOUSES) == {"Acme Main", "Acme Site"}
        body = api.get("/api/v1/warehouse/").get_json()
        assert body["count"] == 2
        assert {row["name"] for row in body["result"]} == {"Acme Main", "Acme Site"}
        # The count ignores paging but not scoping.
        paged = api.get("/api/v1/warehouse/?q=(page:0,page_size:1)").get_json()
        assert paged["count"] == 2 and len(paged["result"]) == 1

    with subtests.test("counts and filters of other domains"):
        inv = api.get("/api/v1/inventory/").get_json()
        assert inv["count"] == 1
        assert {row["warehouse_id"] for row in inv["result"]} == {str(w["wh"]["Acme Main"])}
        # Filtering on another organization's warehouse finds nothing (not Beta's stock row).
        beta = api.get(f"/api/v1/inventory/?q=(filters:!((col:warehouse,opr:rel_o_m,value:'{w['wh']['Beta Main']}')))")
        assert beta.status_code == 200 and beta.get_json()["count"] == 0
        # Only the transfer into Acme Main touches Acme's warehouses.
        assert api.get("/api/v1/transaction/").get_json()["count"] == 1
        orgs = api.get("/api/v1/organization/").get_json()
        assert {r["name"] for r in orgs["result"]} == own_family
        machines = api.get("/api/v1/machine/").get_json()
        assert {r["serial_number"] for r in machines["result"]} == {"SN-ACME-1"}

    with subtests.test("add forms' related-field choices"):
        assert set(choices(c, "warehousemodelview", "add", "organization")) == own_family
        assert set(choices(c, "inventorymodelview", "add", "warehouse")) == own_warehouses
        assert set(choices(c, "users", "add", "organization")) == own_family
        user_form = c.get("/users/add").get_data(as_text=True)
        assert set(select_options(user_form, "roles").values()) == {"Admin", "User"}
        assert set(choices(c, "partusagemodelview", "add", "machine")) == {"Machine SN-ACME-1 (SN-ACME-1)"}

    with subtests.test("list search filters' choices"):
        html = c.get("/inventorymodelview/list/").get_data(as_text=True)
        assert "Acme Main (Acme Aqua)" in html
        assert "Beta Main" not in html and "Central (Oraseas EE)" not in html
        assert set(choices(c, "inventorymodelview", "search", "warehouse")) == own_warehouses

    with subtests.test("FAB's /_info related values"):
        info = api.get("/api/v1/warehouse/_info").get_json()
        assert api_values(info, "add_columns", "organization") == own_family
        assert api_values(info, "edit_columns", "organization") == own_family
        # The count FAB reports with the values is scoped as well.
        assert next(col for col in info["add_columns"] if col["name"] == "organization")["count"] == 2
        inv_info = api.get("/api/v1/inventory/_info").get_json()
        assert api_values(inv_info, "add_columns", "warehouse") == own_warehouses
        usage = api.get("/api/v1/part_usage/_info").get_json()
        assert api_values(usage, "add_columns", "machine") == {"Machine SN-ACME-1 (SN-ACME-1)"}


# --- writes land in the actor's own organization ---------------------------------------

def test_api_post_with_another_organizations_id_lands_in_own_organization(app, api_as):
    w = world(app)
    resp = api_as("acme.admin").post("/api/v1/warehouse/", json={
        "organization": str(w["org"]["Beta Fish"]), "name": "Payload Says Beta"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    created = snapshot(app, m.Warehouse, uuid.UUID(resp.get_json()["id"]))
    assert created["organization_id"] == w["org"]["Acme Aqua"]
    assert count(app, m.Warehouse, organization_id=w["org"]["Beta Fish"]) == 1  # only Beta Main


def test_form_post_lands_in_own_organization(app, client_as):
    w = world(app)
    c = client_as("acme.admin")
    token = csrf_token(c.get("/warehousemodelview/add").get_data(as_text=True))
    # A choice inside the family (the supplier) still lands in the admin's own organization.
    c.post("/warehousemodelview/add", data={"csrf_token": token, "organization": str(w["org"]["Acme Supplies"]),
                                            "name": "Form Says Supplier", "is_active": "y"})
    assert count(app, m.Warehouse, name="Form Says Supplier", organization_id=w["org"]["Acme Aqua"]) == 1
    # A forged choice outside it is refused by the form: nothing is created in Beta Fish.
    resp = c.post("/warehousemodelview/add", data={"csrf_token": token, "organization": str(w["org"]["Beta Fish"]),
                                                   "name": "Form Says Beta", "is_active": "y"})
    assert resp.status_code in (200, 302)
    assert count(app, m.Warehouse, organization_id=w["org"]["Beta Fish"]) == 1
    assert count(app, m.Warehouse, name="Form Says Beta", organization_id=w["org"]["Beta Fish"]) == 0


def _user_form(w, username, organization, *roles, **extra):
    first, last = {"acme.user": ("Acme", "Tester")}.get(username, ("Eve", "Tester"))
    return {"first_name": first, "last_name": last, "username": username, "email": f"{username}@example.test",
            "organization": str(w["org"][organization]), "roles": [str(w["role"][r]) for r in roles],
            "user_status": "active", "active": "y", **extra}


def test_customer_admin_cannot_grant_beyond_admin_and_user_or_move_users_on_the_forms(app, client_as, subtests):
    w = world(app)
    c = client_as("acme.admin")
    token = csrf_token(c.get("/users/add").get_data(as_text=True))
    acme_user = w["user"]["acme.user"]
    before = snapshot(app, m.PortalUser, acme_user)
    for role in ("Super Admin", "Auditor"):
        with subtests.test(grant=role):
            username = f"eve.{role[0].lower()}"
            c.post("/users/add", data={"csrf_token": token, **_user_form(
                w, username, "Acme Aqua", role, password="long-password-1", conf_password="long-password-1")})
            assert count(app, m.PortalUser, username=username) == 0
            c.post(f"/users/edit/{acme_user}",
                   data={"csrf_token": token, **_user_form(w, "acme.user", "Acme Aqua", "User", role)})
            assert snapshot(app, m.PortalUser, acme_user)["roles"] == ["User"]
    for target in ("Beta Fish", "Oraseas EE"):
        with subtests.test(move_to=target):
            c.post(f"/users/edit/{acme_user}",
                   data={"csrf_token": token, **_user_form(w, "acme.user", target, "User")})
            assert snapshot(app, m.PortalUser, acme_user)["organization_id"] == w["org"]["Acme Aqua"]
    # FAB's multiple select drops a forged choice and saves the rest: only its
    # "changed" stamp may move.
    stamps = {"changed_on", "changed_by_fk"}
    after = snapshot(app, m.PortalUser, acme_user)
    assert {k: v for k, v in after.items() if k not in stamps} == {k: v for k, v in before.items() if k not in stamps}


def test_api_put_cannot_move_a_warehouse_to_another_organization(app, api_as):
    w = world(app)
    pk = w["wh"]["Acme Site"]
    before = snapshot(app, m.Warehouse, pk)
    resp = api_as("acme.admin").put(f"/api/v1/warehouse/{pk}", json={"organization": str(w["org"]["Beta Fish"])})
    assert resp.status_code in (404, 422)
    assert "Beta Fish" not in resp.get_data(as_text=True)
    assert snapshot(app, m.Warehouse, pk) == before


def test_the_rules_refuse_out_of_scope_writes_whatever_the_path(app, subtests):
    """Below the forms and permissions: the session hooks refuse the write even when the objects are at hand."""
    from app.errors import DomainError, OutOfScope
    from app.extensions import db

    def attempt(username, change, error, match):
        with app.app_context():
            actor = get_one(m.PortalUser, username=username)
            with scoping.acting_as(actor):
                changed = change()  # keep the changed object referenced until the flush
                with pytest.raises(error, match=match):
                    db.session.flush()
            db.session.rollback()
            db.session.remove()
        return changed

    def grant(role):
        def change():
            user = get_one(m.PortalUser, username="acme.user")
            user.roles.append(get_one(fab_models.Role, name=role))
            return user
        return change

    def move_user():
        user = get_one(m.PortalUser, username="acme.user")
        user.organization = get_one(m.Organization, name="Beta Fish")
        return user

    def rename_warehouse():
        warehouse = get_one(m.Warehouse, name="Acme Main")
        warehouse.name = "Renamed by auditor"
        return warehouse

    with subtests.test("an admin grants Auditor"):
        attempt("acme.admin", grant("Auditor"), OutOfScope, "only the Admin and User roles")
    with subtests.test("an admin grants Super Admin"):
        # Also breaks "super admins only in Oraseas EE"; either rule may speak.
        attempt("acme.admin", grant("Super Admin"), DomainError, None)
    with subtests.test("an admin moves a user out"):
        attempt("acme.admin", move_user, OutOfScope, "your own organization")
    with subtests.test("an auditor writes"):
        attempt("auditor", rename_warehouse, OutOfScope, "Auditors")
    w = world(app)
    after = snapshot(app, m.PortalUser, w["user"]["acme.user"])
    assert after["roles"] == ["User"] and after["organization_id"] == w["org"]["Acme Aqua"]
    assert count(app, m.Warehouse, name="Acme Main") == 1


# --- staff who see everything, and the switcher ---------------------------------------

def test_staff_see_every_organization(app, client_as, api_as, subtests):
    for username in ("superadmin", "auditor"):
        with subtests.test(username=username):
            api = api_as(username)
            assert {r["name"] for r in api.get("/api/v1/warehouse/").get_json()["result"]} == ALL_WAREHOUSES
            assert api.get("/api/v1/organization/").get_json()["count"] == 5
            # the base data's 4 stock records; the transit location's CON-1 record (zero since its two
            # shipments were received) is no stock on hand, on the stock levels screen as in the API
            assert api.get("/api/v1/inventory/").get_json()["count"] == 4
            html = client_as(username).get("/warehousemodelview/list/").get_data(as_text=True)
            assert list_names(html, ALL_WAREHOUSES) == ALL_WAREHOUSES
    with subtests.test("super admin's add forms offer every organization and role"):
        c = client_as("superadmin")
        assert set(choices(c, "warehousemodelview", "add", "organization")) == ALL_ORGANIZATIONS
        roles = set(select_options(c.get("/users/add").get_data(as_text=True), "roles").values())
        assert {"Super Admin", "Auditor", "Admin", "User"} <= roles


def _switch(c, organization_id):
    page = c.get("/organization-switcher/")
    assert page.status_code == 200
    return c.post("/organization-switcher/", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                                   "organization_id": organization_id})


def test_switcher_narrows_lists_and_api_to_one_organization(app, client_as, subtests):
    w = world(app)
    for username in ("superadmin", "auditor"):
        with subtests.test(username=username):
            c = client_as(username)
            assert _switch(c, str(w["org"]["Acme Aqua"])).status_code == 302
            html = c.get("/warehousemodelview/list/").get_data(as_text=True)
            assert list_names(html, ALL_WAREHOUSES) == {"Acme Main", "Acme Site"}
            # The browser session's API calls follow the switcher too.
            assert c.get("/api/v1/warehouse/").get_json()["count"] == 2
            assert c.get(f"/api/v1/warehouse/{w['wh']['Beta Main']}").status_code == 404

            assert _switch(c, "").status_code == 302
            assert c.get("/api/v1/warehouse/").get_json()["count"] == 4
            html = c.get("/warehousemodelview/list/").get_data(as_text=True)
            assert list_names(html, ALL_WAREHOUSES) == ALL_WAREHOUSES
    with subtests.test("no CSRF token, no switch"):
        c = client_as("superadmin")
        c.post("/organization-switcher/", data={"organization_id": str(w["org"]["Acme Aqua"])})
        assert c.get("/api/v1/warehouse/").get_json()["count"] == 4


def test_customer_admin_cannot_use_the_switcher(app, client_as):
    w = world(app)
    c = client_as("acme.admin")
    assert c.get("/organization-switcher/").status_code == 403
    token = csrf_token(c.get("/warehousemodelview/add").get_data(as_text=True))
    resp = c.post("/organization-switcher/", data={"csrf_token": token, "organization_id": str(w["org"]["Beta Fish"])})
    assert resp.status_code == 403
    body = c.get("/api/v1/warehouse/").get_json()
    assert {r["name"] for r in body["result"]} == {"Acme Main", "Acme Site"}
    assert c.get(f"/api/v1/warehouse/{w['wh']['Beta Main']}").status_code == 404


# --- the Auditor changes nothing ---------------------------------------------------------

def test_auditor_changes_nothing_through_the_screens_or_the_api(app, client_as, api_as, subtests):
    w = world(app)
    pk = w["wh"]["Acme Main"]
    before = snapshot(app, m.Warehouse, pk)
    totals = count(app, m.Warehouse), count(app, m.Transaction)

    with subtests.test("screens"):
        c = client_as("auditor")
        token = csrf_token(c.get("/organization-switcher/").get_data(as_text=True))
        assert c.get("/warehousemodelview/add").status_code == 403
        added = c.post("/warehousemodelview/add", data={
            "csrf_token": token, "organization": str(w["org"]["Acme Aqua"]), "name": "Auditor Was Here",
            "is_active": "y"})
        edited = c.post(f"/warehousemodelview/edit/{pk}", data={
            "csrf_token": token, "name": "Renamed", "organization": str(w["org"]["Acme Aqua"])})
        deleted = c.post(f"/warehousemodelview/delete/{pk}", data={"csrf_token": token})
        user_edit = c.post(f"/users/edit/{w['user']['acme.user']}", data={"csrf_token": token, "first_name": "X"})
        for resp in (added, edited, deleted, user_edit):
            assert resp.status_code in (302, 403)

    with subtests.test("API"):
        api = api_as("auditor")
        assert api.post("/api/v1/warehouse/", json={"organization": str(w["org"]["Acme Aqua"]),
                                                    "name": "Auditor Was Here"}).status_code == 403
        assert api.put(f"/api/v1/warehouse/{pk}", json={"name": "Renamed"}).status_code == 403
        assert api.delete(f"/api/v1/warehouse/{pk}").status_code == 403
        assert api.post("/api/v1/transaction/", json={
            "transaction_type": "creation", "part": str(w["part"]["CON-1"]), "quantity": "1",
            "to_warehouse": str(pk)}).status_code == 403
        inv = w["inv"]["Acme Main"]
        assert api.put(f"/api/v1/inventory/{inv}", json={"minimum_stock_recommendation": "5"}).status_code == 403

    assert (count(app, m.Warehouse), count(app, m.Transaction)) == totals
    assert snapshot(app, m.Warehouse, pk) == before
    assert snapshot(app, m.PortalUser, w["user"]["acme.user"])["first_name"] == "Acme"


@pytest.mark.parametrize("count", [3, 150])
def test_visible_answers_the_actors_own_rows_among_many_keys(app, count):
    """``visible`` (the scope check of every write) asks with one array of keys on PostgreSQL
    above 100 keys, an IN list otherwise: the same answer either way."""
    from app.extensions import db

    from . import factories

    with app.app_context():
        admin, other = get_one(m.PortalUser, username="acme.admin"), get_one(m.PortalUser, username="superadmin")
        acme, central = get_one(m.Warehouse, name="Acme Main"), get_one(m.Warehouse, name="Central")
        part = get_one(m.Part, part_number="CON-1")
        with scoping.acting_as(scoping.actor_for(other)):
            mine = [factories.txn(m.TransactionType.creation, part, 1, admin, dest=acme) for _ in range(count)]
            theirs = [factories.txn(m.TransactionType.creation, part, 1, other, dest=central) for _ in range(count)]
            db.session.commit()
        keys = {t.id for t in mine + theirs} | {uuid.uuid4()}
        with scoping.acting_as(scoping.actor_for(admin)):
            assert scoping.visible(m.Transaction, keys, db.session) == {t.id for t in mine}
        db.session.remove()
