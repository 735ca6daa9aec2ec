"""Long reads on a read replica (issue 15): list exports and dashboard figures read the
``DATABASE_READ_URL`` bind, postings and every other write go to the primary.

The "replica" here is a copy of the primary taken after the base data (a copy of
the SQLite file; ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL) that never
receives what is posted afterwards: a replica lagging for ever.  So a posting
made in a test shows in stock read from the primary and not in an export, and
each engine's statements are recorded to see which one served what.

The module builds its own app (with the bind), which re-initialises FAB's
AppBuilder singleton, so it lives for this module only (as in
``tests/test_migrations.py``); the conftest's ``app`` and per-test restore are
overridden here, the login fixtures (``client_as``, ``api_as``) work on this app.
"""
from __future__ import annotations

import csv
import io
import shutil
import urllib.parse

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

from app import models as m
from app.database import READ_BIND, read_session
from app.extensions import db
from config import read_binds

from . import factories
from .conftest import _pg_execute, empty_database, get_one, make_config


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def primary_url(request):
    with empty_database(request.param, "two_instances_replica") as url:
        yield request.param, url


def _replica_of(engine_name: str, url: str) -> str:
    if engine_name == "sqlite":
        return url.replace(".db", "-replica.db")
    return make_url(url).set(database=make_url(url).database + "_ro").render_as_string(hide_password=False)


def _copy(engine_name: str, url: str, replica: str) -> None:
    """The primary's data as it is now, into the replica (nothing connected to the primary)."""
    if engine_name == "sqlite":
        shutil.copyfile(make_url(url).database, make_url(replica).database)
    else:
        _pg_execute(f'CREATE DATABASE "{make_url(replica).database}" TEMPLATE "{make_url(url).database}"')


@pytest.fixture(scope="module")
def app(primary_url):
    """The portal on a primary holding the base data, with a read replica that stopped there."""
    from flask_migrate import upgrade

    from app import create_app
    from app.security.setup import sync_roles

    engine_name, url = primary_url
    replica = _replica_of(engine_name, url)
    application = create_app(make_config(url, SQLALCHEMY_BINDS=read_binds(replica)))
    with application.app_context():
        upgrade()
        sync_roles()
        factories.build_base_data()
        db.session.remove()
        db.engine.dispose()
    _copy(engine_name, url, replica)
    yield application
    with application.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    if engine_name == "postgresql":
        _pg_execute(f'DROP DATABASE IF EXISTS "{make_url(replica).database}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def fresh_data():
    """No restore between tests: each test here reads what it posts itself, or none."""
    yield


@pytest.fixture
def statements(app):
    """``{"primary": [...], "replica": [...]}``: the SQL each engine runs during the test."""
    seen = {"primary": [], "replica": []}
    with app.app_context():
        engines = {"primary": db.engine, "replica": db.engines[READ_BIND]}
    listeners = []
    for name, engine in engines.items():
        def record(_conn, _cursor, statement, *_args, _name=name):
            seen[_name].append(" ".join(statement.split()))
        event.listen(engine, "before_cursor_execute", record)
        listeners.append((engine, record))
    yield seen
    for engine, record in listeners:
        event.remove(engine, "before_cursor_execute", record)


def _csv(resp) -> list[list[str]]:
    assert resp.status_code == 200 and resp.mimetype == "text/csv", resp.status_code
    return list(csv.reader(io.StringIO(resp.get_data(as_text=True))))


def _central_con1(api, w) -> str:
    rows = api.get("/api/v1/inventory/?q=" + urllib.parse.quote(
        f"(filters:!((col:warehouse,opr:rel_o_m,value:'{w['Central']}')))")).get_json()["result"]
    return next(r["current_stock"] for r in rows if r["part_id"] == w["CON-1"])


def test_a_posting_goes_to_the_primary_and_an_export_reads_the_replica(app, api_as, client_as, w, statements):
    api = api_as("oraseas.admin")
    statements["primary"].clear(), statements["replica"].clear()
    resp = api.post("/api/v1/transaction/", json={"transaction_type": "consumption", "part": w["CON-1"],
                                                  "from_warehouse": w["Central"], "quantity": "3"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert any(s.startswith("INSERT INTO transactions") for s in statements["primary"])
    assert statements["replica"] == []
    assert float(_central_con1(api, w)) == 82  # the primary: 85 - 3

    auditor = client_as("auditor")
    statements["primary"].clear(), statements["replica"].clear()
    stock = _csv(auditor.get("/inventorymodelview/export/"))
    # the replica still holds 85 at Central: the export read it, not the primary
    central = [row for row in stock[1:] if row[stock[0].index("Warehouse")].startswith("Central")]
    on_hand = {row[stock[0].index("ID")]: row for row in central}
    cells = {cell for row in on_hand.values() for cell in row}
    assert "85" in cells and "82" not in cells  # the number, its unit in a column of its own
    assert any("FROM inventory" in s for s in statements["replica"])
    assert not any(s.startswith("SELECT") and "FROM inventory" in s for s in statements["primary"])
    # the export's security event is a write: on the primary, nothing written to the replica
    assert any(s.startswith("INSERT INTO security_events") for s in statements["primary"])
    assert not any(s.startswith(("INSERT", "UPDATE", "DELETE")) for s in statements["replica"])
    ledger = _csv(auditor.get("/transactionmodelview/export/?_flt_0_transaction_type=consumption"))
    assert len(ledger) == 1  # the header: the replica has no consumption yet
    with app.app_context():
        assert get_one(m.Transaction, transaction_type=m.TransactionType.consumption) is not None


def test_the_dashboard_figures_come_from_the_replica(app, client_as, statements):
    client = client_as("oraseas.admin")
    statements["primary"].clear(), statements["replica"].clear()
    page = client.get("/")
    assert page.status_code == 200 and 'id="movements-chart"' in page.get_data(as_text=True)
    grouped = [s for s in statements["replica"] if "GROUP BY" in s]
    assert any("FROM transactions" in s for s in grouped) and any("FROM customer_orders" in s for s in grouped)
    assert not any("GROUP BY" in s for s in statements["primary"])


def test_reads_on_the_replica_are_scoped_to_the_users_organizations(client_as, statements):
    table = _csv(client_as("acme.admin").get("/warehousemodelview/export/"))
    assert sorted(row[0] for row in table[1:]) == ["Acme Main", "Acme Site"]
    assert any("FROM warehouses" in s for s in statements["replica"])


def test_nothing_is_written_through_the_read_session(app):
    with app.test_request_context():
        session = read_session()
        assert session is not db.session()
        session.add(m.Part(part_number="RO-1", name="Never", part_type=m.PartType.consumable,
                           unit_of_measure="pieces"))
        with pytest.raises(RuntimeError, match="read replica"):
            session.flush()
        session.rollback()
        if session.get_bind().dialect.name == "postgresql":  # and the bind's transactions are READ ONLY
            with pytest.raises(sa.exc.DBAPIError, match="read-only"):
                session.execute(sa.text("CREATE TEMPORARY TABLE never (a int)"))
