"""The dashboards on the demo data (issue 11, "Done when"): for each kind of demo login, every
figure on its dashboard equals the record count of the list it links to, on SQLite and PostgreSQL.

The demo is seeded (``flask abparts seed-demo``, its default size) into an empty database of
each engine.  :func:`app.create_app` re-initialises FAB's AppBuilder singleton, so the app
lives for this module only (as in ``tests/test_migrations.py``).
"""
from __future__ import annotations

import html
import re

import pytest

from app.demo import DEMO_PASSWORD

from .conftest import csrf_token, empty_database, make_config
from .test_dashboard import figures, record_count

#: One login of each kind of dashboard: staff of all organizations and of Oraseas EE, a
#: customer's admin and user, the auditor.
LOGINS = ["superadmin", "oraseas.admin", "aegean.admin", "nordic.user", "auditor"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo_app(request):
    """The portal on a new database of each engine holding the demo data set."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    with empty_database(request.param, "dashdemo") as url:
        # exact "Record Count"s however long a list (the figures are exact)
        application = create_app(make_config(url, LIST_EXACT_COUNT_LIMIT=10**9))
        with application.app_context():
            upgrade()
            db.session.remove()
        result = application.test_cli_runner().invoke(args=["abparts", "seed-demo"])
        assert result.exit_code == 0, result.output + repr(result.exception)
        yield application
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def login(application, username: str):
    client = application.test_client()
    token = csrf_token(client.get("/login/").get_data(as_text=True))
    answer = client.post("/login/", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    assert answer.status_code == 302 and "/login" not in answer.headers["Location"], username
    return client


@pytest.mark.parametrize("username", LOGINS)
def test_every_figure_on_the_demo_dashboards_is_the_count_of_its_list(demo_app, username):
    client = login(demo_app, username)
    page = client.get("/").get_data(as_text=True)
    found = figures(page) + [(html.unescape(link), int(n)) for link, n in re.findall(
        r'<a href="([^"]+)"><rect[^>]*>\s*<title>[^:]+: (\d+) ', page)]
    assert len(found) >= 15, username
    assert any(n for _link, n in found), username
    wrong = [(link, n, count) for link, n in found if (count := record_count(client, link)) != n]
    assert not wrong, wrong
    assert not re.search(r'(src|href)="https?://', page)
