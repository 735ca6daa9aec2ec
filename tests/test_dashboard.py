"""The landing page's dashboard (issue 11): every figure equals the count of the list it links to."""
from __future__ import annotations

import html
import re

import pytest

from .test_counting import _count_text
from .test_order_fulfilment import approved_order, new_order, ship


def record_count(client, link: str) -> int:
    """The record count a list shows (a list with no rows shows none: 0)."""
    page = client.get(link).get_data(as_text=True)
    assert "Record Count" in page or "No records found" in page, link
    return int(_count_text(page)) if "Record Count" in page else 0


def figures(page: str) -> list[tuple[str, int]]:
    """``(link, number)`` of every linked figure on the dashboard (bars of the chart excluded)."""
    return [(html.unescape(link), int(n)) for link, n in re.findall(r'<a href="([^"]+)"[^>]*>(\d+)</a>', page)]


@pytest.mark.parametrize("user", ["oraseas.admin", "acme.user", "superadmin", "auditor"])
def test_every_dashboard_figure_is_the_count_of_its_list(app, api_as, client_as, w, user):
    order = approved_order(app, api_as, w)
    ship(api_as("oraseas.admin"), w, order, CON_1="4")
    new_order(app, api_as("beta.user"), w, customer="Beta Fish")
    client = client_as(user)
    page = client.get("/").get_data(as_text=True)
    assert "Dashboard" in page and 'id="movements-chart"' in page or user == "acme.user"
    found = figures(page)
    assert len(found) >= 10
    for link, n in found:
        assert record_count(client, link) == n, (user, link)
    # the chart's bars open the ledger rows they count
    bars = re.findall(r'<a href="([^"]+)"><rect[^>]*>\s*<title>[^:]+: (\d+) ', page)
    if user != "acme.user":
        assert bars
    for link, n in bars:
        assert record_count(client, html.unescape(link)) == int(n), (user, link)


def test_a_customer_sees_only_its_own_figures_and_no_page_leaves_the_portal(app, api_as, client_as, w):
    new_order(app, api_as("beta.user"), w, customer="Beta Fish")
    acme = client_as("acme.user").get("/").get_data(as_text=True)
    drafts = dict(figures(acme))
    assert all(n == 0 for link, n in figures(acme) if "customerorder" in link and "draft" in link)
    assert drafts  # figures are shown
    beta = client_as("beta.user").get("/").get_data(as_text=True)
    assert any(n == 1 for link, n in figures(beta) if "customerorder" in link and "=draft" in link)
    for page in (acme, beta, client_as("superadmin").get("/").get_data(as_text=True)):
        assert not re.search(r'(src|href)="https?://', page)


def test_the_dashboard_is_for_signed_in_users(client):
    resp = client.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
