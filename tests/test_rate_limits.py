"""Rate limits of the login paths (issue 12): by address and by username, shared by every
path, 429 with Retry-After, ProxyFix with trusted hops, one count across gunicorn workers."""
from __future__ import annotations

import concurrent.futures
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import json

import pytest
from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from app.extensions import limiter
from app.security.limits import init_limiter

from .conftest import csrf_token, free_port, redis_available
from .test_lockout import api_login

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def limits(config):
    """Low limits for one test, on fresh counters."""
    limiter.reset()
    config.update(AUTH_RATE_LIMIT_ADDRESS="6 per minute", AUTH_RATE_LIMIT_USERNAME="3 per minute")
    yield config
    limiter.reset()


def test_the_username_limit_is_shared_by_the_api_and_the_form(app, client, limits):
    for _ in range(3):
        assert api_login(client, "acme.user", "wrong-password").status_code == 401
    refused = api_login(client, "acme.user", "wrong-password")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many attempts" in refused.get_json()["message"]
    # the same user through the login form: refused too (one count for every path)
    form = app.test_client()
    token = csrf_token(form.get("/login/").get_data(as_text=True))
    resp = form.post("/login/", data={"username": "ACME.user", "password": "x", "csrf_token": token})
    assert resp.status_code == 429 and "Retry-After" in resp.headers
    # another user from the same address is still let through to the password check
    assert api_login(client, "beta.user", "wrong-password").status_code == 401


def test_the_address_limit_counts_every_username_and_ignores_a_forged_forwarded_header(client, limits):
    answers = [api_login(client, f"user{i}", "wrong").status_code for i in range(6)]
    assert answers == [401] * 6
    # no trusted proxy (PROXY_FIX_X_FOR = 0): a client cannot claim another address
    resp = client.post("/api/v1/security/login", headers={"X-Forwarded-For": "203.0.113.9"},
                       json={"username": "user7", "password": "wrong", "provider": "db"})
    assert resp.status_code == 429


def test_token_refresh_is_limited_too(client, limits, api_token):
    refresh = api_login(client, "acme.user", "test-password-1", refresh=True).get_json()["refresh_token"]
    headers = {"Authorization": f"Bearer {refresh}"}
    answers = [client.post("/api/v1/security/refresh", headers=headers).status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]  # the login above counted against the address too


def test_proxy_fix_trusts_exactly_the_configured_hops():
    def tiny(hops):
        app = Flask("tiny")
        app.config.update(PROXY_FIX_X_FOR=hops, RATELIMIT_STORAGE_URI="memory://")
        init_limiter(app, Limiter(key_func=get_remote_address))
        app.add_url_rule("/ip", "ip", lambda: request.remote_addr)
        return app.test_client()

    forged_and_real = {"X-Forwarded-For": "6.6.6.6, 198.51.100.7"}
    assert tiny(0).get("/ip", headers=forged_and_real).text == "127.0.0.1"
    # one proxy: its own entry (the last) is the client; what the client wrote before it is not trusted
    assert tiny(1).get("/ip", headers=forged_and_real).text == "198.51.100.7"
    assert tiny(2).get("/ip", headers=forged_and_real).text == "6.6.6.6"


def _post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_two_gunicorn_workers_share_one_limit_in_redis(app, database, engine_name, tmp_path):
    """Ten logins at once, by pairs, on two workers: exactly the limit (5) gets through,
    although both workers answered (each counting alone, up to ten would)."""
    if engine_name != "sqlite":
        pytest.skip("one run is enough: the store under test is Redis, not the database")
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable))
    if gunicorn is None or not redis_available():
        pytest.skip("needs gunicorn and Redis on 127.0.0.1:6379")
    port = free_port()
    log = tmp_path / "access.log"
    env = {**os.environ, "DATABASE_URL": database.url, "SECRET_KEY": "x" * 40,
           "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
           "RATELIMIT_KEY_PREFIX": f"abparts-test-{uuid.uuid4().hex}",
           "AUTH_RATE_LIMIT_USERNAME": "5 per minute", "AUTH_RATE_LIMIT_ADDRESS": "1000 per minute"}
    env.pop("ABPARTS_ENV", None)
    server = subprocess.Popen(
        [gunicorn, "-w", "2", "-b", f"127.0.0.1:{port}", "--access-logfile", str(log),
         "--access-logformat", "%(p)s %(s)s", "run:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/api/v1/security/login"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5)
                break
            except OSError:
                time.sleep(0.3)
        time.sleep(2)  # the second worker
        body = {"username": "nobody.at.all", "password": "wrong", "provider": "db"}
        answers = []
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            for _ in range(5):
                answers += list(pool.map(lambda _: _post(url, body), range(2)))
    finally:
        server.terminate()
        server.wait(timeout=30)
    served = [line.split() for line in log.read_text().splitlines()]
    posts = [(pid, status) for pid, status in served[-10:]]
    assert sorted(answers) == [401] * 5 + [429] * 5
    assert len({pid for pid, _ in posts}) == 2, "both workers answered"
