"""The migrations build exactly the models' schema, on SQLite and PostgreSQL (issue 2).

Each engine gets an EMPTY database of its own (not the session's migrated
one): ``upgrade`` must give what the models declare, with no autogenerate
drift, and ``downgrade`` to base must take everything away again.

These tests build their own app with :func:`app.create_app`, which
re-initialises FAB's AppBuilder singleton; the fixture is module-scoped so the
app lives for this module only.
"""
from __future__ import annotations


import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.models.text_search import include_object_for

from .conftest import empty_database, make_config

#: Tables alembic itself keeps (its revision bookkeeping), not part of the models.
ALEMBIC_TABLES = {"alembic_version"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def empty_db(request):
    """``(engine name, url)`` of a brand-new, empty database, dropped afterwards."""
    with empty_database(request.param, "migrations") as url:
        yield request.param, url


@pytest.fixture(scope="module")
def migrating_app(empty_db):
    """A portal app on the empty database (nothing created: the tests run the migrations)."""
    from app import create_app
    from app.extensions import db

    engine_name, url = empty_db
    application = create_app(make_config(url))
    yield engine_name, application
    with application.app_context():
        db.engine.dispose()


def _diffs(application):
    """Autogenerate's differences between the database and the models.

    Stricter than the project's own setting (``compare_type=True`` in
    :func:`app.create_app`): server defaults are compared too.
    """
    from app.extensions import db

    with db.engine.connect() as conn:
        # The trigram indexes of the search exist on PostgreSQL only, as autogenerate is told in env.py.
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "compare_server_default": True,
            "include_object": include_object_for(conn.dialect.name)})
        return compare_metadata(context, db.metadata)


def _tables() -> set[str]:
    from app.extensions import db

    return set(sa.inspect(db.engine).get_table_names())


def _enum_types() -> dict[str, list[str]]:
    """PostgreSQL enum types of the public schema and their labels, in order."""
    from app.extensions import db

    with db.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT t.typname, e.enumlabel FROM pg_type t "
            "JOIN pg_namespace n ON n.oid = t.typnamespace "
            "JOIN pg_enum e ON e.enumtypid = t.oid "
            "WHERE n.nspname = 'public' ORDER BY t.typname, e.enumsortorder"
        )).all()
    out: dict[str, list[str]] = {}
    for name, label in rows:
        out.setdefault(name, []).append(label)
    return out


def test_upgrade_on_an_empty_database_gives_exactly_the_models_schema(migrating_app):
    from flask_migrate import upgrade

    from app.extensions import db

    _engine_name, application = migrating_app
    with application.app_context():
        assert _tables() == set(), "the database must start empty"
        upgrade()
        assert _tables() - ALEMBIC_TABLES == set(db.metadata.tables)
        # Types (with the SQLite variants) and server defaults included: no drift at all.
        assert _diffs(application) == []


def test_upgrade_creates_every_check_constraint_of_the_models(migrating_app):
    """Alembic's autogenerate does not compare CHECK constraints: compare their names here."""
    from app.extensions import db

    _engine_name, application = migrating_app
    with application.app_context():
        inspector = sa.inspect(db.engine)
        for table in db.metadata.sorted_tables:
            declared = {c.name for c in table.constraints if isinstance(c, sa.CheckConstraint)}
            # Boolean/Enum columns may add unnamed CHECKs on SQLite; the declared ones must all be there.
            reflected = {c["name"] for c in inspector.get_check_constraints(table.name) if c["name"]}
            assert declared <= reflected, f"{table.name}: missing CHECK constraints {declared - reflected}"


def test_upgrade_creates_the_models_enum_types_with_their_values(migrating_app):
    """Alembic compares neither enum types nor their values on PostgreSQL: compare them here."""
    from app.extensions import db

    engine_name, application = migrating_app
    if engine_name != "postgresql":
        pytest.skip("named enum types exist only on PostgreSQL")
    declared = {}
    for table in db.metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, sa.Enum) and column.type.name:
                declared[column.type.name] = list(column.type.enums)
    with application.app_context():
        assert _enum_types() == declared


def test_downgrade_to_base_removes_everything_and_upgrade_runs_again(migrating_app):
    from flask_migrate import downgrade, upgrade

    from app.extensions import db

    engine_name, application = migrating_app
    with application.app_context():
        downgrade(revision="base")
        assert _tables() - ALEMBIC_TABLES == set()
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one() == 0
        if engine_name == "postgresql":
            assert _enum_types() == {}
        # The round trip leaves nothing behind that would stop a fresh upgrade.
        upgrade()
        assert _diffs(application) == []
        downgrade(revision="base")
        assert _tables() - ALEMBIC_TABLES == set()


def test_upgrading_a_database_that_has_data_keeps_every_row(migrating_app):
    """An installation of the first release upgrades in place: batch mode rebuilds tables
    that other rows refer to (``transactions``, ``customer_orders``) without losing or
    orphaning a row, old free-text order statuses become states, and ledger rows get
    their warehouses' organizations."""
    import uuid

    from flask_migrate import downgrade, upgrade

    from app.extensions import db

    engine_name, application = migrating_app

    def key():
        value = uuid.uuid4()
        return value.hex if engine_name == "sqlite" else str(value)

    ids = {name: key() for name in ("ora", "acme", "wh", "part", "txn", "inv", "adj", "order", "item")}
    now = "2026-01-02 03:04:05"
    rows = [
        ("organizations", {"id": ids["ora"], "name": "Oraseas EE", "organization_type": "oraseas_ee"}),
        ("organizations", {"id": ids["acme"], "name": "Acme", "organization_type": "customer"}),
        ("ab_user", {"id": 1, "first_name": "A", "last_name": "B", "username": "ab", "email": "ab@x.test",
                     "organization_id": ids["ora"]}),
        ("warehouses", {"id": ids["wh"], "organization_id": ids["ora"], "name": "Central"}),
        ("parts", {"id": ids["part"], "part_number": "P-1", "name": "Part"}),
        ("transactions", {"id": ids["txn"], "transaction_type": "creation", "part_id": ids["part"],
                          "to_warehouse_id": ids["wh"], "quantity": 5, "unit_of_measure": "pieces",
                          "performed_by_user_id": 1, "transaction_date": now}),
        ("inventory", {"id": ids["inv"], "warehouse_id": ids["wh"], "part_id": ids["part"], "current_stock": 5,
                       "unit_of_measure": "pieces"}),
        ("stock_adjustments", {"id": ids["adj"], "inventory_id": ids["inv"], "user_id": 1, "quantity_adjusted": 1,
                               "reason_code": "count", "transaction_id": ids["txn"]}),
        ("customer_orders", {"id": ids["order"], "customer_organization_id": ids["acme"],
                             "oraseas_organization_id": ids["ora"], "order_date": now, "status": "Pending"}),
        ("customer_order_items", {"id": ids["item"], "customer_order_id": ids["order"], "part_id": ids["part"],
                                  "quantity": 2}),
    ]
    with application.app_context():
        downgrade(revision="base")
        upgrade(revision="0001_initial")
        with db.engine.begin() as conn:
            for table, values in rows:
                columns = ", ".join(values)
                conn.execute(sa.text(f"INSERT INTO {table} ({columns}) VALUES "
                                     f"({', '.join(':' + c for c in values)})"), values)
        upgrade()
        with db.engine.connect() as conn:
            for table in {t for t, _ in rows}:
                expected = sum(1 for t, _ in rows if t == table)
                assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() == expected, table
            assert conn.execute(sa.text("SELECT status FROM customer_orders")).scalar_one() == "approved"
            # 0009: the ledger row carries its warehouses' organizations (what scoping reads).
            carried = conn.execute(sa.text("SELECT from_organization_id, to_organization_id FROM transactions")).one()
            assert [v if v is None else uuid.UUID(str(v)) for v in carried] == [None, uuid.UUID(ids["ora"])]
            if engine_name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        assert _diffs(application) == []
