"""The database as a second wall (issue 14, PostgreSQL): row-level security per
organization, the append-only ledger and non-negative balances, enforced by PostgreSQL
for the portal's role (``abparts_app``) whatever SQL it sends.

The suite's app connects as that role (tests/conftest.py), so every other test runs
under these policies too.  Here: raw SQL through the app's own connection, on a
demo data set where every organization's table has rows of several organizations.
"""
from __future__ import annotations

import decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from app import models as m
from app.extensions import db
from app.row_security import APP_ROLE
from app.scoping import SCOPE_RULES, acting_as, system

from .conftest import get_one, make_config

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def demo_app(request):
    """The portal, as ``abparts_app``, on a migrated PostgreSQL database holding the demo at 0.05."""
    from flask_migrate import upgrade

    from app import create_app
    from app.demo import seed_demo

    from .conftest import app_role_url, empty_database, ensure_app_roles

    with empty_database("postgresql", "rls") as owner_url:
        ensure_app_roles()
        application = create_app(make_config(app_role_url(owner_url), DATABASE_OWNER_URL=owner_url))
        with application.app_context():
            upgrade()
            seed_demo(scale=0.05, echo=lambda *_: None)
            db.session.remove()
        yield application
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def demo(demo_app):
    with demo_app.app_context():
        yield db.session
        db.session.rollback()
        db.session.remove()


def _tables():
    return sorted({model.__table__.name for model in SCOPE_RULES})


def _customer_admins(session):
    """Two customers' admins with ledger rows (the scope of each is its organization's family)."""
    with system():
        users = session.execute(
            sa.select(m.PortalUser).join(m.Organization, m.Organization.id == m.PortalUser.organization_id)
            .where(m.Organization.organization_type == m.OrganizationType.customer)
            .order_by(m.PortalUser.username)).scalars().all()
        admins = [u for u in users if any(r.name == "Admin" for r in u.roles)]
    assert len(admins) >= 2
    return admins[:2]


def _scoped_count(session, model, ids) -> int:
    """Rows of ``model`` the ORM rule (app/scoping.py) gives ``ids``, counted as the system."""
    with system():
        return session.execute(sa.select(sa.func.count()).select_from(model).where(SCOPE_RULES[model](ids))
                               ).scalar_one()


def test_the_app_connects_as_a_role_that_row_security_confines(demo):
    role, bypass, superuser = demo.execute(sa.text(
        "SELECT session_user, rolbypassrls, rolsuper FROM pg_roles WHERE rolname = session_user")).one()
    assert (role, bypass, superuser) == (APP_ROLE, False, False)
    owners = set(demo.execute(sa.text(
        "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")).scalars())
    assert APP_ROLE not in owners


def test_every_organization_table_has_row_security_and_a_policy(demo):
    rows = dict(demo.execute(sa.text(
        "SELECT c.relname, c.relrowsecurity AND EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r'")).all())
    assert {t: rows.get(t) for t in _tables()} == {t: True for t in _tables()}


def test_raw_sql_as_a_customer_sees_only_its_organizations_rows_on_every_table(demo):
    for admin in _customer_admins(demo):
        with acting_as(admin) as actor:
            ids = actor.visible_organization_ids
            for model in SCOPE_RULES:
                table = model.__table__.name
                with system():
                    everything = demo.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                seen = demo.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                assert seen == _scoped_count(demo, model, ids), (admin.username, table)
                assert seen <= everything
        # The demo gives every such table rows of other organizations: the policies narrowed them.
        with acting_as(admin):
            narrowed = {t for t in _tables() if demo.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                        < _count_all(demo, t)}
        assert {"organizations", "ab_user", "warehouses", "inventory", "transactions", "machines", "part_usage",
                "customer_orders", "stock_transfers", "stocktakes"} <= narrowed


def _count_all(session, table) -> int:
    with system():
        return session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_a_customer_reads_the_names_of_the_other_partys_warehouses_not_their_rows(demo):
    admin = _customer_admins(demo)[0]
    with acting_as(admin) as actor:
        ids = set(actor.visible_organization_ids)
        # The Oraseas EE warehouses its stock came from: named on its ledger rows ...
        names = demo.execute(sa.select(m.Transaction.from_warehouse_name).where(
            m.Transaction.to_organization_id.in_(ids), m.Transaction.from_organization_id.not_in(ids))
        ).scalars().all()
        # ... while the rows themselves stay out of reach, even to raw SQL.
        theirs = demo.execute(sa.text("SELECT count(*) FROM warehouses WHERE NOT (organization_id = ANY(:ids))"),
                              {"ids": list(ids)}).scalar_one()
    assert names and all(names) and theirs == 0


def test_a_query_that_forgets_the_orm_scope_leaks_nothing(demo):
    admin = _customer_admins(demo)[0]
    with acting_as(admin) as actor:
        ids = set(actor.visible_organization_ids)
        # A Core select of the table: no ORM entity, so no loader criteria.
        t = m.Transaction.__table__
        rows = demo.execute(sa.select(t.c.from_organization_id, t.c.to_organization_id)).all()
        # An ORM select that opts out of the scope by mistake.
        warehouses = demo.execute(sa.select(m.Warehouse).execution_options(abparts_unscoped=True)).scalars().all()
    assert rows and all({f, to} & ids for f, to in rows)
    assert warehouses and {w.organization_id for w in warehouses} <= ids
    assert len(rows) < _count_all(demo, "transactions")


def test_a_request_with_nobody_signed_in_sees_no_organizations_rows(demo_app):
    with demo_app.test_request_context("/login/"):
        assert db.session.execute(sa.text("SELECT count(*) FROM organizations")).scalar_one() == 0
        assert db.session.execute(sa.text("SELECT count(*) FROM ab_user")).scalar_one() == 0
        # Nor the names the parties of a document read across organizations.
        assert db.session.execute(sa.text("SELECT count(*) FROM warehouse_names")).scalar_one() == 0
        assert db.session.execute(sa.text("SELECT count(*) FROM organization_names")).scalar_one() == 0
        with system():
            assert db.session.execute(sa.text("SELECT count(*) FROM ab_user")).scalar_one() > 0
        db.session.rollback()
        db.session.remove()


def _refused(session, sql: str, params=None) -> str:
    """Run ``sql`` in a savepoint; the database's refusal (its message), the savepoint rolled back."""
    savepoint = session.begin_nested()
    with pytest.raises(DBAPIError) as refusal:
        session.execute(sa.text(sql), params or {})
    savepoint.rollback()
    return str(refusal.value.orig)


def test_a_write_into_another_organization_fails_in_the_database(demo):
    mine, theirs = _customer_admins(demo)
    with system():
        their_org, their_warehouse = demo.execute(
            sa.select(m.Warehouse.organization_id, m.Warehouse.id).where(
                m.Warehouse.organization_id == theirs.organization_id).limit(1)).one()
    with acting_as(mine):
        message = _refused(demo, "INSERT INTO warehouses (id, organization_id, name, is_active, is_transit, "
                                 "created_at, updated_at) VALUES (gen_random_uuid(), :org, 'Smuggled', true, false, "
                                 "now(), now())", {"org": their_org})
        assert "row-level security" in message
        # Their rows are not there to change or delete.
        assert demo.execute(sa.text("UPDATE warehouses SET name = 'Taken' WHERE id = :id"),
                            {"id": their_warehouse}).rowcount == 0
        assert demo.execute(sa.text("DELETE FROM machines WHERE customer_organization_id = :org"),
                            {"org": their_org}).rowcount == 0
        # Nor may one of its own rows be moved to them.
        message = _refused(demo, "UPDATE warehouses SET organization_id = :org WHERE organization_id = :mine",
                           {"org": their_org, "mine": mine.organization_id})
        assert "row-level security" in message
    demo.rollback()
    with system():
        assert get_one(m.Warehouse, id=their_warehouse).name != "Taken"


@pytest.mark.parametrize("scope", ["customer", "system"])
def test_the_app_role_cannot_update_or_delete_a_ledger_row(demo, scope):
    admin = _customer_admins(demo)[0]
    ctx = acting_as(admin) if scope == "customer" else system()
    with ctx:
        row = demo.execute(sa.select(m.Transaction.__table__.c.id).limit(1)).scalar_one()
        for sql in ("UPDATE transactions SET quantity = quantity + 1 WHERE id = :id",
                    "UPDATE transactions SET notes = 'edited' WHERE id = :id",
                    "DELETE FROM transactions WHERE id = :id"):
            assert "permission denied" in _refused(demo, sql, {"id": row})
        for table in ("part_usage", "stock_adjustments", "transaction_approvals", "security_events",
                      "invitation_audit_logs", "user_management_audit_logs", "export_log"):
            assert "permission denied" in _refused(demo, f"DELETE FROM {table}"), table
        assert "permission denied" in _refused(demo, "UPDATE security_events SET risk_level = 'low'")


def test_only_a_pending_transaction_is_decided_and_only_once(demo):
    with system():
        posted = demo.execute(sa.select(m.Transaction.id).where(m.Transaction.requires_approval.is_(False))
                              .limit(1)).scalar_one()
        message = _refused(demo, "UPDATE transactions SET approval_status = 'approved' WHERE id = :id",
                           {"id": posted})
    assert "append-only" in message


def test_stock_on_hand_never_goes_below_zero_in_the_database(demo):
    with system():
        stock = demo.execute(sa.select(m.Inventory.id).limit(1)).scalar_one()
        message = _refused(demo, "UPDATE inventory SET current_stock = -1 WHERE id = :id", {"id": stock})
    assert "below zero" in message


def test_negative_stock_follows_the_setting(demo_app):
    demo_app.config["ALLOW_NEGATIVE_STOCK"] = True
    try:
        with demo_app.app_context(), system():
            stock = db.session.execute(sa.select(m.Inventory.id).limit(1)).scalar_one()
            db.session.execute(sa.text("UPDATE inventory SET current_stock = -1 WHERE id = :id"), {"id": stock})
            assert db.session.execute(sa.select(m.Inventory.current_stock).where(m.Inventory.id == stock)
                                      ).scalar_one() == decimal.Decimal(-1)
            db.session.rollback()
            db.session.remove()
    finally:
        demo_app.config["ALLOW_NEGATIVE_STOCK"] = False


def test_the_scope_of_a_transaction_ends_with_it(demo):
    """A pooled connection starts each transaction with no scope: a statement sent past the
    portal's hooks (here, straight to the driver) sees no organization's rows."""
    with system():
        assert demo.execute(sa.text("SELECT count(*) FROM organizations")).scalar_one() > 0
    demo.commit()
    driver = demo.connection().connection.driver_connection
    with driver.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM organizations")
        assert cursor.fetchone()[0] == 0
