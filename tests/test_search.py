"""The search box of the list pages: what a user types finds the rows, within their organization."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest
import sqlalchemy as sa

from app import models as m
from app.views.catalog import PartModelView
from app.views.search import text_search_criterion

from . import factories
from .conftest import get_one


def _add_parts(app, count: int, prefix: str = "GSK", description: str = "Rubber gasket") -> None:
    from app.extensions import db

    with app.app_context():
        for i in range(1, count + 1):
            p = factories.part(f"{prefix}-{i:03d}")
            p.description = f"{description} no. {i}"
        db.session.commit()
        db.session.remove()


def _part_numbers(html: str) -> set[str]:
    return set(re.findall(r"\b(?:GSK|CON|BULK|ZZQ)-\d+\b", html))


def test_the_parts_list_finds_a_word_anywhere_in_number_name_or_description_ignoring_case(app, client_as):
    _add_parts(app, 3)
    _add_parts(app, 2, prefix="ZZQ", description="Steel bolt")
    c = client_as("acme.user")
    page = c.get("/partmodelview/list/", query_string={"q": "GASKET"}).get_data(as_text=True)
    assert _part_numbers(page) == {"GSK-001", "GSK-002", "GSK-003"}
    assert 'name="q" value="GASKET"' in page, "the box shows what was searched"
    assert _part_numbers(c.get("/partmodelview/list/?q=zzq-002").get_data(as_text=True)) == {"ZZQ-002"}
    assert _part_numbers(c.get("/partmodelview/list/?q=part%20con").get_data(as_text=True)) == {"CON-1"}
    # LIKE's wildcards are taken literally.
    assert _part_numbers(c.get("/partmodelview/list/?q=%25").get_data(as_text=True)) == set()
    assert _part_numbers(c.get("/partmodelview/list/?q=GSK_001").get_data(as_text=True)) == set()
    # No text: every part.
    assert {"CON-1", "BULK-1", "GSK-001", "ZZQ-001"} <= _part_numbers(
        c.get("/partmodelview/list/?q=").get_data(as_text=True))


def test_search_combines_with_filters_order_and_pages_and_the_links_keep_it(app, client_as):
    _add_parts(app, 30)
    _add_parts(app, 3, prefix="ZZQ")  # the same description: found, then filtered out
    c = client_as("superadmin")
    url = "/partmodelview/list/"
    args = {"q": "gasket", "_flt_0_part_number": "GSK", "_oc_PartModelView": "part_number",
            "_od_PartModelView": "desc"}
    first = c.get(url, query_string=args).get_data(as_text=True)
    shown = list(dict.fromkeys(re.findall(r"\bGSK-\d+\b", first)))
    assert shown[:2] == ["GSK-030", "GSK-029"] and "ZZQ-" not in first
    assert "Record Count:</strong> 30" in first.replace("\n", "").replace("  ", "")
    next_links = [link.replace("&amp;", "&") for link in re.findall(r'href="([^"]*page_PartModelView=1[^"]*)"', first)]
    assert next_links and all("q=gasket" in link for link in next_links)
    second = c.get(next_links[0]).get_data(as_text=True)
    assert _part_numbers(second) == {f"GSK-{i:03d}" for i in range(1, 6)}


def test_the_ledger_search_finds_part_number_name_notes_and_reference_within_the_organization(app, client_as):
    from app.extensions import db

    with app.app_context():
        for username, warehouse in (("acme.admin", "Acme Main"), ("beta.admin", "Beta Main")):
            from app.scoping import acting_as

            with acting_as(get_one(m.PortalUser, username=username)):
                db.session.add(m.Transaction(
                    transaction_type=m.TransactionType.consumption, quantity=1,
                    part_id=get_one(m.Part, part_number="CON-1").id,
                    from_warehouse_id=get_one(m.Warehouse, name=warehouse).id,
                    reference_number=f"REF-{warehouse.split()[0].upper()}-77",
                    notes=f"Net cleaning at the {warehouse.split()[0]} farm"))
                db.session.commit()
        db.session.remove()
    acme = client_as("acme.admin")
    url = "/transactionmodelview/list/"

    def rows(client, q):
        return set(re.findall(r"REF-[A-Z]+-77", client.get(url, query_string={"q": q}).get_data(as_text=True)))

    assert rows(acme, "ref-acme") == {"REF-ACME-77"}
    assert rows(acme, "CLEANING") == {"REF-ACME-77"}, "notes; Beta's row stays out of Acme's view"
    assert rows(acme, "ref-beta") == set()
    assert rows(client_as("beta.admin"), "cleaning") == {"REF-BETA-77"}
    assert rows(client_as("superadmin"), "cleaning") == {"REF-ACME-77", "REF-BETA-77"}
    # Through the part: its number and its name.
    page = acme.get(url, query_string={"q": "con-1"}).get_data(as_text=True)
    assert "REF-ACME-77" in page and "Record Count" in page
    assert rows(acme, "part con") == {"REF-ACME-77"}
    assert "No records found" in acme.get(url, query_string={"q": "bulk-1"}).get_data(as_text=True) \
        or "BULK-1" not in acme.get(url, query_string={"q": "bulk-1"}).get_data(as_text=True)


def test_warehouses_organizations_and_machines_are_searchable(client_as):
    c = client_as("superadmin")
    warehouses = c.get("/warehousemodelview/list/?q=acme").get_data(as_text=True)
    assert "Acme Main" in warehouses and "Acme Site" in warehouses and "Beta Main" not in warehouses
    organizations = c.get("/organizationmodelview/list/?q=FISH").get_data(as_text=True)
    assert "Beta Fish" in organizations and "Acme Aqua" not in organizations
    machines = c.get("/machinemodelview/list/?q=sn-beta").get_data(as_text=True)
    assert "SN-BETA-1" in machines and "SN-ACME-1" not in machines
    assert "SN-ACME-1" in c.get("/machinemodelview/list/?q=autoboss").get_data(as_text=True)
    # A customer's admin searches only what it sees.
    acme = client_as("acme.admin")
    assert "SN-BETA-1" not in acme.get("/machinemodelview/list/?q=sn-").get_data(as_text=True)
    assert "Beta Main" not in acme.get("/warehousemodelview/list/?q=main").get_data(as_text=True)


def test_the_csv_export_has_the_searched_rows_only(app, client_as):
    _add_parts(app, 3)
    c = client_as("auditor")
    resp = c.get("/partmodelview/export/?q=gasket")
    assert resp.status_code == 200
    numbers = [row[0] for row in csv.reader(io.StringIO(resp.get_data(as_text=True)))][1:]
    assert sorted(numbers) == ["GSK-001", "GSK-002", "GSK-003"]
    # The list's export link carries the search.
    page = c.get("/partmodelview/list/?q=gasket").get_data(as_text=True)
    assert "/partmodelview/export/?q=gasket" in page


def test_a_search_left_in_a_show_url_does_not_hide_the_row(app, client_as):
    with app.app_context():
        pk = get_one(m.Part, part_number="CON-1").id
    resp = client_as("acme.user").get(f"/partmodelview/show/{pk}?q=nothing-matches")
    assert resp.status_code == 200 and "CON-1" in resp.get_data(as_text=True)


def _plan(session, statement) -> list[dict]:
    """The nodes of PostgreSQL's plan of ``statement``, flattened."""
    conn = session.connection()
    compiled = statement.compile(dialect=conn.dialect)
    raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    plan = raw if isinstance(raw, list) else json.loads(raw)
    nodes, todo = [], [plan[0]["Plan"]]
    while todo:
        node = todo.pop()
        nodes.append(node)
        todo.extend(node.get("Plans", []))
    return nodes


def test_the_part_search_reads_the_trigram_indexes_on_postgresql(ctx, engine_name):
    if engine_name != "postgresql":
        pytest.skip("pg_trgm is PostgreSQL's; SQLite scans with LIKE")
    # A test database is small: the planner would rightly scan it.  Forbidding sequential
    # scans (in this transaction only) shows which index answers the search.
    ctx.execute(sa.text("SET LOCAL enable_seqscan = off"))
    stmt = sa.select(m.Part.id).where(text_search_criterion(m.Part, PartModelView.text_search_columns, "gasket"))
    nodes = _plan(ctx, stmt)
    used = {n.get("Index Name") for n in nodes if n.get("Index Name")}
    assert {"idx_parts_part_number_trgm", "idx_parts_name_trgm", "idx_parts_description_trgm"} <= used, nodes
    assert not [n for n in nodes if n["Node Type"] == "Seq Scan"]
    # The ledger: its notes and references through their trigram indexes, the part's
    # number and name through the parts' ones and then the ledger's part index, all in one BitmapOr.
    from app.views.inventory import TransactionModelView

    stmt = sa.select(m.Transaction.id).where(
        text_search_criterion(m.Transaction, TransactionModelView.text_search_columns, "gasket"))
    nodes = _plan(ctx, stmt)
    used = {n.get("Index Name") for n in nodes if n.get("Index Name")}
    assert {"idx_parts_name_trgm", "idx_parts_part_number_trgm", "idx_transactions_notes_trgm",
            "idx_transactions_reference_number_trgm"} <= used, nodes
    assert any(name.startswith("idx_transactions_part") for name in used), used
    assert not [n for n in nodes if n["Node Type"] == "Seq Scan"], "no sequential scan of the ledger"
    ctx.rollback()
