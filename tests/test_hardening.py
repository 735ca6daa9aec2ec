"""Web hardening (issue 12): CSRF by default, security headers, no-store, a cut database connection."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app import models as m
from app.extensions import db

from .conftest import _pg_execute, get_one


def test_every_form_post_needs_its_csrf_token_but_the_rest_api_does_not(app, client_as, api_as):
    client = client_as("acme.admin")
    resp = client.post("/warehousemodelview/add", data={"name": "No token"})
    assert resp.status_code == 400
    assert "CSRF" in resp.get_data(as_text=True)
    anonymous = app.test_client()
    assert anonymous.post("/login/", data={"username": "acme.admin", "password": "x"}).status_code == 400
    # the REST API takes a JWT and a JSON body instead
    with app.app_context():
        acme = str(get_one(m.Organization, name="Acme Aqua").id)
    resp = api_as("acme.admin").post("/api/v1/warehouse/", json={"name": "By API", "organization": acme})
    assert resp.status_code == 201, resp.get_json()


def test_pages_carry_the_security_headers_and_a_script_nonce(client):
    resp = client.get("/login/")
    csp = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp.split("style-src")[0]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    scripts = re.findall(r"<script[^>]*>", resp.get_data(as_text=True))
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in resp.headers
    assert client.get("/login/").headers["Content-Security-Policy"] != csp  # a nonce per response


def test_hsts_in_production(client, config):
    config["SECURITY_HSTS"] = True
    assert "max-age=" in client.get("/login/").headers["Strict-Transport-Security"]


def test_signed_in_answers_and_exports_are_not_stored(client_as, api_as):
    client = client_as("auditor")
    assert client.get("/warehousemodelview/list/").headers["Cache-Control"] == "no-store"
    assert client.get("/warehousemodelview/export/").headers["Cache-Control"] == "no-store"
    assert api_as("auditor").get("/api/v1/warehouse/").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/static/abparts/choices.js").headers.get("Cache-Control", "")


def test_a_terminated_database_connection_costs_no_error(app, client_as, engine_name):
    if engine_name != "postgresql":
        pytest.skip("terminating the server's backends is a PostgreSQL test")
    client = client_as("acme.admin")
    assert client.get("/warehousemodelview/list/").status_code == 200
    with app.app_context():
        database = db.engine.url.database
    for _ in range(2):
        _pg_execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{database}' AND pid <> pg_backend_pid()")
        assert client.get("/warehousemodelview/list/").status_code == 200
        assert client.get("/api/v1/warehouse/", headers={}).status_code in (200, 401)
    with app.app_context():
        assert db.session.execute(sa.text("SELECT 1")).scalar_one() == 1
