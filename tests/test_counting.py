"""The row count of a list: exact when small, the planner's "about N" when large (PostgreSQL)."""
from __future__ import annotations

import re

import sqlalchemy as sa

URL = "/transactionmodelview/list/"


def _count_text(html: str) -> str:
    flat = re.sub(r"\s+", " ", html)
    match = re.search(r"Record Count:</strong> ([^<]+?) ?<", flat)
    assert match, "the list shows its record count"
    return match.group(1).strip()


def _ledger_rows(app) -> int:
    from app.extensions import db
    from app import models as m

    with app.app_context():
        n = db.session.execute(sa.select(sa.func.count()).select_from(m.Transaction)).scalar_one()
        if db.engine.dialect.name == "postgresql":
            # The planner's estimate comes from the table's statistics (ANALYZE is the owner's).
            from .conftest import as_owner

            as_owner("ANALYZE transactions", autocommit=True)
        db.session.remove()
        return n


def test_above_the_limit_the_list_shows_about_n_on_postgresql_and_still_pages(app, engine_name, config, client_as):
    rows = _ledger_rows(app)
    assert rows > 4
    config["LIST_EXACT_COUNT_LIMIT"] = 3
    c = client_as("superadmin")
    page = c.get(URL, query_string={"psize_TransactionModelView": 2}).get_data(as_text=True)
    shown = _count_text(page)
    if engine_name == "postgresql":
        assert re.fullmatch(r"about \d[\d,]*", shown), shown
        assert int(shown.split()[1].replace(",", "")) > 3
    else:
        assert shown == str(rows), "SQLite always counts exactly"
    # Pages of 2 rows: the last full page still has its rows.
    assert "page_TransactionModelView=1" in page
    last_page = (rows - 1) // 2
    last = c.get(URL, query_string={"psize_TransactionModelView": 2,
                                    "page_TransactionModelView": last_page}).get_data(as_text=True)
    shown_rows = set(re.findall(r"/transactionmodelview/show/([0-9a-f-]{36})", last))
    assert len(shown_rows) == rows - 2 * last_page


def test_under_the_limit_the_count_is_exact(app, config, client_as):
    rows = _ledger_rows(app)
    config["LIST_EXACT_COUNT_LIMIT"] = 10_000
    assert _count_text(client_as("superadmin").get(URL).get_data(as_text=True)) == str(rows)
    config["LIST_EXACT_COUNT_LIMIT"] = None
    assert _count_text(client_as("superadmin").get(URL).get_data(as_text=True)) == str(rows)


def test_the_rest_api_counts_exactly_whatever_the_limit(app, config, api_as):
    rows = _ledger_rows(app)
    config["LIST_EXACT_COUNT_LIMIT"] = 3
    body = api_as("superadmin").get("/api/v1/transaction/").get_json()
    assert body["count"] == rows


def test_a_customer_admin_list_estimates_within_its_own_scope(app, engine_name, config, client_as):
    rows = _ledger_rows(app)
    config["LIST_EXACT_COUNT_LIMIT"] = 0
    shown = _count_text(client_as("acme.admin").get(URL).get_data(as_text=True))
    if engine_name == "postgresql":
        # The estimate is of Acme's rows (the scope is part of the explained query), not of the whole ledger.
        assert re.fullmatch(r"about \d+", shown) and int(shown.split()[1]) < rows, shown
    else:
        assert int(shown) < rows
