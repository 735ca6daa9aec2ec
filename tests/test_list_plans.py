"""The plans PostgreSQL picks for the ledger's list page (issue 15): indexes, never a
sequential scan of ``transactions``.

The statements are the ones the real list view runs (captured around a test-client
GET of the page, so the test follows the code), explained with their own parameters
on a ledger big enough for the planner to prefer indexes: 100,000 rows spread over
1,000 customers, written by one ``INSERT ... SELECT generate_series``, vacuumed and
analysed (the restores between tests leave dead rows that would skew the costs).
The timings are the benchmark's (``tests/benchmarks/``); here only the shapes.
"""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app import models as m
from app.scoping import acting_as, actor_for

from .conftest import as_owner, get_one

LEDGER = "/transactionmodelview/list/"
ROWS = 100_000
CUSTOMERS = 1_000

#: The synthetic world, all in SQL: customers with a warehouse each, parts, and the ledger
#: (creations into and consumptions out of those warehouses, over ten years), each row with
#: its warehouses' organizations as the posting rules give them.
SYNTHETIC_LEDGER = f"""
INSERT INTO organizations (id, name, organization_type, is_active, created_at, updated_at)
SELECT gen_random_uuid(), 'Plan Customer ' || g, 'customer', true, now(), now()
FROM generate_series(1, {CUSTOMERS}) g;
INSERT INTO warehouses (id, organization_id, name, is_active, is_transit, created_at, updated_at)
SELECT gen_random_uuid(), id, 'Plan Store', true, false, now(), now()
FROM organizations WHERE name LIKE 'Plan Customer %';
INSERT INTO parts (id, part_number, name, part_type, is_proprietary, unit_of_measure, created_at, updated_at)
SELECT gen_random_uuid(), 'PLN-' || lpad(g::text, 5, '0'), 'Plan part ' || g, 'consumable', false, 'pieces', now(), now()
FROM generate_series(1, {CUSTOMERS}) g;
CREATE TEMP TABLE plan_w ON COMMIT DROP AS
    SELECT row_number() OVER (ORDER BY id) AS n, id, organization_id FROM warehouses WHERE name = 'Plan Store';
CREATE TEMP TABLE plan_p ON COMMIT DROP AS
    SELECT row_number() OVER (ORDER BY id) AS n, id FROM parts WHERE part_number LIKE 'PLN-%';
INSERT INTO transactions (id, transaction_type, part_id, from_warehouse_id, to_warehouse_id, from_organization_id,
                          to_organization_id, quantity, unit_of_measure, performed_by_user_id, transaction_date,
                          notes, reference_number, requires_approval, created_at)
SELECT gen_random_uuid(), CASE WHEN g % 2 = 0 THEN 'creation' ELSE 'consumption' END::transaction_type_enum, p.id,
       CASE WHEN g % 2 = 1 THEN w.id END, CASE WHEN g % 2 = 0 THEN w.id END,
       CASE WHEN g % 2 = 1 THEN w.organization_id END, CASE WHEN g % 2 = 0 THEN w.organization_id END,
       1 + g % 97, 'pieces', :user_id, now() - g * interval '35 minutes',
       CASE WHEN g % 10 = 0 THEN 'cage ' || g END, CASE WHEN g % 5 = 0 THEN 'REF-' || g END, false, now()
FROM generate_series(1::bigint, {ROWS}) g
JOIN plan_w w ON w.n = 1 + (g * 7919) % {CUSTOMERS}
JOIN plan_p p ON p.n = 1 + (g * 104729) % {CUSTOMERS};
"""


def plan_nodes(plan: dict):
    """Every node of an ``EXPLAIN (FORMAT JSON)`` plan, depth first."""
    yield plan
    for child in plan.get("Plans", ()):
        yield from plan_nodes(child)


def ledger_reads(statement, parameters, connection) -> set[tuple[str, str | None]]:
    """How ``statement`` reads ``transactions``: ``{(node type, index name)}`` of its plan
    (a bitmap heap scan adds the bitmap index scans under it, which name the index)."""
    raw = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar_one()
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    reads = set()
    for node in plan_nodes(plan):
        if node.get("Relation Name") != "transactions":
            continue
        reads.add((node["Node Type"], node.get("Index Name")))
        if node["Node Type"] == "Bitmap Heap Scan":
            reads.update((below["Node Type"], below.get("Index Name")) for below in plan_nodes(node)
                         if below["Node Type"] == "Bitmap Index Scan")
    return reads


def page_statements(app, client, query: dict) -> list[tuple[str, object]]:
    """The statements reading the ledger that the list page runs for ``query``
    (the page's rows, and its count when it counts), without the planner's estimate."""
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    captured = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if "FROM transactions" in statement and not statement.startswith("EXPLAIN"):
            captured.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        resp = client.get(LEDGER, query_string={"psize_TransactionModelView": 100, **query})
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    assert resp.status_code == 200
    assert captured, f"the page {query} read no ledger rows"
    return captured


#: page -> (who, query string, indexes of which one at least must read the ledger).
PAGES = {
    "page 1": ("superadmin", {}, {"idx_transactions_date", "idx_transactions_date_type"}),
    "page 100": ("superadmin", {"page_TransactionModelView": 99}, {"idx_transactions_date",
                                                                   "idx_transactions_date_type"}),
    "a customer's page 1": ("acme.admin", {}, {"idx_transactions_from_organization_date",
                                               "idx_transactions_to_organization_date"}),
    "a customer's page 100": ("acme.admin", {"page_TransactionModelView": 99}, {
        "idx_transactions_from_organization_date", "idx_transactions_to_organization_date"}),
    "search": ("superadmin", {"q": "PLN-00042"}, None),
    "a customer's search": ("acme.admin", {"q": "CON-1"}, {"idx_transactions_from_organization_date",
                                                           "idx_transactions_to_organization_date"}),
    "sorted by quantity": ("superadmin", {"_oc_TransactionModelView": "quantity_with_unit",
                                          "_od_TransactionModelView": "desc"}, {"idx_transactions_quantity"}),
    "sorted by date, oldest first": ("superadmin", {"_oc_TransactionModelView": "transaction_date",
                                                    "_od_TransactionModelView": "asc"},
                                     {"idx_transactions_date", "idx_transactions_date_type"}),
    "sorted by part": ("superadmin", {"_oc_TransactionModelView": "part", "_od_TransactionModelView": "asc"},
                       {"idx_transactions_part", "idx_transactions_part_date"}),
    "sorted by type": ("superadmin", {"_oc_TransactionModelView": "transaction_type",
                                      "_od_TransactionModelView": "desc"}, {"idx_transactions_type_id"}),
    "sorted by approval status": ("superadmin", {"_oc_TransactionModelView": "approval_status",
                                                 "_od_TransactionModelView": "asc"},
                                  {"idx_transactions_approval_status_id"}),
    "sorted by reference": ("superadmin", {"_oc_TransactionModelView": "reference_number",
                                           "_od_TransactionModelView": "asc"}, {"idx_transactions_reference_id"}),
    # Two parts (ABPartsInterface.page_by_label): the warehouses in name order, each one's rows, and
    # the rows with no warehouse; both through the (warehouse, id) index.
    "sorted by From warehouse": ("superadmin", {"_oc_TransactionModelView": "from_warehouse_name",
                                                "_od_TransactionModelView": "asc"},
                                 {"idx_transactions_from_warehouse_id"}),
    "sorted by To warehouse, last first": ("superadmin", {"_oc_TransactionModelView": "to_warehouse_name",
                                                          "_od_TransactionModelView": "desc"},
                                           {"idx_transactions_to_warehouse_id"}),
    "page 100 sorted by To warehouse": ("superadmin", {"_oc_TransactionModelView": "to_warehouse_name",
                                                       "_od_TransactionModelView": "asc",
                                                       "page_TransactionModelView": 99},
                                        {"idx_transactions_to_warehouse_id"}),
}


@pytest.mark.postgres
def test_the_ledger_list_reads_the_ledger_through_indexes_only(app, engine_name, client_as, subtests):
    if engine_name != "postgresql":
        pytest.skip("plan shapes are PostgreSQL's; SQLite's planner has no statistics to weigh")
    from app.extensions import db

    with app.app_context():
        user_id = get_one(m.PortalUser, username="superadmin").id
        with db.engine.begin() as conn:
            for statement in filter(str.strip, SYNTHETIC_LEDGER.split(";")):
                conn.execute(sa.text(statement), {"user_id": user_id} if ":user_id" in statement else {})
        # VACUUM is the owner's (the portal's role may not, on PostgreSQL: migration 0015).
        as_owner("VACUUM ANALYZE transactions, warehouses, organizations, parts", autocommit=True)
        actors = {who: actor_for(get_one(m.PortalUser, username=who)) for who in ("superadmin", "acme.admin")}
    clients = {who: client_as(who) for who in ("superadmin", "acme.admin")}
    for page, (who, query, indexes) in PAGES.items():
        with subtests.test(page=page):
            statements = page_statements(app, clients[who], query)
            # Planned as the page's user: with row-level security's policy on the customer's rows.
            with app.app_context(), acting_as(actors[who]), db.engine.connect() as conn:
                for statement, parameters in statements:
                    kinds = ledger_reads(statement, parameters, conn)
                    assert not any(kind == "Seq Scan" for kind, _index in kinds), (page, kinds, statement)
                    used = {index for _kind, index in kinds} - {None}
                    assert used & indexes if indexes else used, (page, kinds, statement)
