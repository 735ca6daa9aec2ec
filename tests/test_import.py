"""Bulk import with a dry run (issue 11): the parts catalog and opening stock, from the screens and the CLI.

Base data (``tests/factories.py``): Central (Oraseas EE) 85 CON-1 and 50 litres of BULK-1,
Acme Main 10 CON-1, Acme Site nothing, Beta Main 5 CON-1.
"""
from __future__ import annotations

import decimal
import html
import io
import re

import pytest
import sqlalchemy as sa
import xlsxwriter

from app import models as m
from app.extensions import db
from app.ledger_check import verify_balances
from app.scoping import system

from .conftest import csrf_token, get_one

D = decimal.Decimal
PARTS_HEADER = "part_number,name,part_type,unit_of_measure,unit_price,is_proprietary\n"
STOCK_HEADER = "organization,warehouse,part_number,quantity\n"
GOOD_STOCK = STOCK_HEADER + ("Acme Aqua,Acme Site,CON-1,3\n"
                             "Acme Aqua,Acme Site,BULK-1,2.5\n"
                             "Acme Aqua,Acme Main,bulk-1,1.25\n")


def state(app) -> dict:
    """What an import could change: the catalog, the ledger, the balances, the security events."""
    with app.app_context(), system():
        s = db.session
        count = lambda model: s.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()  # noqa: E731
        balances = sorted((str(w), str(p), D(q).normalize()) for w, p, q in s.execute(
            sa.select(m.Inventory.warehouse_id, m.Inventory.part_id, m.Inventory.current_stock)))
        return {"parts": count(m.Part), "transactions": count(m.Transaction), "inventory": balances,
                "imports": s.execute(sa.select(sa.func.count()).select_from(m.SecurityEvent).where(
                    m.SecurityEvent.event_type == "import")).scalar_one()}


def balance(app, warehouse: str, part: str):
    with app.app_context(), system():
        wh, pt = get_one(m.Warehouse, name=warehouse), get_one(m.Part, part_number=part)
        inv = db.session.execute(sa.select(m.Inventory).filter_by(warehouse_id=wh.id, part_id=pt.id)).scalar()
        return None if inv is None else D(inv.current_stock).normalize()


def upload(client, kind: str, content: bytes | str, filename: str = "file.csv"):
    """POST a file to ``/import/<kind>/check`` as the upload form does (with its CSRF token)."""
    token = csrf_token(client.get(f"/import/{kind}/").get_data(as_text=True))
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.post(f"/import/{kind}/check", data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def confirm(client, kind: str, page: str):
    """Press the report's Import button."""
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    return client.post(f"/import/{kind}/confirm", data={"csrf_token": csrf_token(page), "token": token})


def problems(page: str) -> list[tuple[str, str, str]]:
    """The report's problems: (row, column, message) as the page shows them."""
    table = page.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<tr><td[^>]*>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table, re.S)
    return [tuple(html.unescape(re.sub(r"\s+", " ", c).strip()) for c in row) for row in cells]


def xlsx(rows: list[list], formula: tuple[int, int, str] | None = None) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"strings_to_numbers": False})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        sheet.write_row(r, 0, row)
    if formula:
        sheet.write_formula(*formula, None, 3)
    book.close()
    return out.getvalue()


# --- opening stock ------------------------------------------------------------------------

def test_stock_dry_run_writes_nothing_and_reports_each_bad_row_with_its_number(app, client_as):
    admin = client_as("acme.admin")
    before = state(app)
    resp = upload(admin, "stock", STOCK_HEADER + (
        "Acme Aqua,Acme Site,CON-1,3\n"         # 2: fine
        "Acme Aqua,Acme Site,CON-1,2.5\n"       # 3: the same line again
        "Acme Aqua,Acme Site,BULK-1,2.5\n"      # 4: fine
        "\n"                                    # 5: blank, skipped
        "Acme Aqua,Acme Main,CON-1,4\n"         # 6: Acme Main holds CON-1 already
        "Acme Aqua,Acme Site,NOPE-9,1\n"        # 7: no such part
        "Acme Aqua,Acme Attic,BULK-1,1\n"       # 8: no such warehouse
        "Acme Aqua,Acme Main,BULK-1,1.2345\n"   # 9: 4 decimals
    ))
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    found = problems(page)
    assert [(row, column) for row, column, _ in found] == [
        ("3", "part_number"), ("6", "part_number"), ("7", "part_number"), ("8", "warehouse"), ("9", "quantity")]
    assert "also on row 2" in found[0][2]
    assert "already holds 10 pieces of CON-1" in found[1][2]
    assert "'NOPE-9'" in found[2][2]
    assert "at most 3 decimal places" in found[4][2]
    assert 'id="import-confirm"' not in page
    assert state(app) == before


def test_stock_consumable_counted_in_whole_units(app, client_as):
    page = upload(client_as("acme.admin"), "stock", STOCK_HEADER + "Acme Aqua,Acme Site,CON-1,2.5\n").get_data(
        as_text=True)
    assert problems(page) == [("2", "quantity", "CON-1 is a consumable counted in whole pieces; 2.5 is not a "
                                                "whole number.")]


def test_stock_import_posts_creations_through_the_ledger_and_verify_ledger_agrees(app, client_as, runner):
    admin = client_as("acme.admin")
    before = state(app)
    page = upload(admin, "stock", GOOD_STOCK).get_data(as_text=True)
    assert 'id="import-ok"' in page and "Import 3 rows" in page
    assert state(app) == before  # the dry run wrote nothing
    resp = confirm(admin, "stock", page)
    assert resp.status_code == 302 and "/inventorymodelview/list/" in resp.headers["Location"]
    after = state(app)
    assert after["transactions"] == before["transactions"] + 3 and after["imports"] == before["imports"] + 1
    assert balance(app, "Acme Site", "CON-1") == 3
    assert balance(app, "Acme Site", "BULK-1") == D("2.5")
    assert balance(app, "Acme Main", "BULK-1") == D("1.25")
    with app.app_context(), system():
        rows = db.session.execute(sa.select(m.Transaction).order_by(m.Transaction.created_at.desc()).limit(3)
                                  ).scalars().all()
        assert {r.transaction_type for r in rows} == {m.TransactionType.creation}
        assert {r.performed_by_user.username for r in rows} == {"acme.admin"}
        assert any("row 4" in r.notes for r in rows)
        assert verify_balances(db.session) == []
    assert runner.invoke(args=["abparts", "verify-ledger"]).exit_code == 0
    # Opening stock is entered once: the same file again is refused, row by row.
    again = upload(admin, "stock", GOOD_STOCK).get_data(as_text=True)
    assert [row for row, _c, _m in problems(again)] == ["2", "3", "4"]


def test_stock_real_run_of_a_file_with_one_bad_row_writes_nothing(app, client_as):
    admin = client_as("acme.admin")
    page = upload(admin, "stock", GOOD_STOCK).get_data(as_text=True)
    before = state(app)
    # Between the check and the confirmation the file's Acme Site CON-1 line has become wrong.
    with app.app_context():
        from tests import factories

        factories.shipped_to(get_one(m.Warehouse, name="Acme Site"), get_one(m.Part, part_number="CON-1"), 1,
                             get_one(m.Warehouse, name="Central"), get_one(m.PortalUser, username="oraseas.admin"))
    moved = state(app)
    resp = confirm(admin, "stock", page)
    assert resp.status_code == 422
    text = resp.get_data(as_text=True)
    assert "Nothing was imported" in text and problems(text)[0][0] == "2"
    assert state(app) == moved and moved["transactions"] > before["transactions"]


def test_customer_admin_cannot_import_into_another_organizations_warehouse(app, client_as):
    before = state(app)
    page = upload(client_as("acme.admin"), "stock", STOCK_HEADER + (
        "Acme Aqua,Acme Site,CON-1,1\n"
        "Beta Fish,Beta Main,BULK-1,1\n"
        "Oraseas EE,Central,BULK-1,1\n")).get_data(as_text=True)
    found = problems(page)
    assert [(row, column) for row, column, _ in found] == [("3", "warehouse"), ("4", "warehouse")]
    assert "among the warehouses of your organization" in found[0][2]
    assert state(app) == before


def test_supplier_warehouse_is_refused_by_the_ledger_rule(app, client_as):
    """A customer admin sees its supplier's rows, but moves stock only in its own warehouses."""
    with app.app_context():
        supplies = get_one(m.Organization, name="Acme Supplies")
        db.session.add(m.Warehouse(organization_id=supplies.id, name="Supplies Store"))
        db.session.commit()
    page = upload(client_as("acme.admin"), "stock", STOCK_HEADER + "Acme Supplies,Supplies Store,CON-1,1\n")
    found = problems(page.get_data(as_text=True))
    assert found[0][:2] == ("2", "warehouse") and "your own organization" in found[0][2]


def test_stock_from_xlsx_with_numbers_as_numbers(app, client_as):
    admin = client_as("acme.admin")
    data = xlsx([["Organization", "Warehouse", "Part number", "Quantity", "Unit of measure"],
                 ["Acme Aqua", "Acme Site", "CON-1", 4, "pieces"],
                 ["Acme Aqua", "Acme Site", "BULK-1", 0.75, "litres"]])
    page = upload(admin, "stock", data, "stock.xlsx").get_data(as_text=True)
    assert 'id="import-ok"' in page, page
    assert confirm(admin, "stock", page).status_code == 302
    assert balance(app, "Acme Site", "CON-1") == 4 and balance(app, "Acme Site", "BULK-1") == D("0.75")


def test_stock_unit_must_be_the_parts(app, client_as):
    page = upload(client_as("acme.admin"), "stock", "organization,warehouse,part_number,quantity,unit_of_measure\n"
                                                     "Acme Aqua,Acme Site,BULK-1,2,kg\n").get_data(as_text=True)
    assert problems(page) == [("2", "unit_of_measure", "The unit of measure must be the part's (litres), not kg.")]


# --- parts ----------------------------------------------------------------------------------

def test_parts_dry_run_writes_nothing_and_reports_the_forms_checks_by_row(app, client_as):
    boss = client_as("superadmin")
    before = state(app)
    page = upload(boss, "parts", PARTS_HEADER + (
        "new-1,Filter cartridge,consumable,pieces,12.50,no\n"     # 2: fine
        " NEW-1 ,Filter again,,,,\n"                               # 3: the same number once normalised
        "con-1,Clash,,,,\n"                                        # 4: in the catalog already
        ",No number,,,,\n"                                         # 5: number required
        "NEW-2,Bad type,widget,,,\n"                               # 6: no such type
        "NEW-3,Bad price,,,-1,\n"                                  # 7: negative price
        "NEW-4,Bad flag,,,,perhaps\n"                              # 8: yes or no
    )).get_data(as_text=True)
    found = problems(page)
    assert [(row, column) for row, column, _ in found] == [
        ("3", "part_number"), ("4", "part_number"), ("5", "part_number"), ("6", "part_type"), ("7", "unit_price"),
        ("8", "is_proprietary")]
    assert "NEW-1 is also on row 2" in found[0][2] and "CON-1 is already in the catalog" in found[1][2]
    assert "cannot be negative" in found[4][2]
    assert state(app) == before


def test_parts_import_adds_the_parts_as_the_form_would(app, client_as):
    boss = client_as("superadmin")
    page = upload(boss, "parts", PARTS_HEADER + "new-1 ,Filter cartridge,,,12.50,yes\n"
                                                "NEW-2,Hydraulic oil,Bulk material,litres,,\n").get_data(as_text=True)
    assert "Import 2 rows" in page
    assert confirm(boss, "parts", page).status_code == 302
    with app.app_context():
        new1, new2 = get_one(m.Part, part_number="NEW-1"), get_one(m.Part, part_number="NEW-2")
        assert (new1.part_type, new1.unit_of_measure, new1.unit_price, new1.is_proprietary) == (
            m.PartType.consumable, "pieces", D("12.50"), True)
        assert (new2.part_type, new2.unit_of_measure, new2.is_proprietary) == (m.PartType.bulk_material, "litres",
                                                                              False)


def test_parts_real_run_with_one_bad_row_writes_nothing(app, client_as, config):
    boss = client_as("superadmin")
    page = upload(boss, "parts", PARTS_HEADER + "NEW-1,One,,,,\nNEW-2,Two,,,,\n").get_data(as_text=True)
    before = state(app)
    config["LIMIT_PARTS"] = 3  # 2 parts exist: the second new one would cross the cap
    resp = confirm(boss, "parts", page)
    assert resp.status_code == 422
    text = resp.get_data(as_text=True)
    assert "The limit of 3 parts is reached" in text
    assert state(app) == before


def test_parts_import_is_for_those_who_may_add_parts(app, client_as):
    assert client_as("acme.admin").get("/import/parts/").status_code == 403
    assert client_as("oraseas.admin").get("/import/parts/").status_code == 403
    assert client_as("auditor").get("/import/stock/").status_code == 403
    assert client_as("acme.user").get("/import/stock/").status_code == 403
    assert client_as("acme.admin").get("/import/stock/").status_code == 200
    page = client_as("acme.admin").get("/import/stock/").get_data(as_text=True)
    assert "Import Opening Stock" in page and "Import Parts" not in page


# --- bad files ----------------------------------------------------------------------------

BAD_FILES = {
    "missing columns": (STOCK_HEADER.replace(",quantity", ",qty") + "Acme Aqua,Acme Site,CON-1,3\n", "s.csv",
                        "missing column: quantity; unknown column: qty"),
    "not UTF-8": ((STOCK_HEADER + "Acme Aqua,Acme Site,CON-1,3 pièces\n").encode("latin-1"), "s.csv",
                  "is not UTF-8 text (byte 0xE8 on line 2)"),
    "empty": (b"", "s.csv", "s.csv is empty"),
    "header only": (STOCK_HEADER, "s.csv", "has a header but no rows"),
    "neither CSV nor XLSX": (b"%PDF-1.4 ...", "stock.pdf", "is neither a CSV"),
    "old Excel": (b"\xd0\xcf\x11\xe0", "stock.xls", "Save it as .xlsx"),
    "XLSX that is not": (b"organization,warehouse\n", "stock.xlsx", "is not an Excel workbook"),
    "XLSX formula": (xlsx([["organization", "warehouse", "part_number", "quantity"],
                           ["Acme Aqua", "Acme Site", "CON-1"]], formula=(1, 3, "=1+2")), "s.xlsx",
                     "Cell D2 holds a formula (=1+2)"),
    "CSV formula": (STOCK_HEADER + "Acme Aqua,Acme Site,CON-1,=1+2\n", "s.csv", "Cell D2 holds a formula"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_get_a_clear_400_and_write_nothing(app, client_as, case):
    content, name, message = BAD_FILES[case]
    before = state(app)
    resp = upload(client_as("acme.admin"), "stock", content, name)
    assert resp.status_code == 400
    assert message in html.unescape(resp.get_data(as_text=True))
    assert state(app) == before


@pytest.mark.parametrize("case", ["missing columns", "not UTF-8", "XLSX formula", "neither CSV nor XLSX"])
def test_bad_files_get_a_clear_error_from_the_cli(app, runner, tmp_path, case):
    content, name, message = BAD_FILES[case]
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    result = runner.invoke(args=["abparts", "import-stock", str(path), "--as", "acme.admin"])
    assert result.exit_code == 1 and message in result.output


def test_utf8_with_bom_and_semicolons_are_read(app, client_as):
    content = "\ufeff" + GOOD_STOCK.replace(",", ";")
    page = upload(client_as("acme.admin"), "stock", content).get_data(as_text=True)
    assert 'id="import-ok"' in page, page


def test_a_file_over_the_limit_answers_413_with_a_page(app, client_as, config):
    admin = client_as("acme.admin")
    token = csrf_token(admin.get("/import/stock/").get_data(as_text=True))
    big = io.BytesIO(b"organization,warehouse,part_number,quantity\n" + b"x" * (50 * 1024 * 1024))
    resp = admin.post("/import/stock/check", data={"csrf_token": token, "file": (big, "big.csv")},
                      content_type="multipart/form-data")
    assert resp.status_code == 413
    assert "File too large" in resp.get_data(as_text=True) and "16 MB" in resp.get_data(as_text=True)


def test_confirm_without_a_checked_file_is_a_400(app, client_as):
    admin = client_as("acme.admin")
    page = admin.get("/import/stock/").get_data(as_text=True)
    resp = admin.post("/import/stock/confirm", data={"csrf_token": csrf_token(page), "token": "forged"})
    assert resp.status_code == 400 and "check the file again" in resp.get_data(as_text=True)


def test_templates_hold_the_header(app, client_as):
    import openpyxl

    admin = client_as("acme.admin")
    csv_text = admin.get("/import/stock/template.csv").get_data(as_text=True)
    assert csv_text.strip() == "organization,warehouse,part_number,quantity,unit_of_measure,reference_number,notes"
    book = openpyxl.load_workbook(io.BytesIO(admin.get("/import/stock/template.xlsx").data), read_only=True)
    assert next(book.worksheets[0].iter_rows(values_only=True))[:4] == (
        "organization", "warehouse", "part_number", "quantity")


# --- the command line ------------------------------------------------------------------------

def test_cli_dry_run_then_import(app, runner, tmp_path):
    path = tmp_path / "stock.csv"
    path.write_text(GOOD_STOCK.replace("Acme Aqua,Acme Main,bulk-1,1.25\n", "Acme Aqua,Acme Main,bulk-1,1.2345\n"))
    before = state(app)
    result = runner.invoke(args=["abparts", "import-stock", str(path), "--as", "acme.admin", "--dry-run"])
    assert result.exit_code == 1 and "stock.csv: row 4, quantity: Quantity may have at most 3 decimal places" \
        in result.output
    result = runner.invoke(args=["abparts", "import-stock", str(path), "--as", "acme.admin"])
    assert result.exit_code == 1 and "nothing was imported" in result.output
    assert state(app) == before
    path.write_text(GOOD_STOCK)
    result = runner.invoke(args=["abparts", "import-stock", str(path), "--as", "acme.admin", "--dry-run"])
    assert result.exit_code == 0 and "nothing was written" in result.output and state(app) == before
    result = runner.invoke(args=["abparts", "import-stock", str(path), "--as", "acme.admin"])
    assert result.exit_code == 0, result.output
    assert state(app)["transactions"] == before["transactions"] + 3


def test_cli_parts_need_a_user_who_may_add_parts(app, runner, tmp_path):
    path = tmp_path / "parts.csv"
    path.write_text(PARTS_HEADER + "NEW-1,One,,,,\n")
    result = runner.invoke(args=["abparts", "import-parts", str(path), "--as", "acme.admin"])
    assert result.exit_code == 1 and "may not import parts catalog" in result.output
    result = runner.invoke(args=["abparts", "import-parts", str(path), "--as", "superadmin"])
    assert result.exit_code == 0, result.output


def test_the_parts_form_refuses_an_unknown_type_as_a_choice_not_a_500(app, client_as):
    """The form the import checks rows with: FAB's enum field raised KeyError (a 500) for a forged value."""
    from .conftest import submit_form

    resp = submit_form(client_as("superadmin"), "/partmodelview/add", {
        "part_number": "NEW-9", "name": "Forged", "part_type": "widget", "unit_of_measure": "pieces"})
    assert resp.status_code == 200 and "could not coerce" in resp.get_data(as_text=True)
    with app.app_context(), system():
        assert db.session.execute(sa.select(m.Part).filter_by(part_number="NEW-9")).scalar() is None


def test_a_second_confirmation_of_the_same_check_imports_nothing_more(app, client_as):
    admin = client_as("acme.admin")
    page = upload(admin, "stock", GOOD_STOCK).get_data(as_text=True)
    assert confirm(admin, "stock", page).status_code == 302
    after = state(app)
    again = confirm(admin, "stock", page)
    assert again.status_code == 400 and "imported already" in again.get_data(as_text=True)
    assert state(app) == after
