"""Light pages over the wire: compressed responses and cached static files."""
from __future__ import annotations

import gzip


def test_a_list_page_comes_gzip_compressed_and_decompresses_to_the_page(client_as):
    c = client_as("superadmin")
    plain = c.get("/transactionmodelview/list/")
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    resp = c.get("/transactionmodelview/list/", headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 200
    assert resp.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in resp.headers.get("Vary", "")
    html = gzip.decompress(resp.get_data()).decode()
    assert "Stock ledger" in html and "CON-1" in html
    assert len(resp.get_data()) * 3 < len(html.encode()), "compressed to a third or less"


def test_static_files_are_cached_by_the_browser(client):
    resp = client.get("/static/appbuilder/css/ab.css")
    assert resp.status_code == 200
    assert resp.cache_control.max_age and resp.cache_control.max_age >= 3600
    ours = client.get("/static/abparts/choices.js")
    assert ours.status_code == 200 and ours.cache_control.max_age >= 3600
