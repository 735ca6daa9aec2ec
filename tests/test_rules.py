"""The business rules of issue 2, on every write path.

Each rule is tried three ways, and each refusal must name the rule, show no
database error text and leave nothing written:

- the ORM, as commands and workflows write (``ctx`` session; ``flush_checked``
  where the database constraint is the last word);
- the generated FAB forms (``client_as``: real login, CSRF token);
- the REST API (``api_as``: JWT).

Users have no REST resource (issue 2 lists the API resources; users are not
among them), so the user rules are tried on the ORM and the form, and a test
proves that no user API can go around them.

The last section covers ``config.py``: the production secret key, the
development key kept in the instance folder, ``DATABASE_URL`` normalisation.
"""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

import config as config_module
from app import models as m
from app.errors import LimitReached, RuleViolation, flush_checked, translate_db_error
from app.extensions import db
from app.scoping import acting_as

from . import factories
from .conftest import csrf_token, get_one

ROOT = Path(__file__).resolve().parent.parent

#: Fragments of database driver text that must never reach a user.
DB_TEXT = ("unique constraint failed", "duplicate key", "integrityerror", "psycopg", "sqlalchemy",
           "check constraint failed", "violates", "not null constraint", "sqlite3", "traceback",
           "database exception", "[sql:")

SINGLETON = "There can be only one {} organization."
SUPPLIER_PARENT = "A supplier organization must have a parent organization."
SUPER_ADMIN_HOME = "Super admins must belong to the Oraseas EE organization."
MACHINE_OWNER = "Machines can be owned only by customer organizations."
MACHINE_REGISTRAR = "Only a Super Admin registers new machines."
WAREHOUSE_NAME = "Warehouse names must be unique within an organization."
PART_NUMBER = "Part numbers must be unique."
SERIAL_NUMBER = "Machine serial numbers must be unique."
KEEP_ADMIN = "Each organization must keep at least one active admin"

CUSTOMERS = m.Organization.organization_type == m.OrganizationType.customer
#: A transit location is no warehouse of the seed's count (``app.rules.limits``); the
#: base data has one (Oraseas EE's, from its two shipments).
REAL_WAREHOUSES = m.Warehouse.is_transit.is_(False)


# --- helpers -------------------------------------------------------------------


def assert_no_db_text(text: str) -> None:
    lowered = text.lower()
    leaked = [fragment for fragment in DB_TEXT if fragment in lowered]
    assert not leaked, f"database error text shown to the user: {leaked}"


def count(model, *where) -> int:
    """Committed rows of ``model``'s table, read on a fresh connection (unscoped)."""
    table = model.__table__
    with db.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()


@pytest.fixture
def rows(app):
    """``rows(Model, *criteria)``: committed rows, from anywhere in the test."""

    def _rows(model, *where):
        with app.app_context():
            return count(model, *where)

    return _rows


@pytest.fixture
def ids(app):
    """Ids of the base data by name: ``ids.org("Acme Aqua")``, ``ids.user("acme.admin")`` ..."""

    class Ids:
        @staticmethod
        def _one(model, **where):
            with app.app_context():
                return str(get_one(model, **where).id)

        def org(self, name):
            return self._one(m.Organization, name=name)

        def user(self, username):
            return self._one(m.PortalUser, username=username)

        def role(self, name):
            from flask_appbuilder.security.sqla.models import Role

            return self._one(Role, name=name)

        def warehouse(self, name, organization="Acme Aqua"):
            return self._one(m.Warehouse, name=name, organization_id=uuid.UUID(self.org(organization)))

        def machine(self, serial):
            return self._one(m.Machine, serial_number=serial)

    return Ids()


def submit(client, url: str, data: dict, form_url: str | None = None) -> str:
    """Post a FAB form the way a browser does (CSRF token of the form page); the page shown after."""
    page = client.get(form_url or url)
    assert page.status_code == 200, f"{form_url or url} answered {page.status_code}"
    resp = client.post(url, data={**data, "csrf_token": csrf_token(page.get_data(as_text=True))},
                       follow_redirects=True)
    assert resp.status_code == 200, resp.status_code
    text = resp.get_data(as_text=True)
    assert_no_db_text(text)
    return text


def refused(resp, message: str) -> None:
    """An API answer that refuses a write with ``message`` (422) and no database text."""
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422, (resp.status_code, body)
    assert message in str(resp.get_json()["message"]), body
    assert_no_db_text(body)


def user_form(username: str, **changes) -> dict:
    """The edit form of an existing user as a browser would send it, with ``changes``."""
    user = get_one(m.PortalUser, username=username)
    data = {
        "first_name": user.first_name, "last_name": user.last_name, "username": user.username,
        "email": user.email, "organization": str(user.organization_id),
        "roles": [str(r.id) for r in user.roles], "user_status": user.user_status.value,
    }
    if user.active:
        data["active"] = "y"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def raw_insert_organization(conn, name: str, kind: str, parent_id: uuid.UUID | None = None) -> None:
    """INSERT straight into ``organizations``: no ORM, no session hooks."""
    dialect = conn.dialect.name

    def key(value):
        if value is None:
            return None
        return value.hex if dialect == "sqlite" else str(value)

    conn.execute(
        sa.text(
            "INSERT INTO organizations (id, name, organization_type, parent_organization_id, is_active,"
            " created_at, updated_at) VALUES (:id, :name, :kind, :parent, :active,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ),
        {"id": key(uuid.uuid4()), "name": name, "kind": kind, "parent": key(parent_id), "active": True},
    )


def refuse(ctx, match: str | None, error=RuleViolation, checked: bool = False) -> Exception:
    """Commit (or ``flush_checked``) the pending change, expecting ``error`` naming the rule; roll back."""
    with pytest.raises(error, match=match) as caught:
        if checked:
            flush_checked(ctx)
        else:
            ctx.commit()
    ctx.rollback()
    assert_no_db_text(str(caught.value))
    return caught.value


def org(name):
    return get_one(m.Organization, name=name)


def _role(name):
    from flask import current_app

    return current_app.appbuilder.sm.find_role(name)


# --- one Oraseas EE, one BossAqua ------------------------------------------------

SINGLETONS = [(m.OrganizationType.oraseas_ee, "Oraseas EE"), (m.OrganizationType.bossaqua, "BossAqua")]


def test_second_singleton_organization_is_refused_on_the_orm(ctx):
    before = count(m.Organization)
    for kind, label in SINGLETONS:
        # a new one ...
        ctx.add(m.Organization(name=f"Another {label}", organization_type=kind))
        refuse(ctx, SINGLETON.format(label))
        # ... or a customer changing type
        org("Acme Aqua").organization_type = kind
        refuse(ctx, SINGLETON.format(label))
        assert count(m.Organization, m.Organization.organization_type == kind) == 1
    assert count(m.Organization) == before
    assert count(m.Organization, m.Organization.name == "Acme Aqua", CUSTOMERS) == 1
    # Two pending twins are caught too (neither is in the database yet).
    ctx.execute(sa.delete(m.Organization.__table__).where(m.Organization.name == "BossAqua"))
    ctx.add_all([m.Organization(name="Boss One", organization_type=m.OrganizationType.bossaqua),
                 m.Organization(name="Boss Two", organization_type=m.OrganizationType.bossaqua)])
    refuse(ctx, SINGLETON.format("BossAqua"))
    assert count(m.Organization) == before


def check_singletons_on_the_form(client_as, rows, ids):
    c = client_as("superadmin")
    before = rows(m.Organization)
    for kind, label in SINGLETONS:
        page = submit(c, "/organizationmodelview/add",
                      {"name": f"Another {label}", "organization_type": kind.value, "is_active": "y"})
        assert SINGLETON.format(label) in page
        page = submit(c, f"/organizationmodelview/edit/{ids.org('Beta Fish')}",
                      {"name": "Beta Fish", "organization_type": kind.value, "is_active": "y"})
        assert SINGLETON.format(label) in page
        assert rows(m.Organization, m.Organization.organization_type == kind) == 1
    assert rows(m.Organization) == before


def check_singletons_on_the_api(api_as, rows, ids):
    api = api_as("superadmin")
    before = rows(m.Organization)
    for kind, label in SINGLETONS:
        refused(api.post("/api/v1/organization/", json={"name": f"Another {label}", "organization_type": kind.value}),
                SINGLETON.format(label))
        refused(api.put(f"/api/v1/organization/{ids.org('Beta Fish')}", json={"organization_type": kind.value}),
                SINGLETON.format(label))
        assert rows(m.Organization, m.Organization.organization_type == kind) == 1
    assert rows(m.Organization) == before


def test_second_singleton_organization_is_refused_on_the_form_and_api(client_as, api_as, rows, ids):
    check_singletons_on_the_form(client_as, rows, ids)
    check_singletons_on_the_api(api_as, rows, ids)


def check_singleton_index_without_the_orm(ctx):
    """``uq_organizations_singleton_type`` holds even when the ORM hooks are bypassed (raw SQL)."""
    engine = ctx.get_bind()
    index = {ix["name"]: ix for ix in sa.inspect(engine).get_indexes("organizations")}["uq_organizations_singleton_type"]
    assert index["unique"] and index["column_names"] == ["organization_type"]
    ctx.rollback()  # SQLite: a session's transaction holds the write lock
    # The statement is fine for types outside the index (it is partial) ...
    with engine.begin() as conn:
        raw_insert_organization(conn, "Raw Customer One", "customer")
        raw_insert_organization(conn, "Raw Customer Two", "customer")
    assert count(m.Organization, m.Organization.name.like("Raw Customer%")) == 2
    # ... and refused by the database for a second singleton of either type.
    for kind in ("oraseas_ee", "bossaqua"):
        with pytest.raises(IntegrityError) as caught:
            with engine.begin() as conn:
                raw_insert_organization(conn, f"Raw {kind}", kind)
        if engine.dialect.name == "postgresql":
            assert "uq_organizations_singleton_type" in str(caught.value)
        assert count(m.Organization, m.Organization.organization_type == kind) == 1
        # The database's refusal is translated into the rule, without its text.
        assert str(translate_db_error(caught.value)) == \
            "There can be only one Oraseas EE and one BossAqua organization."


# --- suppliers have a parent -----------------------------------------------------


def test_supplier_without_parent_is_refused_on_the_orm(ctx):
    before = count(m.Organization)
    ctx.add(m.Organization(name="Loose Supplier", organization_type=m.OrganizationType.supplier))
    refuse(ctx, SUPPLIER_PARENT)
    org("Acme Supplies").parent_organization = None  # the relationship changes, the column not yet
    refuse(ctx, SUPPLIER_PARENT)
    org("Acme Supplies").parent_organization_id = None
    refuse(ctx, SUPPLIER_PARENT)
    org("Beta Fish").organization_type = m.OrganizationType.supplier
    refuse(ctx, SUPPLIER_PARENT)
    assert count(m.Organization) == before
    assert count(m.Organization, m.Organization.organization_type == m.OrganizationType.supplier,
                 m.Organization.parent_organization_id.is_(None)) == 0
    # With a parent it is accepted.
    ctx.add(m.Organization(name="Acme Filters", organization_type=m.OrganizationType.supplier,
                           parent_organization=org("Acme Aqua")))
    ctx.commit()
    assert count(m.Organization, m.Organization.name == "Acme Filters") == 1


def check_supplier_parent_on_the_form(client_as, rows, ids):
    c = client_as("superadmin")
    before = rows(m.Organization)
    page = submit(c, "/organizationmodelview/add",
                  {"name": "Loose Supplier", "organization_type": "supplier", "is_active": "y"})
    assert SUPPLIER_PARENT in page
    page = submit(c, f"/organizationmodelview/edit/{ids.org('Acme Supplies')}",
                  {"name": "Acme Supplies", "organization_type": "supplier", "is_active": "y"})
    assert SUPPLIER_PARENT in page
    assert rows(m.Organization) == before
    assert rows(m.Organization, m.Organization.parent_organization_id.is_(None),
                m.Organization.name == "Acme Supplies") == 0


def check_supplier_parent_on_the_api(api_as, rows, ids):
    api = api_as("superadmin")
    before = rows(m.Organization)
    refused(api.post("/api/v1/organization/", json={"name": "Loose Supplier", "organization_type": "supplier"}),
            SUPPLIER_PARENT)
    refused(api.put(f"/api/v1/organization/{ids.org('Acme Supplies')}", json={"parent_organization": None}),
            SUPPLIER_PARENT)
    assert rows(m.Organization) == before
    assert rows(m.Organization, m.Organization.parent_organization_id.is_(None),
                m.Organization.name == "Acme Supplies") == 0


def test_supplier_without_parent_is_refused_on_the_form_and_api(client_as, api_as, rows, ids):
    check_supplier_parent_on_the_form(client_as, rows, ids)
    check_supplier_parent_on_the_api(api_as, rows, ids)


def check_supplier_constraint_without_the_orm(ctx):
    engine = ctx.get_bind()
    acme_id = org("Acme Aqua").id
    ctx.rollback()  # SQLite: the session's transaction holds the write lock
    with engine.begin() as conn:
        raw_insert_organization(conn, "Raw Supplier With Parent", "supplier", acme_id)
    with pytest.raises(IntegrityError) as caught:
        with engine.begin() as conn:
            raw_insert_organization(conn, "Raw Supplier", "supplier")
    assert "supplier_must_have_parent" in str(caught.value)
    assert count(m.Organization, m.Organization.name.like("Raw Supplier%")) == 1
    assert str(translate_db_error(caught.value)) == SUPPLIER_PARENT


def test_database_constraints_hold_without_the_orm(ctx):
    """Raw SQL, no ORM hooks: the partial unique index and the supplier CHECK still refuse."""
    check_singleton_index_without_the_orm(ctx)
    check_supplier_constraint_without_the_orm(ctx)


# --- super admins only in Oraseas EE ----------------------------------------------


def test_super_admin_outside_oraseas_is_refused_on_the_orm(ctx):
    before = count(m.PortalUser)
    factories.user("acme.root", org("Acme Aqua"), "Super Admin")
    refuse(ctx, SUPER_ADMIN_HOME)
    assert count(m.PortalUser) == before
    # Moving the Super Admin, by relationship or by column (its relationship already loaded).
    get_one(m.PortalUser, username="superadmin").organization = org("Acme Aqua")
    refuse(ctx, SUPER_ADMIN_HOME)
    root, beta_id = get_one(m.PortalUser, username="superadmin"), org("Beta Fish").id
    assert root.organization.name == "Oraseas EE"
    root.organization_id = beta_id
    refuse(ctx, SUPER_ADMIN_HOME)
    # Granting the role to a customer's user.
    get_one(m.PortalUser, username="acme.user").roles = [_role("Super Admin")]
    refuse(ctx, SUPER_ADMIN_HOME)
    assert get_one(m.PortalUser, username="superadmin").organization.name == "Oraseas EE"
    assert get_one(m.PortalUser, username="acme.user").role_names == {"User"}
    # In Oraseas EE a second Super Admin is fine.
    factories.user("second.root", org("Oraseas EE"), "Super Admin")
    ctx.commit()
    assert count(m.PortalUser, m.PortalUser.username == "second.root") == 1


def test_super_admin_outside_oraseas_is_refused_on_the_form(app, client_as, api_as, rows, ids):
    check_no_user_api_goes_around_the_user_rules(api_as, rows, ids)
    c = client_as("superadmin")
    before = rows(m.PortalUser)
    acme_id, super_admin_role = ids.org("Acme Aqua"), ids.role("Super Admin")
    page = submit(c, "/users/add", {
        "first_name": "Acme", "last_name": "Root", "username": "acme.root", "email": "acme.root@example.test",
        "organization": acme_id, "roles": [super_admin_role], "user_status": "active",
        "active": "y", "password": "Another-pass-1", "conf_password": "Another-pass-1"})
    assert SUPER_ADMIN_HOME in page
    assert rows(m.PortalUser) == before
    # Moving the Super Admin into a customer organization, and granting the role there.
    with app.app_context():
        move = user_form("superadmin", organization=acme_id)
        grant = user_form("acme.user", roles=[super_admin_role])
    assert SUPER_ADMIN_HOME in submit(c, f"/users/edit/{ids.user('superadmin')}", move)
    assert SUPER_ADMIN_HOME in submit(c, f"/users/edit/{ids.user('acme.user')}", grant)
    with app.app_context():
        assert get_one(m.PortalUser, username="superadmin").organization.name == "Oraseas EE"
        assert get_one(m.PortalUser, username="acme.user").role_names == {"User"}


def check_no_user_api_goes_around_the_user_rules(api_as, rows, ids):
    """Users are written only through the forms and the ORM: there is no user REST resource."""
    api = api_as("superadmin")
    before = rows(m.PortalUser)
    body = {"first_name": "Acme", "last_name": "Root", "username": "acme.root", "email": "acme.root@example.test",
            "organization": ids.org("Acme Aqua"), "roles": [ids.role("Super Admin")], "password": "x-Pass-123"}
    for url in ("/api/v1/user/", "/api/v1/security/users/", "/api/v1/portaluser/"):
        assert api.post(url, json=body).status_code in (404, 405), url
    assert rows(m.PortalUser) == before


# --- machines: customers only, registered by Super Admin ------------------------------


def test_machine_of_a_non_customer_is_refused_on_the_orm(ctx):
    for owner in ("Oraseas EE", "BossAqua", "Acme Supplies"):
        factories.machine(org(owner), "SN-NEW-1")
        refuse(ctx, MACHINE_OWNER)
    assert count(m.Machine) == 2
    # Moving a machine, by relationship or by column (its relationship already loaded).
    get_one(m.Machine, serial_number="SN-ACME-1").customer_organization = org("Acme Supplies")
    refuse(ctx, MACHINE_OWNER)
    machine, oraseas_id = get_one(m.Machine, serial_number="SN-ACME-1"), org("Oraseas EE").id
    assert machine.customer_organization.name == "Acme Aqua"
    machine.customer_organization_id = oraseas_id
    refuse(ctx, MACHINE_OWNER)
    # seed 001 machine_customer_only: the owner of a machine cannot stop being a customer.
    beta, acme = org("Beta Fish"), org("Acme Aqua")
    beta.organization_type, beta.parent_organization = m.OrganizationType.supplier, acme
    refuse(ctx, MACHINE_OWNER)
    assert get_one(m.Machine, serial_number="SN-ACME-1").customer_organization.name == "Acme Aqua"
    assert org("Beta Fish").organization_type == m.OrganizationType.customer
    # A customer without machines may become a supplier; a customer gets new machines.
    gamma = factories.organization("Gamma Farm")
    ctx.commit()
    acme = org("Acme Aqua")
    gamma.organization_type, gamma.parent_organization = m.OrganizationType.supplier, acme
    factories.machine(acme, "SN-NEW-1")
    ctx.commit()
    assert count(m.Organization, m.Organization.name == "Gamma Farm",
                 m.Organization.organization_type == m.OrganizationType.supplier) == 1
    assert count(m.Machine) == 3


def test_only_a_super_admin_registers_machines_on_the_orm(ctx):
    for username in ("acme.admin", "oraseas.admin"):
        with acting_as(get_one(m.PortalUser, username=username)):
            factories.machine(org("Acme Aqua"), "SN-NEW-1")
            refuse(ctx, MACHINE_REGISTRAR)
    assert count(m.Machine, m.Machine.serial_number == "SN-NEW-1") == 0
    with acting_as(get_one(m.PortalUser, username="superadmin")):
        factories.machine(org("Acme Aqua"), "SN-NEW-1")
        ctx.commit()
    assert count(m.Machine, m.Machine.serial_number == "SN-NEW-1") == 1


def _machine_form(owner_id: str, serial: str = "SN-NEW-1") -> dict:
    return {"customer_organization": owner_id, "name": "New machine", "serial_number": serial,
            "model_type": "AutoBoss V4.0", "status": "active"}


def check_machine_owner_on_the_form(app, client_as, rows, ids):
    c = client_as("superadmin")
    page = submit(c, "/machinemodelview/add", _machine_form(ids.org("Acme Supplies")))
    assert MACHINE_OWNER in page
    assert rows(m.Machine, m.Machine.serial_number == "SN-NEW-1") == 0
    page = submit(c, f"/machinemodelview/edit/{ids.machine('SN-ACME-1')}",
                  _machine_form(ids.org("BossAqua"), "SN-ACME-1"))
    assert MACHINE_OWNER in page
    with app.app_context():
        assert get_one(m.Machine, serial_number="SN-ACME-1").customer_organization.name == "Acme Aqua"
    # The same form for a customer is accepted.
    submit(c, "/machinemodelview/add", _machine_form(ids.org("Beta Fish"), "SN-FORM-1"))
    assert rows(m.Machine, m.Machine.serial_number == "SN-FORM-1") == 1


def check_machine_owner_on_the_api(api_as, rows, ids):
    api = api_as("superadmin")
    refused(api.post("/api/v1/machine/", json=_machine_form(ids.org("Oraseas EE"))), MACHINE_OWNER)
    refused(api.put(f"/api/v1/machine/{ids.machine('SN-BETA-1')}",
                    json={"customer_organization": ids.org("Acme Supplies")}), MACHINE_OWNER)
    # Acme's admin may edit Acme's machines and sees Acme Supplies, but never moves a row out of
    # its own organization (not even to its supplier): out of scope, so 404.
    moved = api_as("acme.admin").put(f"/api/v1/machine/{ids.machine('SN-ACME-1')}",
                                     json={"customer_organization": ids.org("Acme Supplies")})
    assert moved.status_code == 404, moved.get_data(as_text=True)
    assert rows(m.Machine, m.Machine.serial_number == "SN-NEW-1") == 0
    assert rows(m.Machine, m.Machine.serial_number == "SN-BETA-1",
                m.Machine.customer_organization_id == uuid.UUID(ids.org("Beta Fish"))) == 1
    assert rows(m.Machine, m.Machine.serial_number == "SN-ACME-1",
                m.Machine.customer_organization_id == uuid.UUID(ids.org("Acme Aqua"))) == 1


def test_machine_of_a_non_customer_is_refused_on_the_form_and_api(app, client_as, api_as, rows, ids):
    check_machine_owner_on_the_form(app, client_as, rows, ids)
    check_machine_owner_on_the_api(api_as, rows, ids)


def test_only_a_super_admin_registers_machines_on_the_form_and_api(client_as, api_as, rows, ids):
    for username in ("acme.admin", "oraseas.admin"):
        assert api_as(username).post("/api/v1/machine/", json=_machine_form(ids.org("Acme Aqua"))).status_code == 403
        c = client_as(username)
        token = csrf_token(c.get("/warehousemodelview/add").get_data(as_text=True))
        resp = c.post("/machinemodelview/add", data={**_machine_form(ids.org("Acme Aqua")), "csrf_token": token})
        assert resp.status_code == 403
        assert rows(m.Machine, m.Machine.serial_number == "SN-NEW-1") == 0
    resp = api_as("superadmin").post("/api/v1/machine/", json=_machine_form(ids.org("Acme Aqua")))
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert rows(m.Machine, m.Machine.serial_number == "SN-NEW-1") == 1


# --- warehouse names unique per organization ------------------------------------------


def test_duplicate_warehouse_name_in_one_organization_is_refused_on_the_orm(ctx):
    factories.warehouse(org("Acme Aqua"), "Acme Main")
    refuse(ctx, WAREHOUSE_NAME, checked=True)
    get_one(m.Warehouse, name="Acme Site").name = "Acme Main"
    refuse(ctx, WAREHOUSE_NAME, checked=True)
    assert count(m.Warehouse, m.Warehouse.name == "Acme Main") == 1
    # The same name in another organization is fine.
    factories.warehouse(org("Beta Fish"), "Acme Main")
    ctx.commit()
    assert count(m.Warehouse, m.Warehouse.name == "Acme Main") == 2


def _warehouse_form(org_id: str, name: str) -> dict:
    return {"organization": org_id, "name": name, "location": "Pier 4", "is_active": "y"}


def check_warehouse_names_on_the_form(client_as, rows, ids):
    for username in ("superadmin", "acme.admin"):
        c = client_as(username)
        page = submit(c, "/warehousemodelview/add", _warehouse_form(ids.org("Acme Aqua"), "Acme Main"))
        assert WAREHOUSE_NAME in page
        # Renaming Acme Site to Acme Main is the same collision.
        page = submit(c, f"/warehousemodelview/edit/{ids.warehouse('Acme Site')}",
                      _warehouse_form(ids.org("Acme Aqua"), "Acme Main"))
        assert WAREHOUSE_NAME in page
        assert rows(m.Warehouse, m.Warehouse.name == "Acme Main") == 1
        assert rows(m.Warehouse, m.Warehouse.name == "Acme Site") == 1
    # The same name in another organization is accepted.
    submit(client_as("beta.admin"), "/warehousemodelview/add", _warehouse_form(ids.org("Beta Fish"), "Acme Site"))
    assert rows(m.Warehouse, m.Warehouse.name == "Acme Site") == 2
    assert rows(m.Warehouse, m.Warehouse.name == "Acme Site",
                m.Warehouse.organization_id == uuid.UUID(ids.org("Beta Fish"))) == 1


def check_warehouse_names_on_the_api(api_as, rows, ids):
    api = api_as("acme.admin")
    refused(api.post("/api/v1/warehouse/", json={"organization": ids.org("Acme Aqua"), "name": "Acme Main"}),
            WAREHOUSE_NAME)
    refused(api.put(f"/api/v1/warehouse/{ids.warehouse('Acme Site')}", json={"name": "Acme Main"}),
            WAREHOUSE_NAME)
    assert rows(m.Warehouse, m.Warehouse.name == "Acme Main") == 1
    resp = api_as("beta.admin").post("/api/v1/warehouse/", json={"organization": ids.org("Beta Fish"),
                                                                 "name": "Acme Main"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert rows(m.Warehouse, m.Warehouse.name == "Acme Main") == 2


def test_duplicate_warehouse_name_is_refused_on_the_form_and_api(client_as, api_as, rows, ids):
    check_warehouse_names_on_the_form(client_as, rows, ids)
    check_warehouse_names_on_the_api(api_as, rows, ids)


# --- a warehouse with stock history keeps its organization (issue 15) -------------------

WAREHOUSE_OWNER = "has stock history and stays with its organization"


def test_a_warehouse_with_stock_history_keeps_its_organization_on_the_orm(ctx):
    acme_main, acme_site = get_one(m.Warehouse, name="Acme Main"), get_one(m.Warehouse, name="Acme Site")
    acme_main.organization_id = org("Beta Fish").id
    refuse(ctx, WAREHOUSE_OWNER)
    get_one(m.Warehouse, name="Acme Main").organization = org("Beta Fish")
    refuse(ctx, WAREHOUSE_OWNER)
    assert get_one(m.Warehouse, name="Acme Main").organization_id == org("Acme Aqua").id
    # A warehouse nothing has moved through may still change hands.
    acme_site.organization = org("Beta Fish")
    ctx.commit()
    assert get_one(m.Warehouse, name="Acme Site").organization_id == org("Beta Fish").id


def test_a_warehouse_with_stock_history_keeps_its_organization_on_the_form_and_api(client_as, api_as, rows, ids):
    acme_main = ids.warehouse("Acme Main")
    page = submit(client_as("superadmin"), f"/warehousemodelview/edit/{acme_main}",
                  _warehouse_form(ids.org("Beta Fish"), "Acme Main"))
    assert WAREHOUSE_OWNER in page
    refused(api_as("superadmin").put(f"/api/v1/warehouse/{acme_main}", json={"organization": ids.org("Beta Fish")}),
            WAREHOUSE_OWNER)
    assert rows(m.Warehouse, m.Warehouse.organization_id == uuid.UUID(ids.org("Acme Aqua")),
                m.Warehouse.name == "Acme Main") == 1


# --- part numbers and serial numbers unique (normalised) ------------------------------


def test_part_and_serial_numbers_are_normalised_and_unique_on_the_orm(ctx):
    for collision in (" con-1 ", "CON-1", "con-1", "Con-1\t"):
        factories.part(collision)
        refuse(ctx, PART_NUMBER, checked=True)
    get_one(m.Part, part_number="BULK-1").part_number = " con-1"
    refuse(ctx, PART_NUMBER, checked=True)
    for collision in (" sn-beta-1 ", "SN-BETA-1"):
        factories.machine(org("Acme Aqua"), collision)
        refuse(ctx, SERIAL_NUMBER, checked=True)
    assert count(m.Part) == 2 and count(m.Machine) == 2
    part, machine = factories.part("  new-9 "), factories.machine(org("Acme Aqua"), " sn-acme-2 ")
    ctx.commit()
    assert (part.part_number, machine.serial_number) == ("NEW-9", "SN-ACME-2")


def _part_form(number: str) -> dict:
    return {"part_number": number, "name": "Filter", "part_type": "consumable", "unit_of_measure": "pieces",
            "unit_price": "12.50"}


def check_part_and_serial_numbers_on_the_form(client_as, rows, ids):
    c = client_as("superadmin")
    for number in (" con-1 ", "CON-1"):
        assert PART_NUMBER in submit(c, "/partmodelview/add", _part_form(number))
    for serial in (" sn-beta-1 ", "SN-BETA-1"):
        assert SERIAL_NUMBER in submit(c, "/machinemodelview/add", _machine_form(ids.org("Acme Aqua"), serial))
    assert rows(m.Part) == 2 and rows(m.Machine) == 2
    # A new part from the form (not proprietary: the check box left unticked) is stored normalised.
    submit(c, "/partmodelview/add", _part_form(" form-9 "))
    assert rows(m.Part, m.Part.part_number == "FORM-9", m.Part.is_proprietary.is_(False)) == 1


def check_part_and_serial_numbers_on_the_api(api_as, app, rows, ids):
    api = api_as("superadmin")
    parts, machines = rows(m.Part), rows(m.Machine)
    refused(api.post("/api/v1/part/", json=_part_form(" con-1 ")), PART_NUMBER)
    refused(api.post("/api/v1/part/", json=_part_form("CON-1")), PART_NUMBER)
    with app.app_context():
        bulk_id = str(get_one(m.Part, part_number="BULK-1").id)
    refused(api.put(f"/api/v1/part/{bulk_id}", json={"part_number": "con-1"}), PART_NUMBER)
    refused(api.post("/api/v1/machine/", json=_machine_form(ids.org("Acme Aqua"), " sn-beta-1 ")), SERIAL_NUMBER)
    refused(api.put(f"/api/v1/machine/{ids.machine('SN-ACME-1')}", json={"serial_number": "sn-beta-1"}),
            SERIAL_NUMBER)
    assert (rows(m.Part), rows(m.Machine)) == (parts, machines)
    assert rows(m.Part, m.Part.part_number == "BULK-1") == 1
    assert rows(m.Machine, m.Machine.serial_number == "SN-ACME-1") == 1
    resp = api.post("/api/v1/part/", json=_part_form(" api-9 "))
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert rows(m.Part, m.Part.part_number == "API-9") == 1


def test_duplicate_part_and_serial_numbers_are_refused_on_the_form_and_api(app, client_as, api_as, rows, ids):
    check_part_and_serial_numbers_on_the_form(client_as, rows, ids)
    check_part_and_serial_numbers_on_the_api(api_as, app, rows, ids)


# --- each organization keeps at least one admin ---------------------------------------

LOSE_ADMIN = ("delete", "deactivate", "demote", "move")


def _lose_admin(ctx, user, how):
    if how == "delete":
        ctx.delete(user)
    elif how == "deactivate":
        user.active = False
    elif how == "demote":
        user.roles = [_role("User")]
    elif how == "move":
        user.organization = org("Beta Fish")


def _acme_admins() -> list[str]:
    users = db.session.execute(sa.select(m.PortalUser).where(m.PortalUser.organization_id == org("Acme Aqua").id))
    return sorted(u.username for u in users.scalars() if "Admin" in u.role_names and u.active)


def check_last_admin_kept_on_the_orm(ctx):
    for how in LOSE_ADMIN:
        _lose_admin(ctx, get_one(m.PortalUser, username="acme.admin"), how)
        error = refuse(ctx, KEEP_ADMIN)
        assert "Acme Aqua" in str(error), how
        assert _acme_admins() == ["acme.admin"], how
    # An inactive second admin does not count.
    second = get_one(m.PortalUser, username="acme.user")
    second.roles, second.active = [_role("Admin")], False
    ctx.commit()
    get_one(m.PortalUser, username="acme.admin").active = False
    refuse(ctx, KEEP_ADMIN)
    assert _acme_admins() == ["acme.admin"]


def check_an_admin_can_go_on_the_orm(ctx):
    for number, how in enumerate(LOSE_ADMIN):
        extra = factories.user(f"acme.admin{number}", org("Acme Aqua"), "Admin")
        ctx.commit()
        assert _acme_admins() == ["acme.admin", extra.username]
        _lose_admin(ctx, extra, how)
        ctx.commit()
        assert _acme_admins() == ["acme.admin"], how


def test_each_organization_keeps_an_admin_on_the_orm(ctx):
    check_last_admin_kept_on_the_orm(ctx)
    check_an_admin_can_go_on_the_orm(ctx)


def check_last_admin_kept_on_the_form(app, client_as, rows, ids):
    target = ids.user("acme.admin")
    user_role, beta = ids.role("User"), ids.org("Beta Fish")
    with app.app_context():
        forms = {
            "deactivate": user_form("acme.admin", active=None),
            "demote": user_form("acme.admin", roles=[user_role]),
            "move": user_form("acme.admin", organization=beta),
        }
    superadmin = client_as("superadmin")
    assert KEEP_ADMIN in submit(superadmin, f"/users/delete/{target}", {}, form_url="/users/list/")
    for how, data in forms.items():
        assert KEEP_ADMIN in submit(superadmin, f"/users/edit/{target}", data), how
    # Acme's admin deactivating or demoting itself is refused the same way.
    own = client_as("acme.admin")
    for how in ("deactivate", "demote"):
        assert KEEP_ADMIN in submit(own, f"/users/edit/{target}", forms[how]), how
    with app.app_context():
        admin = get_one(m.PortalUser, username="acme.admin")
        assert admin.active and admin.role_names == {"Admin"} and admin.organization.name == "Acme Aqua"


def check_an_admin_can_go_on_the_form(app, client_as, rows, ids):
    admin_role, target = ids.role("Admin"), ids.user("acme.admin")
    with app.app_context():
        promote = user_form("acme.user", roles=[admin_role])
        deactivate = user_form("acme.admin", active=None)
    c = client_as("superadmin")
    submit(c, f"/users/edit/{ids.user('acme.user')}", promote)
    submit(c, f"/users/edit/{target}", deactivate)
    with app.app_context():
        assert get_one(m.PortalUser, username="acme.user").role_names == {"Admin"}
        assert not get_one(m.PortalUser, username="acme.admin").active
    submit(c, f"/users/delete/{target}", {}, form_url="/users/list/")
    assert rows(m.PortalUser, m.PortalUser.username == "acme.admin") == 0


def test_each_organization_keeps_an_admin_on_the_form(app, client_as, rows, ids):
    check_last_admin_kept_on_the_form(app, client_as, rows, ids)
    check_an_admin_can_go_on_the_form(app, client_as, rows, ids)


# --- the seed's caps, as settings -------------------------------------------------------


def _new_user_form(org_id: str, role_id: str) -> dict:
    return {"first_name": "Second", "last_name": "Acme", "username": "acme.second",
            "email": "acme.second@example.test", "organization": org_id, "roles": [role_id],
            "user_status": "active", "active": "y", "password": "Second-pass-1", "conf_password": "Second-pass-1"}


#: setting -> (model, counted rows, ORM insert, form (user, url, data), API (user, url, body) or None)
CAPS = {
    "LIMIT_CUSTOMER_ORGANIZATIONS": (
        m.Organization, (CUSTOMERS,),
        lambda: factories.organization("Gamma Farm"),
        ("superadmin", "/organizationmodelview/add",
         lambda ids: {"name": "Gamma Farm", "organization_type": "customer", "is_active": "y"}),
        ("superadmin", "/api/v1/organization/", lambda ids: {"name": "Delta Farm", "organization_type": "customer"}),
    ),
    "LIMIT_USERS": (
        m.PortalUser, (),
        lambda: factories.user("acme.second", org("Acme Aqua"), "User"),
        ("acme.admin", "/users/add", lambda ids: _new_user_form(ids.org("Acme Aqua"), ids.role("User"))),
        None,
    ),
    "LIMIT_PARTS": (
        m.Part, (),
        lambda: factories.part("NEW-9"),
        ("superadmin", "/partmodelview/add", lambda ids: _part_form("NEW-9")),
        ("superadmin", "/api/v1/part/", lambda ids: _part_form("NEW-10")),
    ),
    "LIMIT_MACHINES": (
        m.Machine, (),
        lambda: factories.machine(org("Acme Aqua"), "SN-NEW-1"),
        ("superadmin", "/machinemodelview/add", lambda ids: _machine_form(ids.org("Acme Aqua"))),
        ("superadmin", "/api/v1/machine/", lambda ids: _machine_form(ids.org("Acme Aqua"), "SN-NEW-2")),
    ),
    "LIMIT_WAREHOUSES": (
        m.Warehouse, (REAL_WAREHOUSES,),
        lambda: factories.warehouse(org("Acme Aqua"), "Acme Third"),
        ("acme.admin", "/warehousemodelview/add", lambda ids: _warehouse_form(ids.org("Acme Aqua"), "Acme Third")),
        ("acme.admin", "/api/v1/warehouse/", lambda ids: {"organization": ids.org("Acme Aqua"), "name": "Acme Fourth"}),
    ),
}


def test_caps_refuse_the_next_insert_on_the_orm(app, ctx, config):
    # The defaults are the seed's scale requirements.
    assert {name: app.config[name] for name in CAPS} == {
        "LIMIT_CUSTOMER_ORGANIZATIONS": 100, "LIMIT_USERS": 200, "LIMIT_PARTS": 200,
        "LIMIT_MACHINES": 150, "LIMIT_WAREHOUSES": 150}
    assert app.config["LIMIT_TRANSACTIONS_PER_YEAR"] == 7500
    for setting, (model, where, insert, _form, _api) in CAPS.items():
        before = count(model, *where)
        config[setting] = before
        insert()
        error = refuse(ctx, setting, error=LimitReached)
        assert f"limit of {before}" in str(error)
        assert count(model, *where) == before
        config[setting] = None  # lifts the cap
        insert()
        ctx.commit()
        assert count(model, *where) == before + 1, setting
    # Suppliers are not customers: at the customer cap a supplier is still accepted.
    config["LIMIT_CUSTOMER_ORGANIZATIONS"] = count(m.Organization, CUSTOMERS)
    factories.organization("Acme Filters", m.OrganizationType.supplier, parent=org("Acme Aqua"))
    ctx.commit()
    assert count(m.Organization, m.Organization.name == "Acme Filters") == 1


def check_caps_on_the_form(client_as, rows, ids, config):
    for setting, (model, where, _insert, (username, url, data), _api) in CAPS.items():
        before = rows(model, *where)
        config[setting] = before
        c = client_as(username)
        page = submit(c, url, data(ids))
        assert setting in page and f"limit of {before}" in page, setting
        assert rows(model, *where) == before
        config[setting] = None
        page = submit(c, url, data(ids))
        assert setting not in page
        assert rows(model, *where) == before + 1, setting
    # The user the form created is a working login (its password was hashed on the way in).
    assert client_as("acme.second", "Second-pass-1").get("/").status_code == 200


def check_caps_on_the_api(api_as, rows, ids, config):
    for setting, (model, where, _insert, _form, api_path) in CAPS.items():
        if api_path is None:
            continue
        username, url, body = api_path
        before = rows(model, *where)
        config[setting] = before
        api = api_as(username)
        refused(api.post(url, json=body(ids)), setting)
        assert rows(model, *where) == before
        config[setting] = None
        resp = api.post(url, json=body(ids))
        assert resp.status_code == 201, resp.get_data(as_text=True)
        assert rows(model, *where) == before + 1, setting


def test_caps_refuse_the_next_insert_on_the_form_and_api(client_as, api_as, rows, ids, config):
    check_caps_on_the_form(client_as, rows, ids, config)
    check_caps_on_the_api(api_as, rows, ids, config)


# --- database errors never reach users ---------------------------------------------------


def _add(obj):
    db.session.add(obj)
    return obj


def test_database_refusals_are_translated_into_the_rule(ctx):
    acme, user_role = org("Acme Aqua"), _role("User")

    def portal_user(username, email):
        return _add(m.PortalUser(first_name="X", last_name="Y", username=username, email=email,
                                 password="x", organization=acme, roles=[user_role]))

    violations = {
        "warehouse name": (lambda: factories.warehouse(acme, "Acme Main"), WAREHOUSE_NAME),
        "part number": (lambda: factories.part("CON-1"), PART_NUMBER),
        "serial number": (lambda: factories.machine(acme, "SN-BETA-1"), SERIAL_NUMBER),
        "organization name": (lambda: factories.organization("Beta Fish"), "Organization names must be unique."),
        "username": (lambda: portal_user("acme.admin", "fresh@example.test"), "Usernames must be unique."),
        "e-mail": (lambda: portal_user("acme.other", "acme.user@example.test"), "E-mail addresses must be unique."),
        "foreign key": (lambda: _add(m.Warehouse(organization_id=uuid.uuid4(), name="Nowhere")),
                        "This record refers to, or is referred to by, other records."),
        "not null": (lambda: _add(m.Part(part_number="NEW-9", name=None)), "A required value is missing."),
    }
    for name, (insert, message) in violations.items():
        insert()
        error = refuse(ctx, None, checked=True)
        assert str(error) == message, name
        assert isinstance(error.__cause__, IntegrityError), name  # the database refused it
    # 5 warehouses: the base data's 4 and Oraseas EE's transit location
    assert (count(m.Warehouse), count(m.Part), count(m.Machine), count(m.PortalUser)) == (5, 2, 2, 7)


def test_username_collision_on_the_form_names_the_rule(client_as, rows, ids):
    data = {**_new_user_form(ids.org("Acme Aqua"), ids.role("User")), "username": "acme.user"}
    page = submit(client_as("acme.admin"), "/users/add", data)
    assert "Usernames must be unique." in page
    assert rows(m.PortalUser, m.PortalUser.username == "acme.user") == 1
    assert rows(m.PortalUser) == 7


# --- config.py -------------------------------------------------------------------------------


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.setattr(config_module, "INSTANCE_DIR", tmp_path / "instance")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/abparts")
    for missing in ({}, {"SECRET_KEY": None}, {"SECRET_KEY": ""}):
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            config_module.ProductionConfig.prepare(dict(missing))
    assert not (tmp_path / "instance").exists()  # no key was made up for production
    settings = {"SECRET_KEY": "a-real-secret"}
    config_module.ProductionConfig.prepare(settings)
    assert settings["SECRET_KEY"] == "a-real-secret"
    monkeypatch.delenv("DATABASE_URL")
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        config_module.ProductionConfig.prepare({"SECRET_KEY": "a-real-secret"})


def _python(code: str, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("LIMIT_", "DATABASE_URL", "SECRET_KEY", "ABPARTS_"))}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


def test_development_creates_and_keeps_a_secret_key(monkeypatch, tmp_path):
    instance = tmp_path / "instance"
    monkeypatch.setattr(config_module, "INSTANCE_DIR", instance)
    first = {}
    config_module.Config.prepare(first)
    key = first["SECRET_KEY"]
    assert len(key) >= 32
    stored = instance / "secret_key"
    assert stored.read_text().strip() == key
    assert stored.stat().st_mode & 0o077 == 0  # readable by its owner only
    again = {"SECRET_KEY": None}
    config_module.Config.prepare(again)
    assert again["SECRET_KEY"] == key  # kept across restarts
    given = {"SECRET_KEY": "from-the-environment"}
    config_module.Config.prepare(given)
    assert given["SECRET_KEY"] == "from-the-environment"
    assert stored.read_text().strip() == key
    # Another instance folder gets its own random key.
    monkeypatch.setattr(config_module, "INSTANCE_DIR", tmp_path / "other")
    other = {}
    config_module.Config.prepare(other)
    assert other["SECRET_KEY"] != key


@pytest.mark.parametrize("raw,expected", [
    ("postgres://abparts:pw@db.example:5432/abparts", "postgresql+psycopg://abparts:pw@db.example:5432/abparts"),
    ("postgresql://abparts@db.example/abparts", "postgresql+psycopg://abparts@db.example/abparts"),
    ("postgresql+psycopg://abparts@db.example/abparts", "postgresql+psycopg://abparts@db.example/abparts"),
    ("sqlite:////srv/abparts.db", "sqlite:////srv/abparts.db"),
])
def test_database_url_is_normalised(raw, expected):
    assert config_module.database_url(raw) == expected


def test_default_database_is_a_sqlite_file_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.setattr(config_module, "INSTANCE_DIR", tmp_path)
    assert config_module.database_url(None) == f"sqlite:///{tmp_path / 'abparts.db'}"


def test_settings_come_from_the_environment_and_production_needs_a_secret_key(tmp_path):
    """A real start (fresh interpreter): settings read from the environment, production refused."""
    code = ("import config; c = config.Config; "
            "print(c.SQLALCHEMY_DATABASE_URI, c.LIMIT_PARTS, c.LIMIT_USERS, c.LIMIT_MACHINES); "
            "from app import create_app; create_app()")
    done = _python(code, ABPARTS_ENV="production", DATABASE_URL="postgres://abparts:pw@db.example/abparts",
                   LIMIT_PARTS="none", LIMIT_USERS="250", ABPARTS_INSTANCE_DIR=str(tmp_path))
    assert done.stdout.split() == ["postgresql+psycopg://abparts:pw@db.example/abparts", "None", "250", "150"]
    assert done.returncode != 0
    assert "SECRET_KEY must be set in production" in done.stderr
    assert not (tmp_path / "secret_key").exists()
