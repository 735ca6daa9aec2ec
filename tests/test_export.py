"""CSV export of the lists: what auditors and staff download."""
import csv
import io


def rows(resp):
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(resp.get_data(as_text=True))))


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


def test_quantities_are_exported_as_numbers_with_the_unit_in_its_own_column(client_as):
    table = rows(client_as("auditor").get("/inventorymodelview/export/"))
    header = table[0]
    assert header[:5] == ["Warehouse", "Part", "Stock on hand", "Unit", "Reorder point"]
    values = {(row[2], row[3]) for row in table[1:]}
    assert ("85", "pieces") in values and ("50", "litres") in values


def test_a_user_without_read_access_cannot_export(client_as):
    resp = client_as("acme.user").get("/transactionmodelview/export/")
    assert resp.status_code in (302, 403)
