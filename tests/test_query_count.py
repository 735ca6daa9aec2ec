"""The benchmark's query count: ``X-Query-Count`` with ``ABPARTS_QUERY_COUNT_HEADER`` on, nothing by default."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from .conftest import csrf_token, make_config
from . import factories


@pytest.fixture
def counting_app(app, database):
    """A second portal on the test database with the setting on (the page benchmark's gunicorn)."""
    from app import create_app
    from app.extensions import db

    application = create_app(make_config(database.url, QUERY_COUNT_HEADER=True))
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def test_each_answer_names_the_number_of_sql_statements_its_request_ran(counting_app):
    from app.extensions import db

    client = counting_app.test_client()
    token = csrf_token(client.get("/login/").get_data(as_text=True))
    login = client.post("/login/", data={"username": "acme.admin", "password": factories.PASSWORD,
                                         "csrf_token": token})
    assert login.status_code == 302 and int(login.headers["X-Query-Count"]) > 0

    seen = []
    with counting_app.app_context():
        engine = db.engine

    def witness(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", witness)
    try:
        page = client.get("/transactionmodelview/list/")
        first = len(seen)
        again = client.get("/partmodelview/list/")
    finally:
        event.remove(engine, "before_cursor_execute", witness)
    assert page.status_code == 200 and "Stock ledger" in page.get_data(as_text=True)
    assert int(page.headers["X-Query-Count"]) == first > 0
    assert int(again.headers["X-Query-Count"]) == len(seen) - first > 0


def test_without_the_setting_answers_carry_no_query_count(client_as):
    page = client_as("acme.admin").get("/transactionmodelview/list/")
    assert page.status_code == 200
    assert "X-Query-Count" not in page.headers
