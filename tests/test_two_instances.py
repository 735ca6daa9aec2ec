"""More than one machine (issue 15): two portal instances on one PostgreSQL and one Redis
see each other's lockouts, rate limits, ended sessions, idempotency keys and postings.

Two real servers (gunicorn, ``run:create_app()``, one worker each, two ports) share a
database of this test's own, migrated and holding :func:`tests.factories.build_base_data`,
and Redis under a key prefix of this run (removed afterwards).  Whatever one instance
learns, the other must know at the next request: nothing the portal needs lives in a
worker's memory.

Needs PostgreSQL (``TEST_DATABASE_URL``), Redis on 127.0.0.1:6379 and gunicorn; skips
without them, fails instead with ``ABPARTS_REQUIRE_POSTGRES=1`` (CI).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import uuid

import pytest

from . import servers
from .conftest import REQUIRE_PG, empty_database, pg_admin_url, redis_available

pytestmark = pytest.mark.postgres

REDIS_URL = "redis://127.0.0.1:6379/0"
SECRET_KEY = "two-instances-share-this-secret-key-" + "x" * 16
LOCKOUT_ATTEMPTS = 3
USERNAME_LIMIT = 5
#: Migrate, create the roles and the base data, print the ids the checks need.
SEED = """
import json
from flask_migrate import upgrade
from app import create_app, models as m
from app.extensions import db
from app.security.setup import sync_roles
from tests import factories
app = create_app()
with app.app_context():
    upgrade()
    sync_roles()
    factories.build_base_data()
    central = db.session.query(m.Warehouse).filter_by(name="Central").one().id
    con1 = db.session.query(m.Part).filter_by(part_number="CON-1").one().id
    print(json.dumps({"central": str(central), "con1": str(con1)}))
"""


def _require_servers() -> None:
    """Skip (fail under ``ABPARTS_REQUIRE_POSTGRES=1``) without PostgreSQL, Redis or gunicorn."""
    missing = [what for what, ok in (("TEST_DATABASE_URL=postgresql://...", pg_admin_url() is not None),
                                     ("Redis on 127.0.0.1:6379", redis_available()),
                                     ("gunicorn", servers.gunicorn_path() is not None)) if not ok]
    if missing:
        message = "two instances need " + ", ".join(missing)
        pytest.fail(message) if REQUIRE_PG else pytest.skip(message)


@pytest.fixture(scope="module")
def instances(tmp_path_factory):
    """Two portals on one fresh PostgreSQL database and one Redis (a key prefix of this run).

    :returns: ``(instance 1, instance 2, ids)``; ``ids``: ``central`` and ``con1``.
    """
    _require_servers()
    folder = tmp_path_factory.mktemp("two-instances")
    prefix = f"abparts-two-instances-{uuid.uuid4().hex}"
    env = {**os.environ, "SECRET_KEY": SECRET_KEY, "ABPARTS_INSTANCE_DIR": str(folder),
           "RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix,
           "AUTH_LOCKOUT_ATTEMPTS": str(LOCKOUT_ATTEMPTS),
           "AUTH_RATE_LIMIT_USERNAME": f"{USERNAME_LIMIT} per minute",
           "AUTH_RATE_LIMIT_ADDRESS": "1000 per minute", "PYTHONPATH": servers.ROOT}
    for name in ("ABPARTS_ENV", "DATABASE_READ_URL", "MAIL_SERVER"):
        env.pop(name, None)
    running = []
    with empty_database("postgresql", "two_instances") as url:
        env["DATABASE_URL"] = url
        try:
            # The servers start while the database is prepared: create_app() touches no table.
            running += [servers.start(name, env, str(folder / f"{name.replace(' ', '-')}.log"), "-w", "1")
                        for name in ("instance 1", "instance 2")]
            seeded = subprocess.run([sys.executable, "-c", SEED], cwd=servers.ROOT, env=env, capture_output=True,
                                    text=True, timeout=120)
            assert seeded.returncode == 0, seeded.stderr[-4000:]
            ids = json.loads(seeded.stdout.strip().splitlines()[-1])
            deadline = time.monotonic() + 60
            for instance in running:
                instance.wait_until_serving(deadline)
            yield running[0], running[1], ids
        finally:
            for instance in running:
                instance.stop()
            _forget_redis_keys(prefix)


def _forget_redis_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def test_a_lockout_through_one_instance_refuses_the_login_on_the_other(instances):
    one, two, _ids = instances
    for _ in range(LOCKOUT_ATTEMPTS):
        assert one.login("acme.user", "wrong-password")[0] == 401
    status, answer = two.login("acme.user", "test-password-1")
    assert status == 401 and "locked until" in answer["message"]


def test_a_rate_limit_reached_through_one_instance_answers_429_on_the_other(instances):
    one, two, _ids = instances
    name = f"nobody-{uuid.uuid4().hex[:8]}"
    assert [one.login(name, "wrong")[0] for _ in range(USERNAME_LIMIT)] == [401] * USERNAME_LIMIT
    status, headers, _text = two.request("POST", "/api/v1/security/login", json_body={
        "username": name, "password": "wrong", "provider": "db"})
    assert status == 429 and int(headers["Retry-After"]) > 0


def test_a_session_ended_through_one_instance_is_refused_on_the_other(instances):
    one, two, _ids = instances
    # an API session: its token works on both, until it is ended through instance 1
    status, answer = one.login("beta.user", "test-password-1")
    token = answer["access_token"]
    status, _h, text = two.request("GET", "/api/v1/account/sessions", token=token)
    assert status == 200
    mine = next(row for row in json.loads(text)["result"] if row["current"])
    assert one.request("POST", f"/api/v1/account/sessions/{mine['id']}/end", token=token)[0] == 200
    assert two.request("GET", "/api/v1/part/", token=token)[0] == 401
    # a browser's session: signed in through instance 1, the cookie works on instance 2
    # until the user signs out through instance 1
    cookie = one.form_login("beta.admin", "test-password-1")
    status, _h, page = two.request("GET", "/", cookie=cookie)
    assert status == 200 and "/logout" in page
    assert one.request("GET", "/logout/", cookie=cookie)[0] == 302
    status, headers, _page = two.request("GET", "/", cookie=cookie)
    assert status == 302 and "/login" in headers["Location"]


def test_a_posting_through_one_instance_is_in_stock_on_the_other_and_posts_once(instances):
    one, two, ids = instances
    token = one.login("oraseas.admin", "test-password-1")[1]["access_token"]
    inventory = "/api/v1/inventory/?q=" + urllib.parse.quote(
        f"(filters:!((col:warehouse,opr:rel_o_m,value:'{ids['central']}')))")

    def stock_on_two() -> float:
        rows = json.loads(two.request("GET", inventory, token=token)[2])["result"]
        return float(next(r["current_stock"] for r in rows if r["part_id"] == ids["con1"]))

    before = stock_on_two()
    posting = {"transaction_type": "consumption", "part": ids["con1"], "from_warehouse": ids["central"],
               "quantity": "3"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    status, _h, first = one.request("POST", "/api/v1/transaction/", json_body=posting, token=token, headers=key)
    assert status == 201, first
    assert stock_on_two() == before - 3
    # the client's retry reaches the other instance: the first answer, nothing posted again
    status, _h, again = two.request("POST", "/api/v1/transaction/", json_body=posting, token=token, headers=key)
    assert status == 201 and json.loads(again)["id"] == json.loads(first)["id"]
    assert stock_on_two() == before - 3
