"""The list pages at scale (issue 15): every column sorts, relations and labels by their
names, pages continue each other, a 100-row page stays light, and a page's queries do
not grow with its rows.

The plans the database picks for these pages are checked on PostgreSQL in
``tests/test_list_plans.py``; the timings are the benchmark's.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from . import factories
from .conftest import counted_queries

EMPTY = "\u2014"

#: The big lists: screen route, FAB's view name (its URL arguments).
LISTS = {
    "ledger": ("transactionmodelview", "TransactionModelView"),
    "stock levels": ("inventorymodelview", "InventoryModelView"),
    "parts": ("partmodelview", "PartModelView"),
    "warehouses": ("warehousemodelview", "WarehouseModelView"),
    "organizations": ("organizationmodelview", "OrganizationModelView"),
    "customer orders": ("customerordermodelview", "CustomerOrderModelView"),
    "stock transfers": ("stocktransfermodelview", "StockTransferModelView"),
}
#: Columns shown by name (relations, and labels of related rows): checked in sorted order.
NAMED = {
    "ledger": ["part", "from_warehouse_name", "to_warehouse_name", "performed_by_user"],
    "stock levels": ["warehouse", "part"],
    "warehouses": ["organization"],
    "organizations": ["parent_organization"],
    "customer orders": ["customer_organization_name"],
    "stock transfers": ["from_warehouse_name", "to_warehouse_name"],
}


class _Table(HTMLParser):
    """The first list table of a page: its header cells (label, sort link) and its rows' cell texts."""

    def __init__(self):
        super().__init__()
        self.headers: list[tuple[str, str | None]] = []
        self.rows: list[list[str]] = []
        self._depth = 0  # inside the list table
        self._cell: list[str] | None = None
        self._link: str | None = None
        self._done = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and not self._done and "table-bordered" in (attrs.get("class") or ""):
            self._depth = 1
        elif self._depth and tag == "tr":
            self._row: list[str] = []
        elif self._depth and tag in ("td", "th"):
            self._cell, self._link = [], None
        elif self._cell is not None and tag == "a" and self._link is None:
            self._link = attrs.get("href")

    def handle_endtag(self, tag):
        if not self._depth:
            return
        if tag in ("td", "th") and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            if tag == "th":
                self.headers.append((text, self._link))
            else:
                self._row.append(text)
            self._cell = None
        elif tag == "tr" and self._row:
            self.rows.append(self._row)
        elif tag == "table":
            self._depth, self._done = 0, True

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def list_table(html: str) -> tuple[list[tuple[str, str | None]], list[list[str]]]:
    """``(headers, rows)`` of a list page: ``[(label, sort link or None)]`` and each row's cell texts."""
    table = _Table()
    table.feed(html)
    return table.headers, table.rows


def column(html: str, label: str) -> list[str]:
    """The texts of the column labelled ``label``, top to bottom."""
    headers, rows = list_table(html)
    index = [text for text, _link in headers].index(label)
    return [row[index] for row in rows]


@pytest.fixture
def listed(app):
    """100 rows more in each big list (:func:`tests.factories.list_rows`)."""
    with app.app_context():
        factories.list_rows(100)
        from app.extensions import db

        db.session.remove()


def view_of(app, name: str):
    route, _size_arg = LISTS[name]
    return next(v for v in app.appbuilder.baseviews if getattr(v, "route_base", "") == f"/{route}")


def sorted_page(client, name: str, col: str, direction: str, size: int = 100, page: int = 0) -> str:
    route, arg = LISTS[name]
    resp = client.get(f"/{route}/list/", query_string={
        f"_oc_{arg}": col, f"_od_{arg}": direction, f"psize_{arg}": size, f"page_{arg}": page})
    assert resp.status_code == 200, (name, col, direction, resp.status_code)
    return resp.get_data(as_text=True)


# --- sort ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(LISTS))
@pytest.mark.parametrize("username", ["superadmin", "acme.admin"])
def test_every_column_of_the_big_lists_sorts_and_named_columns_sort_by_name(app, listed, client_as, name, username):
    """As a Super Admin (every row) and as a customer's admin (its own rows: a relation is
    joined through an alias of a scoped table, which the scope must follow)."""
    view = view_of(app, name)
    if name == "customer orders" and username == "acme.admin":
        with app.app_context():
            _orders_of("Acme Aqua", 2)
    c = client_as(username)
    headers, _rows = list_table(sorted_page(c, name, "", "asc"))
    links = dict(headers)
    for col in view.list_columns:
        label = str(view.label_columns.get(col, col))
        assert links.get(label), f"{name}: the column {label!r} has no sort link"
        distinct = set()
        for direction in ("asc", "desc"):
            page = sorted_page(c, name, col, direction)
            if col in NAMED.get(name, ()):
                # Empty values come first or last (SQLite and PostgreSQL differ): the names are in order.
                names = [text.casefold() for text in column(page, label) if text != EMPTY]
                assert names == sorted(names, reverse=direction == "desc"), f"{name} by {col} {direction}"
                distinct.update(names)
        if username == "superadmin":  # the 100 listed customers' rows
            assert col not in NAMED.get(name, ()) or len(distinct) > 1, f"{name} by {col}: nothing to compare"


def _orders_of(customer: str, n: int) -> None:
    """``n`` draft orders of ``customer`` (the base data has none), written straight into the table."""
    import datetime as dt
    import uuid

    from app import models as m
    from app.extensions import db

    from .conftest import get_one

    customer_id, oraseas_id = get_one(m.Organization, name=customer).id, get_one(m.Organization, name="Oraseas EE").id
    db.session.execute(sa.insert(m.CustomerOrder.__table__), [
        {"id": uuid.uuid4(), "customer_organization_id": customer_id, "oraseas_organization_id": oraseas_id,
         "order_date": dt.datetime.now(dt.timezone.utc), "status": m.CustomerOrderStatus.draft} for _ in range(n)])
    db.session.commit()
    db.session.remove()


def test_the_ledger_sorts_by_quantity_and_date_as_numbers_and_times(app, listed, client_as):
    c = client_as("superadmin")
    for direction in ("asc", "desc"):
        quantities = [float(text.split()[0]) for text in column(
            sorted_page(c, "ledger", "quantity_with_unit", direction), "Quantity")]
        assert quantities == sorted(quantities, reverse=direction == "desc")
        dates = column(sorted_page(c, "ledger", "transaction_date", direction), "Date")
        assert dates == sorted(dates, reverse=direction == "desc")
    stock = [float(text.split()[0]) for text in column(
        sorted_page(c, "stock levels", "stock_on_hand", "desc"), "Stock on hand")]
    assert stock == sorted(stock, reverse=True)


@pytest.mark.parametrize("username", ["superadmin", "acme.admin"])
def test_pages_of_a_sorted_list_continue_each_other(app, listed, client_as, username):
    """Page after page (chosen by their keys first, app.views.interface) gives the first page's rows in order."""
    c = client_as(username)
    for col in ("part", "from_warehouse_name", "quantity_with_unit", ""):
        whole = list_table(sorted_page(c, "ledger", col, "asc", size=100))[1]
        pages = [row for number in range(4) for row in list_table(sorted_page(c, "ledger", col, "asc", 3, number))[1]]
        assert pages == whole[:len(pages)] and len(pages) == min(12, len(whole)), col


@pytest.mark.parametrize("username", ["superadmin", "acme.admin"])
def test_the_ledger_sorted_by_a_warehouse_pages_through_every_row_in_the_labels_order(app, listed, client_as,
                                                                                       username):
    """Sorted by From or To, a page is read in two parts (the labelled rows, the empty ones:
    ``page_by_label``): page after page gives exactly the user's rows, in the order of one
    plain SQL sort by the warehouse's and organization's names with empty ones last ascending,
    first descending, and the key breaking ties."""
    from app import models as m
    from app.extensions import db
    from app.models.warehouse import warehouse_names
    from app.scoping import acting_as, actor_for

    from .conftest import get_one

    size = 25
    if username == "acme.admin":  # its own rows: 40 into its warehouses, 30 out
        with app.app_context():
            admin = get_one(m.PortalUser, username=username)
            main, site = get_one(m.Warehouse, name="Acme Main"), get_one(m.Warehouse, name="Acme Site")
            con = get_one(m.Part, part_number="CON-1")
            with acting_as(actor_for(admin)):
                for i in range(40):
                    factories.txn(m.TransactionType.creation, con, 2, admin, dest=(main, site)[i % 2])
                for i in range(30):
                    factories.txn(m.TransactionType.consumption, con, 1, admin, source=(main, site)[i % 2])
                db.session.commit()
            db.session.remove()
    c = client_as(username)
    for col, fk in (("from_warehouse_name", "from_warehouse_id"), ("to_warehouse_name", "to_warehouse_id")):
        for direction in ("asc", "desc"):
            with app.app_context():
                t = m.Transaction
                # The names as the parties read them (the view of names: on PostgreSQL, row-level
                # security hides the other party's warehouse rows, not their names).
                v = warehouse_names().alias()
                order = sa.asc if direction == "asc" else sa.desc
                nulls = "nulls_last" if direction == "asc" else "nulls_first"
                with acting_as(actor_for(get_one(m.PortalUser, username=username))):
                    rows = db.session.execute(
                        sa.select(t.id, getattr(t, fk)).outerjoin(v, v.c.id == getattr(t, fk))
                        .order_by(getattr(order(v.c.name), nulls)(), getattr(order(v.c.organization_name), nulls)(),
                                  order(t.id))
                    ).all()
                db.session.remove()
            expected = [str(key) for key, _warehouse in rows]
            # Both parts, and a page where one ends and the other begins.
            empty = sum(warehouse is None for _key, warehouse in rows)
            assert 0 < empty < len(rows) and len(rows) > 2 * size, (col, empty, len(rows))
            shown = []
            for number in range(len(expected) // size + 2):
                shown += re.findall(r'href="/transactionmodelview/show/([0-9a-f-]{36})',
                                    sorted_page(c, "ledger", col, direction, size, number))
            assert shown == expected, (col, direction)


def test_a_customer_sees_the_other_partys_warehouse_sorted_by_its_name(app, client_as):
    """A receipt's source is the sender's transit location, out of the customer's scope but named on
    the row (issue 8): sorted by its name like any other, not as an empty value."""
    from app import models as m
    from app.extensions import db
    from app.scoping import acting_as

    from .conftest import get_one

    with app.app_context():
        admin = get_one(m.PortalUser, username="acme.admin")
        main, site = get_one(m.Warehouse, name="Acme Main"), get_one(m.Warehouse, name="Acme Site")
        con = get_one(m.Part, part_number="CON-1")
        # Newest first: a consumption out of Acme Main, a creation (no source), another consumption.
        for kind, source, dest in ((m.TransactionType.consumption, main, None),
                                   (m.TransactionType.creation, None, site),
                                   (m.TransactionType.consumption, main, None)):
            with acting_as(admin):
                factories.txn(kind, con, 1, admin, source=source, dest=dest)
                db.session.commit()
        db.session.remove()
    c = client_as("acme.admin")
    for direction in ("asc", "desc"):
        sources = column(sorted_page(c, "ledger", "from_warehouse_name", direction), "From")
        named = [i for i, text in enumerate(sources) if text != EMPTY]
        assert any("Oraseas EE" in sources[i] for i in named) and EMPTY in sources, sources
        assert named == list(range(named[0], named[0] + len(named))), f"names and empty values interleave: {sources}"
        names = [sources[i].casefold() for i in named]
        assert names == sorted(names, reverse=direction == "desc"), sources


# --- light pages, constant queries ---------------------------------------------------

@pytest.mark.parametrize("name", ["ledger", "stock levels"])
def test_a_100_row_page_of_the_ledger_and_the_stock_levels_stays_under_120_kb(app, listed, client_as, name):
    route, arg = LISTS[name]
    resp = client_as("superadmin").get(f"/{route}/list/", query_string={f"psize_{arg}": 100})
    html = resp.get_data(as_text=True)
    assert len(list_table(html)[1]) == 100
    assert len(resp.get_data()) <= 120 * 1024, f"{name}: {len(resp.get_data()):,} bytes for 100 rows"


def test_each_row_links_to_its_record_and_one_script_deletes_any_row(app, listed, client_as):
    html = client_as("superadmin").get("/inventorymodelview/list/", query_string={"psize_InventoryModelView": 10}).get_data(
        as_text=True)
    shown = re.findall(r'href="/inventorymodelview/show/([0-9a-f-]{36})"', html)
    edits = re.findall(r'href="/inventorymodelview/edit/([0-9a-f-]{36})"', html)
    deletes = re.findall(r'data-url="/inventorymodelview/delete/([0-9a-f-]{36})"', html)
    assert len(shown) == 10 and shown == edits == deletes
    assert html.count("execute_single_delete") == 1


@pytest.mark.parametrize("name", ["ledger", "stock levels", "parts", "warehouses", "customer orders",
                                  "stock transfers"])
def test_a_list_pages_queries_are_the_same_for_5_and_100_rows(app, listed, client_as, name):
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    route, arg = LISTS[name]
    c = client_as("superadmin")
    assert c.get(f"/{route}/list/").status_code == 200  # warm-up: FAB's first-request work is not the page's
    counts = {}
    for size in (5, 100):
        with counted_queries(engine) as statements:
            page = c.get(f"/{route}/list/", query_string={f"psize_{arg}": size})
        assert page.status_code == 200 and len(list_table(page.get_data(as_text=True))[1]) == size
        counts[size] = len(statements)
    assert counts[5] == counts[100], counts
