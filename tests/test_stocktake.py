"""Stocktakes through the REST API (issue 9), on SQLite and PostgreSQL.

The base data's Acme Aqua counts its warehouse Acme Main (10 CON-1, from
Central); acme.admin plans and completes, acme.user and a second user of
Acme count, and another admin of Acme (or the super admin) approves.  Each
test checks what those users would see: the answer, the balances, and that
the books still agree (``verify-ledger``).
"""
from __future__ import annotations

import decimal
import threading

import pytest
import sqlalchemy as sa

from app import models as m
from app.extensions import db
from app.scoping import acting_as, system
from app.workflows import stocktake as sw

from . import factories
from .conftest import get_one
from .test_transfers import books_agree, stock

D = decimal.Decimal
API = "/api/v1/stocktake/"


@pytest.fixture
def acme(app):
    """Ids of Acme's warehouse, parts and users; adds acme.counter (User) and acme.second (Admin)."""
    with app.app_context():
        org = get_one(m.Organization, name="Acme Aqua")
        factories.user("acme.counter", org, "User")
        factories.user("acme.second", org, "Admin")
        db.session.commit()
        out = {"Acme Main": str(get_one(m.Warehouse, name="Acme Main").id),
               "Central": str(get_one(m.Warehouse, name="Central").id)}
        out.update({number: str(get_one(m.Part, part_number=number).id) for number in ("CON-1", "BULK-1")})
        out.update({name: get_one(m.PortalUser, username=name).id
                    for name in ("acme.admin", "acme.user", "acme.counter", "acme.second", "beta.user")})
        db.session.remove()
    return out


def plan(api, acme, counters=("acme.user", "acme.counter"), **extra):
    body = {"warehouse": acme["Acme Main"], "planned_date": "2026-12-10",
            "counters": [acme[c] for c in counters], **extra}
    return api.post(API, json=body)


def counting(api_as, acme, **extra) -> str:
    """A stocktake of Acme Main, planned and started by acme.admin; its id."""
    admin = api_as("acme.admin")
    resp = plan(admin, acme, **extra)
    assert resp.status_code == 201, resp.get_json()
    sid = resp.get_json()["id"]
    assert admin.post(f"{API}{sid}/start").status_code == 200
    return sid


def count(api, sid, acme, **quantities):
    return api.post(f"{API}{sid}/count", json={"lines": [
        {"part": acme[p.replace("_", "-")], "counted_quantity": q} for p, q in quantities.items()]})


def post_stock(app, by: str, kind, part_number: str, qty, source=None, dest=None):
    """A ledger posting at Acme Main (or elsewhere) by ``by``, committed."""
    with app.app_context():
        user = get_one(m.PortalUser, username=by)
        part = get_one(m.Part, part_number=part_number)
        src = get_one(m.Warehouse, name=source) if source else None
        dst = get_one(m.Warehouse, name=dest) if dest else None
        with acting_as(user):
            factories.txn(kind, part, qty, user, source=src, dest=dst)
            db.session.commit()
        db.session.remove()


def adjustments(app, sid) -> list[tuple]:
    """``[(reason, quantity adjusted)]`` of the stocktake's posted corrections."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(m.StockAdjustment.reason_code, m.StockAdjustment.quantity_adjusted)
            .join(m.StocktakeLine, m.StocktakeLine.stock_adjustment_id == m.StockAdjustment.id)
            .where(m.StocktakeLine.stocktake_id == m.parse_uuid(sid))).all()
        db.session.remove()
    return [tuple(r) for r in rows]


def test_plan_count_complete_posts_the_variance_as_a_stocktake_adjustment(app, api_as, acme):
    admin, counter = api_as("acme.admin"), api_as("acme.user")
    resp = plan(admin, acme, counters=("acme.user",))
    assert resp.status_code == 201, resp.get_json()
    doc = resp.get_json()["result"]
    sid = doc["id"]
    assert doc["status"] == "planned" and doc["is_blind"] is True
    assert [ln["part_number"] for ln in doc["lines"]] == ["CON-1"]  # every stock record of Acme Main
    assert doc["actions"] == ["start", "cancel"]
    assert count(counter, sid, acme, CON_1="9").status_code == 409  # not started

    resp = admin.post(f"{API}{sid}/start")
    assert resp.status_code == 200 and resp.get_json()["result"]["lines"][0]["snapshot_quantity"] == "10.000"
    resp = count(counter, sid, acme, CON_1="9")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["result"]["progress"] == {"lines": 1, "agreed": 1, "counted_by_you": 1}

    resp = admin.post(f"{API}{sid}/complete")
    assert resp.status_code == 200, resp.get_json()
    doc = resp.get_json()["result"]
    line = doc["lines"][0]
    # 1 of 10 is 10 %, over the default 5 %: an admin who did not count approves.
    assert doc["status"] == "awaiting_approval"
    assert (line["variance_quantity"], line["variance_value"], line["needs_approval"]) == ("-1.000", "-10.00", True)
    assert stock(app, "Acme Main", "CON-1") == 10 and adjustments(app, sid) == []

    resp = api_as("acme.second").post(f"{API}{sid}/approve")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["result"]["status"] == "completed"
    assert stock(app, "Acme Main", "CON-1") == 9
    assert adjustments(app, sid) == [("stocktake", D(-1))]
    assert api_as("acme.second").post(f"{API}{sid}/approve").status_code == 409  # approving twice
    assert count(counter, sid, acme, CON_1="8").status_code == 409  # counting after completion
    assert books_agree(app)
