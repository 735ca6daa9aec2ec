"""The export log (issue 11): every export recorded, scoped, append-only; a logged stock
ledger export runs again "as of" its time and gives the same rows."""
from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from app import models as m
from app.errors import RuleViolation
from app.extensions import db
from app.scoping import organization_family, system

from . import factories
from .conftest import get_one
from .test_export import rows, sheet, write


def logged(app) -> list[m.ExportLog]:
    """Every export log row, oldest first (read unscoped; detached)."""
    with app.app_context(), system():
        entries = db.session.execute(sa.select(m.ExportLog).order_by(m.ExportLog.started_at)).scalars().all()
        db.session.expunge_all()
        db.session.remove()
    return entries


def test_every_export_records_who_which_list_filters_sort_scope_format_rows_and_time(app, client_as):
    query = "_flt_0_is_active=y&_oc_WarehouseModelView=name&_od_WarehouseModelView=desc"
    assert len(rows(client_as("acme.admin").get(f"/warehousemodelview/export/?{query}"))) == 3
    assert len(sheet(client_as("auditor").get("/transactionmodelview/export/?format=xlsx&q=CON-1"))) == 6
    first, second = logged(app)
    with app.app_context():
        acme = get_one(m.Organization, name="Acme Aqua")
        family = ",".join(str(org) for org in organization_family(acme.id))
        acme_admin = get_one(m.PortalUser, username="acme.admin")
        assert (first.user_id, first.organization_id) == (acme_admin.id, acme.id)
        db.session.remove()
    assert (first.username, first.list_name, first.view_name, first.format) == (
        "acme.admin", "Warehouses", "WarehouseModelView", "csv")
    assert first.query == query and first.organization_scope == family and "," in family
    assert json.loads(first.filters) == {"filters": [["is_active", "eq", ["y"]]], "search": "",
                                         "order": ["name", "desc"]}
    assert first.row_count == 2 and first.started_at <= first.finished_at and first.as_of is None
    assert (second.username, second.list_name, second.format, second.row_count) == (
        "auditor", "Stock ledger", "xlsx", 5)
    assert second.organization_scope == "all" and json.loads(second.filters)["search"] == "CON-1"
    # A ledger export is read as of its start: the time the log keeps for a re-run.
    assert second.as_of == second.started_at


def test_a_stocktake_report_download_is_logged(app, client_as, api_as):
    with app.app_context():
        store = get_one(m.Warehouse, name="Acme Main")
        counter = get_one(m.PortalUser, username="acme.user").id
        db.session.remove()
    planned = api_as("acme.admin").post("/api/v1/stocktake/", json={
        "warehouse": str(store.id), "planned_date": "2026-12-10", "counters": [counter], "scope": "all"})
    assert planned.status_code == 201
    sid = planned.get_json()["id"]
    report = client_as("acme.admin").get(f"/stocktakemodelview/report_xlsx/{sid}")
    assert report.status_code == 200 and len(sheet(report)) == 3  # the header, CON-1's line, the total
    [entry] = logged(app)
    assert entry.list_name.startswith("Stocktake report ST-") and entry.format == "xlsx" and entry.row_count == 2


def test_auditors_list_and_export_the_log_and_an_admin_sees_its_own_organizations(app, client_as):
    for user in ("acme.admin", "beta.admin", "oraseas.admin"):
        rows(client_as(user).get("/warehousemodelview/export/"))
    auditor = client_as("auditor")
    page = auditor.get("/exportlogmodelview/list/").get_data(as_text=True)
    assert all(name in page for name in ("acme.admin", "beta.admin", "oraseas.admin"))
    table = rows(auditor.get("/exportlogmodelview/export/?_flt_0_list_name=Warehouses"))
    assert table[0][:5] == ["Started", "User", "List", "Format", "Rows"]
    assert sorted(row[1] for row in table[1:]) == ["acme.admin", "beta.admin", "oraseas.admin"]
    book = sheet(auditor.get("/exportlogmodelview/export/?format=xlsx&_flt_0_list_name=Warehouses"))
    assert sorted(row[1] for row in book[1:]) == ["acme.admin", "beta.admin", "oraseas.admin"]
    assert sorted(row[4] for row in book[1:]) == [1, 1, 2]  # the rows each exported, as numbers
    own = rows(client_as("acme.admin").get("/exportlogmodelview/export/?_flt_0_list_name=Warehouses"))
    assert [row[1] for row in own[1:]] == ["acme.admin"]
    assert client_as("acme.user").get("/exportlogmodelview/list/").status_code == 403


def test_the_export_log_is_append_only(app, client_as):
    rows(client_as("auditor").get("/warehousemodelview/export/"))
    with app.app_context():
        entry = db.session.execute(sa.select(m.ExportLog)).scalar_one()
        entry.row_count = 0
        with pytest.raises(RuleViolation, match="export log is append-only"):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.execute(sa.select(m.ExportLog)).scalar_one())
        with pytest.raises(RuleViolation, match="export log is append-only"):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(RuleViolation, match="export log is append-only"):
            db.session.execute(sa.delete(m.ExportLog))
        db.session.rollback()
        assert db.session.execute(sa.select(m.ExportLog.row_count)).scalar_one() == 4
        db.session.remove()


def test_a_logged_ledger_export_runs_again_as_of_its_time_with_the_same_rows(app, client_as):
    with app.app_context():
        central, con = get_one(m.Warehouse, name="Central"), get_one(m.Part, part_number="CON-1")
        admin = get_one(m.PortalUser, username="oraseas.admin")
        pending = factories.txn(m.TransactionType.creation, con, 4, admin, dest=central, requires_approval=True,
                                reference_number="WAITING")
        write(app, "oraseas.admin", pending)
        pending_id = pending.id
        db.session.remove()
    auditor = client_as("auditor")
    query = "_oc_TransactionModelView=transaction_date&_od_TransactionModelView=asc"
    before = auditor.get(f"/transactionmodelview/export/?{query}").data
    before_xlsx = sheet(auditor.get(f"/transactionmodelview/export/?{query}&format=xlsx"))
    assert b"WAITING" in before and b"pending" in before

    # Afterwards the ledger grows and the waiting row is decided.
    with app.app_context():
        central, con = get_one(m.Warehouse, name="Central"), get_one(m.Part, part_number="CON-1")
        admin = get_one(m.PortalUser, username="oraseas.admin")
        write(app, "oraseas.admin", factories.txn(m.TransactionType.creation, con, 9, admin, dest=central,
                                                  reference_number="LATER"))
        write(app, "superadmin", m.TransactionApproval(transaction_id=pending_id, status=m.ApprovalStatus.approved))
        db.session.remove()
    now = auditor.get(f"/transactionmodelview/export/?{query}").data
    assert b"LATER" in now and b"pending" not in now

    # The export log's page links to the first export as of its time: the same rows, byte for byte.
    first, first_xlsx = logged(app)[:2]
    page = auditor.get(f"/exportlogmodelview/show/{first.id}").get_data(as_text=True)
    link = re.search(r'href="(/transactionmodelview/export/\?[^"]+)"', page).group(1).replace("&amp;", "&")
    assert "as_of=" in link
    assert auditor.get(link).data == before
    rerun_xlsx = auditor.get(f"/exportlogmodelview/show/{first_xlsx.id}").get_data(as_text=True)
    link = re.search(r'href="(/transactionmodelview/export/\?[^"]+)"', rerun_xlsx).group(1).replace("&amp;", "&")
    assert sheet(auditor.get(link)) == before_xlsx
    rerun = logged(app)[-1]
    assert rerun.as_of == first_xlsx.as_of and rerun.started_at > first_xlsx.started_at
