"""Hostile input to the REST API answers 4xx with a message, never 500 (issue 12)."""
from __future__ import annotations

import json

import pytest

LISTS = ["part", "warehouse", "organization", "transaction", "machine", "inventory", "stock_transfer",
         "customer_order"]


def q(value) -> dict:
    return {"q": json.dumps(value)}


@pytest.mark.parametrize("resource", LISTS)
@pytest.mark.parametrize("raw_q", ["1e+5", "5", "!t", "'text'", "!(1,2)", "null", "[]", '"x"', "1e+999"])
def test_a_q_that_is_not_an_object_is_a_400(api_as, resource, raw_q):
    resp = api_as("superadmin").get(f"/api/v1/{resource}/", query_string={"q": raw_q})
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert "message" in resp.get_json()


@pytest.mark.parametrize("opr", ["ct", "sw", "ew", "nct", "nsw", "new", "eq", "neq"])
@pytest.mark.parametrize("value", [1, 1.5, True, None, [1], {"a": 1}])
def test_a_text_filter_with_a_value_that_is_not_text_is_a_400(api_as, opr, value):
    resp = api_as("superadmin").get("/api/v1/part/", query_string=q(
        {"filters": [{"col": "name", "opr": opr, "value": value}]}))
    assert resp.status_code == 400, resp.get_data(as_text=True)


def test_a_lone_surrogate_in_a_filter_value_is_a_400(api_as):
    raw = '{"filters": [{"col": "name", "opr": "ct", "value": "\\ud800"}]}'
    resp = api_as("superadmin").get("/api/v1/part/", query_string={"q": raw})
    assert resp.status_code == 400
    assert "surrogate" in resp.get_json()["message"] or "text" in resp.get_json()["message"]


@pytest.mark.parametrize("method, url", [("post", "/api/v1/part/"), ("post", "/api/v1/warehouse/"),
                                         ("post", "/api/v1/security/login")])
def test_a_lone_surrogate_in_a_body_is_a_400(api_as, method, url):
    raw = '{"part_number": "\\ud800", "name": "x\\udfff", "username": "\\ud800", "password": "\\ud800", "provider": "db"}'
    resp = getattr(api_as("superadmin"), method)(url, data=raw, content_type="application/json")
    assert resp.status_code == 400, resp.get_data(as_text=True)


#: One value of each kind that broke a filter: a number where text is expected, nothing, a lone
#: surrogate, an integer beyond 64 bits (the other kinds - floats, booleans, objects, long or
#: SQL-ish text - were fuzzed once and fail or pass with these; the run takes a minute as it is).
HOSTILE_VALUES = [1, None, "\ud800", 2**70]


def test_no_filter_value_of_any_api_answers_500(app, api_as, engine_name):
    """Every search column of every domain API, every operator it offers, every hostile value:
    never a server error (fuzzing the whole class, not only the reported cases)."""
    from app.apis.base import ABPartsRestApi

    if engine_name != "postgresql":
        pytest.skip("PostgreSQL is the strict engine (types, encodings); one run is enough")
    api = api_as("superadmin")
    failures = []
    for view in app.appbuilder.baseviews:
        if not isinstance(view, ABPartsRestApi):
            continue
        base = f"/api/v1/{view.resource_name}/"
        for col, filters in view._filters._search_filters.items():
            for opr in sorted({f.arg_name for f in filters}):
                for value in HOSTILE_VALUES:
                    resp = api.get(base, query_string=q({"filters": [{"col": col, "opr": opr, "value": value}]}))
                    if resp.status_code >= 500:
                        failures.append((view.resource_name, col, opr, repr(value)[:20], resp.status_code))
    assert failures == [], sorted({(f[2], f[3]) for f in failures})
