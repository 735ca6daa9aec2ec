"""Benchmark: the generated list pages at scale, over HTTP through gunicorn, beside their SQL floor (issue 15).

Run by hand (pytest does not collect it)::

    python tests/benchmarks/bench_pages.py --scale 1 --years 1
    python tests/benchmarks/bench_pages.py --scale 10 --years 10 --rounds 20 --only ledger

1. The database (``--database``, default ``abparts_bench_s<scale>_y<years>`` on the
   ``--postgres`` server) is built with the portal's commands (``flask --app run db
   upgrade``, ``flask --app run abparts seed-demo --scale S --years Y``, caps lifted)
   when it does not exist or is empty; else it is reused (and migrated).
2. The portal runs under gunicorn (``--workers`` sync workers, ``ABPARTS_ENV=production``)
   with ``ABPARTS_QUERY_COUNT_HEADER=1``: each answer says how many SQL statements it ran.
3. ``superadmin`` and a customer admin (``--customer-admin``, default ``aegean.admin``) log in
   through the login form.  For each list page of :data:`PAGES`, 100 rows a page: page 1,
   page 100, each filter, the search box (``q=``) where the page has one, and the sort by
   each column whose header offers one (read from page 1's sort links, ascending).
4. Each round requests every page once as each role, and right after each request runs
   the page's SQL floor straight through psycopg: the least SQL that page needs (its rows
   with the names it prints, through joins, ``LIMIT 100 OFFSET ...``; the count as the
   list makes it: the planner's estimate above 10,000 rows, else ``count(*)``; for the
   customer admin narrowed by the rule of ``app/scoping.py``).  The first round warms up
   and is not counted.
5. It prints one markdown table per role: p50 and p95 (ms, the whole answer as the
   client sees it), SQL statements per page, HTML KB (uncompressed and as sent, gzip),
   the floor's p50, the time above it, and the ratios: to the floor, to Django admin's
   p50 where issue 15 gives one (only for a run at ``--scale 10 --years 10``), and
   for the customer admin, to the super admin's page.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    BenchDatabase,
    Gunicorn,
    add_arguments,
    demo_size,
    form_login,
    machine_description,
    percentile,
    prepared_database,
)

#: Rows a page (the issue's measurements: 100 rows a page; the screens' default is 25).
PAGE_SIZE = 100
#: ``LIST_EXACT_COUNT_LIMIT``'s default: above it a list shows the planner's estimate.
EXACT_COUNT_LIMIT = 10_000

#: Django admin's p50 in ms for the same page over the same generated rows at
#: ``--scale 10 --years 10`` (750,000 ledger rows), as issue 15 reports them: gunicorn
#: with 2 sync workers, PostgreSQL 15, 100 rows a page, on a 2-core machine of the
#: kind this benchmark runs on.  Reference figures, not measured here; a run at
#: another scale shows no ratio.  The ledger's "one part" row was a text search in
#: Django (the portal had only the part filter then): it stands beside our search.
DJANGO_P50_MS_AT_10X = {
    ("ledger", "page 1"): 164,
    ("ledger", "page 100"): 213,
    ("ledger", "filter transaction_type"): 161,
    ("ledger", "search"): 1204,
    ("ledger", "sort quantity_with_unit"): 1117,
    ("stock levels", "page 1"): 381,
    ("parts", "page 1"): 74,
}


@dataclass(frozen=True)
class Filter:
    """One list filter: the URL argument ``_flt_0_<column>=<value>`` (FAB's first filter of the
    column: "equal to") and the same condition in SQL on ``t``, the listed table."""

    column: str
    value: str  # formatted with the run's parameters: "{part}"
    sql: str


@dataclass(frozen=True)
class Page:
    """A generated list screen and its SQL floor, written by hand.

    The floor selects from ``table`` as ``t``, with the ``joins`` of the names it prints
    (a user's join takes ``{users}`` and ``{users_scope}``: a customer admin sees the
    users of its own organizations only, and the list shows and sorts the others as
    empty); ``where`` is the view's own
    ``base_filters``, ``scope`` the customer admin's rows (``%(orgs)s``: its
    organization and suppliers, as :mod:`app.scoping`), ``order`` maps each sort
    argument to the keys the list sorts by (a relation or a label by the names it
    shows; a sort the page offers that is missing here has no floor), ``%(user_id)s``
    is the user's id.
    """

    name: str
    view: str  # the FAB view class: its route and the suffix of its page/order arguments
    table: str
    columns: str
    joins: str
    default_order: str
    order: dict[str, str]
    scope: str
    filters: list[Filter] = field(default_factory=list)
    search_text: str | None = None  # the page's search box (text_search_columns), formatted like Filter.value
    search_sql: str | None = None  # matches %(like)s: '%text%'; %(keys)s: what search_keys found
    search_keys: str | None = None  # a lookup run first: keys of related rows that match %(like)s
    where: str = "TRUE"
    #: Sorts by a warehouse's label over a nullable column, read in two parts when the user sees
    #: every organization (``ABPartsInterface.page_by_label``): sort argument -> the column.
    ranked: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"/{self.view.lower()}/list/"


#: How a customer admin's page joins a user: only the users of its organizations show (and sort) by name.
#: A scoped user's rows are few: the part is joined outer, so the planner reads them first and
#: sorts them (as the list does, ``ABPartsInterface.order_by_names``).
SCOPED_USERS = {"users": "LEFT JOIN", "users_scope": " AND u.organization_id = ANY(%(orgs)s)", "parts": "LEFT JOIN"}
#: The warehouses of the customer admin's organizations, as a list of keys (as ``app.views.search`` does).
_IN_ORG_WAREHOUSES = "ARRAY(SELECT id FROM warehouses WHERE organization_id = ANY(%(orgs)s))"

PAGES = [
    Page(
        name="ledger", view="TransactionModelView", table="transactions",
        columns="t.id, t.transaction_date, t.transaction_type, p.part_number, p.name, t.quantity, "
                "t.unit_of_measure, fw.name || ' (' || fo.name || ')', tw.name || ' (' || tor.name || ')', "
                "u.first_name, u.last_name, u.username, t.approval_status, t.reference_number",
        joins="{parts} parts p ON p.id = t.part_id "
              "LEFT JOIN warehouses fw ON fw.id = t.from_warehouse_id "
              "LEFT JOIN organizations fo ON fo.id = fw.organization_id "
              "LEFT JOIN warehouses tw ON tw.id = t.to_warehouse_id "
              "LEFT JOIN organizations tor ON tor.id = tw.organization_id "
              "{users} ab_user u ON u.id = t.performed_by_user_id{users_scope}",
        default_order="t.transaction_date DESC",
        order={"transaction_date": "t.transaction_date", "transaction_type": "t.transaction_type",
               "part": "p.part_number", "quantity_with_unit": "t.quantity",
               "from_warehouse_name": "fw.name, fo.name", "to_warehouse_name": "tw.name, tor.name",
               "performed_by_user": "u.first_name, u.last_name", "approval_status": "t.approval_status",
               "reference_number": "t.reference_number"},
        # The organizations the row carries (migration 0009), as app/scoping.py reads them.
        scope="t.from_organization_id = ANY(%(orgs)s) OR t.to_organization_id = ANY(%(orgs)s)",
        filters=[Filter("transaction_type", "consumption", "t.transaction_type = 'consumption'"),
                 Filter("part", "{part}", "t.part_id = %(part)s")],
        search_text="{part_number}",
        # The matching parts first, their keys then given to the ledger query as values (as the list does).
        search_keys="SELECT id FROM parts WHERE part_number ILIKE %(like)s OR name ILIKE %(like)s",
        search_sql="t.part_id = ANY(%(keys)s) OR t.notes ILIKE %(like)s OR t.reference_number ILIKE %(like)s",
        ranked={"from_warehouse_name": "from_warehouse_id", "to_warehouse_name": "to_warehouse_id"},
    ),
    Page(
        name="stock levels", view="InventoryModelView", table="inventory",
        columns="t.id, w.name, o.name, p.part_number, p.name, t.current_stock, t.minimum_stock_recommendation, "
                "t.unit_of_measure, t.last_updated",
        joins="JOIN warehouses w ON w.id = t.warehouse_id JOIN organizations o ON o.id = w.organization_id "
              "{parts} parts p ON p.id = t.part_id",
        default_order="t.last_updated DESC",
        order={"stock_on_hand": "t.current_stock", "reorder_point": "t.minimum_stock_recommendation",
               "status": "CASE WHEN (t.current_stock <= 0) THEN 0 WHEN (t.minimum_stock_recommendation > 0 AND "
                         "t.current_stock <= t.minimum_stock_recommendation) THEN 1 WHEN (t.minimum_stock_recommendation "
                         "> 0 AND t.current_stock > t.minimum_stock_recommendation * 3) THEN 3 ELSE 2 END", "last_updated": "t.last_updated", "warehouse": "w.name",
               "part": "p.part_number"},
        # Stock on hand: real warehouses, not transit locations, nor those where the user
        # counts a blind stocktake (the demo's super admin does).
        where="NOT EXISTS (SELECT 1 FROM warehouses x WHERE x.id = t.warehouse_id AND x.is_transit) "
              "AND NOT EXISTS (SELECT 1 FROM stocktakes s JOIN stocktake_counters c ON c.stocktake_id = s.id "
              "WHERE s.warehouse_id = t.warehouse_id AND s.is_blind AND s.status IN ('planned', 'counting') "
              "AND c.user_id = %(user_id)s)",
        scope=f"t.warehouse_id = ANY({_IN_ORG_WAREHOUSES})",
        filters=[Filter("part", "{part}", "t.part_id = %(part)s")],
    ),
    Page(
        name="parts", view="PartModelView", table="parts",
        columns="t.id, t.part_number, t.name, t.part_type, t.unit_of_measure, t.is_proprietary, t.unit_price",
        joins="", default_order="t.part_number ASC",
        order={c: f"t.{c}" for c in ("part_number", "name", "part_type", "unit_of_measure", "is_proprietary",
                                     "unit_price")},
        scope="TRUE",  # the catalog is shared
        filters=[Filter("part_type", "bulk_material", "t.part_type = 'bulk_material'")],
        search_text="seal",
        search_sql="t.part_number ILIKE %(like)s OR t.name ILIKE %(like)s OR t.description ILIKE %(like)s",
    ),
    Page(
        name="warehouses", view="WarehouseModelView", table="warehouses",
        columns="t.id, t.name, o.name, t.location, t.is_active, t.updated_at",
        joins="JOIN organizations o ON o.id = t.organization_id", default_order="t.name ASC",
        order={"name": "t.name", "organization": "o.name", "location": "t.location", "is_active": "t.is_active",
               "updated_at": "t.updated_at"},
        where="NOT t.is_transit",
        scope="t.organization_id = ANY(%(orgs)s)",
        filters=[Filter("organization", "{organization}", "t.organization_id = %(organization)s")],
        search_text="{place}",
        search_sql="t.name ILIKE %(like)s OR t.location ILIKE %(like)s",
    ),
    Page(
        name="organizations", view="OrganizationModelView", table="organizations",
        columns="t.id, t.name, t.organization_type, parent.name, t.is_active",
        joins="LEFT JOIN organizations parent ON parent.id = t.parent_organization_id", default_order="t.name ASC",
        order={"name": "t.name", "organization_type": "t.organization_type", "is_active": "t.is_active",
               "parent_organization": "parent.name"},
        scope="t.id = ANY(%(orgs)s)",
        filters=[Filter("organization_type", "customer", "t.organization_type = 'customer'")],
        search_text="{place}",
        search_sql="t.name ILIKE %(like)s",
    ),
    Page(
        name="customer orders", view="CustomerOrderModelView", table="customer_orders",
        columns="t.id, t.order_date, c.name, t.status, t.expected_delivery_date, t.actual_delivery_date, "
                "u.first_name, u.last_name, u.username",
        joins="JOIN organizations c ON c.id = t.customer_organization_id "
              "LEFT JOIN ab_user u ON u.id = t.ordered_by_user_id{users_scope}",
        default_order="t.order_date DESC",
        order={"order_date": "t.order_date", "customer_organization_name": "c.name", "status": "t.status",
               "expected_delivery_date": "t.expected_delivery_date",
               "actual_delivery_date": "t.actual_delivery_date", "ordered_by_user": "u.first_name, u.last_name"},
        scope="t.customer_organization_id = ANY(%(orgs)s) OR t.oraseas_organization_id = ANY(%(orgs)s)",
        filters=[Filter("status", "received", "t.status = 'received'")],
    ),
    Page(
        name="supplier orders", view="SupplierOrderModelView", table="supplier_orders",
        columns="t.id, t.order_date, t.supplier_name, o.name, t.status, t.expected_delivery_date, "
                "t.actual_delivery_date",
        joins="JOIN organizations o ON o.id = t.ordering_organization_id", default_order="t.order_date DESC",
        order={"order_date": "t.order_date", "supplier_name": "t.supplier_name", "ordering_organization": "o.name",
               "status": "t.status",
               "expected_delivery_date": "t.expected_delivery_date",
               "actual_delivery_date": "t.actual_delivery_date"},
        scope="t.ordering_organization_id = ANY(%(orgs)s)",
        filters=[Filter("status", "received", "t.status = 'received'")],
    ),
    Page(
        name="stock transfers", view="StockTransferModelView", table="stock_transfers",
        columns="t.id, t.reference_number, t.status, fw.name || ' (' || fo.name || ')', "
                "tw.name || ' (' || tor.name || ')', t.created_at, t.dispatched_at, t.received_at",
        joins="JOIN warehouses fw ON fw.id = t.from_warehouse_id "
              "JOIN organizations fo ON fo.id = fw.organization_id "
              "LEFT JOIN warehouses tw ON tw.id = t.to_warehouse_id "
              "LEFT JOIN organizations tor ON tor.id = tw.organization_id",
        default_order="t.created_at DESC",
        order={"reference_number": "t.reference_number", "status": "t.status", "created_at": "t.created_at",
               "dispatched_at": "t.dispatched_at", "received_at": "t.received_at",
               "from_warehouse_name": "fw.name, fo.name", "to_warehouse_name": "tw.name, tor.name"},
        scope="t.source_organization_id = ANY(%(orgs)s) OR t.destination_organization_id = ANY(%(orgs)s)",
        filters=[Filter("status", "received", "t.status = 'received'")],
    ),
]


@dataclass
class Variant:
    """One request of a page: its label, URL arguments and the floor's WHERE, ORDER BY and OFFSET."""

    page: Page
    label: str
    args: dict
    where: list[str]
    order: str | None  # None: a sort the floor does not know
    offset: int = 0
    like: str | None = None
    ranked: str | None = None  # Page.ranked's column for this sort


@dataclass
class Figures:
    """What one (role, page variant) measured over the rounds."""

    http: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    queries: int | None = None
    html_bytes: int = 0
    wire_bytes: int = 0
    errors: set = field(default_factory=set)
    page_rows: int = 0  # rows the page shows (its rows' links to their show pages)
    floor_rows: int = 0


# --- the requests ------------------------------------------------------------------

def run_parameters(database: BenchDatabase, customer_admin: str) -> dict:
    """The values the filters, searches and scope use: the customer admin's organizations, the
    part most moved in its warehouses (``part``, ``part_number``), its organization and a word
    of its name (``place``)."""
    _user_id, organization = database.user(customer_admin)
    orgs = database.organization_family(organization)
    with database.connect() as conn:
        part, number = conn.execute(
            f"SELECT p.id, p.part_number FROM transactions t JOIN parts p ON p.id = t.part_id "
            f"WHERE t.from_warehouse_id = ANY({_IN_ORG_WAREHOUSES}) OR t.to_warehouse_id = ANY({_IN_ORG_WAREHOUSES}) "
            f"GROUP BY p.id, p.part_number ORDER BY count(*) DESC, p.part_number LIMIT 1", {"orgs": orgs}).fetchone()
        name = conn.execute("SELECT name FROM organizations WHERE id = %s", [organization]).fetchone()[0]
    return {"orgs": orgs, "organization": organization, "part": str(part), "part_number": number,
            "place": name.split()[0]}


def variants(page: Page, sortable: list[str], params: dict) -> list[Variant]:
    """Page 1, page 100, each filter, the search, each sort the page offers (ascending, the key
    breaking ties)."""
    base = {f"psize_{page.view}": PAGE_SIZE}
    out = [Variant(page, "page 1", base, [], page.default_order),
           Variant(page, "page 100", {**base, f"page_{page.view}": 99}, [], page.default_order,
                   offset=99 * PAGE_SIZE)]
    for flt in page.filters:
        out.append(Variant(page, f"filter {flt.column}", {**base, f"_flt_0_{flt.column}": flt.value.format(**params)},
                           [flt.sql], page.default_order))
    if page.search_text:
        text = page.search_text.format(**params)
        out.append(Variant(page, "search", {**base, "q": text}, [page.search_sql], page.default_order,
                           like=f"%{text}%"))
    for column in sortable:
        # Ascending, and the primary key breaks ties, as the list does (pages never overlap).
        keys = page.order.get(column)
        order = ", ".join(f"{key} ASC" for key in [*keys.split(", "), "t.id"]) if keys else None
        out.append(Variant(page, f"sort {column}", {**base, f"_oc_{page.view}": column, f"_od_{page.view}": "asc"},
                           [], order, ranked=page.ranked.get(column)))
    return out


def sortable_columns(session, base_url: str, page: Page) -> list[str]:
    """The columns page 1 offers to sort by: its header links ``_oc_<View>=<column>``."""
    html = session.get(base_url + page.path, params={f"psize_{page.view}": PAGE_SIZE}, timeout=300).text
    found = re.findall(rf"_oc_{page.view}=([\w.]+)", html)
    return list(dict.fromkeys(found))


def get_page(session, base_url: str, variant: Variant, figures: Figures) -> None:
    """Request one page (gzip accepted, as browsers do) and record its time, size and query count."""
    started = time.perf_counter()
    answer = session.get(base_url + variant.page.path, params=variant.args, allow_redirects=False, timeout=300,
                         headers={"Accept-Encoding": "gzip"})
    body = answer.content
    elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        figures.errors.add(f"HTTP {answer.status_code}")
        return
    figures.http.append(elapsed)
    figures.queries = int(answer.headers.get("X-Query-Count", "0")) or None
    figures.html_bytes = len(body)
    figures.wire_bytes = int(answer.headers.get("Content-Length", len(body)))
    route = variant.page.view.lower()
    figures.page_rows = len(set(re.findall(rf"/{route}/show/([0-9a-f-]{{36}})", answer.text)))


def floor_statements(variant: Variant, scoped: bool) -> tuple[str, str, str] | None:
    """``(estimate, count, rows)`` SQL of the variant's floor; ``None`` for a sort with no floor.

    An order on the listed table's own columns picks the page's rows first and joins the
    names to those 100 only (a join of the whole table before the sort is what a planner
    may otherwise choose: 0.7 s on the 10x ledger); an order on a joined name needs the join.
    """
    if variant.order is None:
        return None
    page = variant.page
    where = " AND ".join(f"({w})" for w in [page.where, *([page.scope] if scoped else []), *variant.where])
    joins = page.joins.format(**(SCOPED_USERS if scoped else {"users": "JOIN", "users_scope": "", "parts": "JOIN"}))
    counted = f"FROM {page.table} t WHERE {where}"
    window = f"ORDER BY {variant.order} LIMIT {PAGE_SIZE} OFFSET {variant.offset}"
    if variant.ranked and not scoped:
        # Ascending: the rows with a warehouse, walked warehouse by warehouse in name order, then
        # the rows with none; each part reads at most the rows up to the page's end.
        end, fk = variant.offset + PAGE_SIZE, variant.ranked
        ranked = ("(SELECT w.id, w.name AS k0, o.name AS k1 FROM warehouses w JOIN organizations o "
                  "ON o.id = w.organization_id ORDER BY 2, 3, 1 OFFSET 0) r")
        keys = (f"SELECT key, part, k0, k1 FROM ("
                f"(SELECT t.id AS key, 0 AS part, r.k0, r.k1 FROM {ranked} JOIN {page.table} t ON t.{fk} = r.id "
                f"WHERE {where} ORDER BY r.k0, r.k1, r.id, t.id LIMIT {end}) UNION ALL "
                f"(SELECT t.id, 1, NULL, NULL FROM {page.table} t WHERE {where} AND t.{fk} IS NULL "
                f"ORDER BY t.{fk}, t.id LIMIT {end})) u ORDER BY part, k0, k1, key LIMIT {PAGE_SIZE} OFFSET {variant.offset}")
        rows = (f"SELECT {page.columns} FROM ({keys}) k JOIN {page.table} t ON t.id = k.key {joins} "
                f"ORDER BY k.part, k.k0, k.k1, k.key")
    elif set(re.findall(r"\b(\w+)\.", variant.order)) == {"t"}:
        rows = f"SELECT {page.columns} FROM (SELECT * {counted} {window}) t {joins} ORDER BY {variant.order}"
    else:
        rows = f"SELECT {page.columns} FROM {page.table} t {joins} WHERE {where} {window}"
    return f"EXPLAIN (FORMAT JSON) SELECT 1 {counted}", f"SELECT count(*) {counted}", rows


def run_floor(conn, variant: Variant, scoped: bool, params: dict, figures: Figures) -> None:
    """Time the floor: the count as the list makes it (estimate, else exact), then the rows."""
    statements = floor_statements(variant, scoped)
    if statements is None:
        return
    estimate_sql, count_sql, rows_sql = statements
    values = {**params, "like": variant.like}
    started = time.perf_counter()
    if variant.like and variant.page.search_keys:
        values["keys"] = [row[0] for row in conn.execute(variant.page.search_keys, values)]
    plan = conn.execute(estimate_sql, values).fetchone()[0]
    if plan[0]["Plan"]["Plan Rows"] <= EXACT_COUNT_LIMIT:
        conn.execute(count_sql, values).fetchone()
    rows = conn.execute(rows_sql, values).fetchall()
    figures.floor.append(time.perf_counter() - started)
    figures.floor_rows = len(rows)


# --- the table ---------------------------------------------------------------------

def ms(seconds: float | None) -> str:
    return "—" if seconds is None or seconds != seconds else f"{seconds * 1000:,.0f}" if seconds >= 0.1 \
        else f"{seconds * 1000:.1f}"


def ratio(a: float | None, b: float | None) -> str:
    if not (a and b):
        return "—"
    return f"{a / b:.2f}×" if a / b < 0.1 else f"{a / b:.1f}×"


def print_table(role: str, plan: list[Variant], results: dict, django: bool, compare_to: str | None) -> None:
    """One markdown table of a role's pages."""
    head = ["page", "p50 ms", "p95 ms", "queries", "HTML KB", "gzip KB", "SQL floor p50", "above floor ms",
            "× floor", "× Django"]
    if compare_to:
        head.append("× super admin")
    print(f"\n**{role}**\n")
    print("| " + " | ".join(head) + " |")
    print("| --- " + "| ---: " * (len(head) - 1) + "|")
    for variant in plan:
        f = results[role, variant.page.name, variant.label]
        name = f"{variant.page.name}, {variant.label}"
        if f.errors:
            print(f"| {name} | " + ", ".join(sorted(f.errors)) + " | —" * (len(head) - 2) + " |")
            continue
        p50 = statistics.median(f.http) if f.http else None
        floor = statistics.median(f.floor) if f.floor else None
        reference = DJANGO_P50_MS_AT_10X.get((variant.page.name, variant.label)) if django else None
        cells = [name, ms(p50), ms(percentile(f.http, 0.95)), str(f.queries or "—"),
                 f"{f.html_bytes / 1024:,.0f}", f"{f.wire_bytes / 1024:,.0f}", ms(floor),
                 ms(p50 - floor) if p50 and floor else "—", ratio(p50, floor),
                 ratio(p50, reference / 1000 if reference else None)]
        if compare_to:
            other = results[compare_to, variant.page.name, variant.label]
            cells.append(ratio(p50, statistics.median(other.http) if other.http else None))
        print("| " + " | ".join(cells) + " |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds over every page (default 10)")
    parser.add_argument("--only", help="only the rows whose name ('ledger, page 1') matches this regular expression")
    parser.add_argument("--customer-admin", default="aegean.admin", help="the customer admin's login")
    args = parser.parse_args(argv)

    database, seeded = prepared_database(args)
    params = run_parameters(database, args.customer_admin)
    roles = {"super admin": ("superadmin", False), "customer admin": (args.customer_admin, True)}
    role_params = {role: {**params, "user_id": database.user(login)[0]} for role, (login, _scoped) in roles.items()}
    with database.connect() as floor_conn, Gunicorn(database, args.workers, args.redis) as server:
        sessions = {role: form_login(server.url, login) for role, (login, _scoped) in roles.items()}
        plan = [v for page in PAGES
                for v in variants(page, sortable_columns(sessions["super admin"], server.url, page), params)
                if not args.only or re.search(args.only, f"{page.name}, {v.label}")]
        results = {(role, v.page.name, v.label): Figures() for role in roles for v in plan}
        notes: list[str] = []
        for round_number in range(args.rounds + 1):
            print(f"round {round_number}/{args.rounds}" + (" (warm-up)" if round_number == 0 else ""),
                  file=sys.stderr)
            for variant in plan:
                for role, (_login, scoped) in roles.items():
                    figures = results[role, variant.page.name, variant.label]
                    if round_number == 0:
                        figures = Figures()  # warm-up: not counted, but the floor is checked against the page
                    get_page(sessions[role], server.url, variant, figures)
                    run_floor(floor_conn, variant, scoped, role_params[role], figures)
                    if round_number == 0 and figures.floor and figures.page_rows != figures.floor_rows:
                        notes.append(f"{role}, {variant.page.name}, {variant.label}: the page shows "
                                     f"{figures.page_rows} rows, its floor {figures.floor_rows}")
        with database.connect() as conn:
            machine = machine_description(conn)
            sizes = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                     for table in ("transactions", "inventory", "organizations", "parts", "warehouses")}

    print(f"\nDatabase {database.name}, {demo_size(seeded)} ({', '.join(f'{n:,} {t}' for t, n in sizes.items())}); "
          f"{args.workers} sync gunicorn workers; {args.rounds} rounds; {PAGE_SIZE} rows a page; {machine}.")
    print(f"Customer admin: {args.customer_admin} (organizations {', '.join(params['orgs'])}). "
          f"Filters and searches: part = {params['part_number']}, ledger search '{params['part_number']}', "
          f"parts search 'seal', warehouses and organizations search '{params['place']}'.")
    django = seeded == (10, 10)
    print_table("super admin", plan, results, django, None)
    print_table("customer admin", plan, results, django, "super admin")
    for note in notes:
        print(f"\nCheck the floor: {note}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
