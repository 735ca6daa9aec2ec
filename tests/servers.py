"""A portal served by gunicorn in a process of its own, spoken to over plain HTTP.

For the tests and benchmarks that need real servers (``tests/test_two_instances.py``,
``tests/benchmarks/bench_workers.py``): requests follow no redirects and carry the
``session`` cookie only when told to, so a test can replay a cookie on another server.
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
from http.cookies import SimpleCookie

from .conftest import csrf_token, free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def gunicorn_path() -> str | None:
    """The gunicorn of this Python's environment (requirements.txt), or ``None``."""
    return shutil.which("gunicorn", path=os.path.dirname(sys.executable))


def start(name: str, env: dict, log_path: str, *options: str) -> "Instance":
    """Start ``gunicorn <options> run:create_app()`` on a free port of 127.0.0.1 (not waiting for it).

    :param env: the server's environment (``DATABASE_URL``, ``SECRET_KEY`` ...).
    :param log_path: where its output goes.
    :param options: gunicorn's options, e.g. ``"-w", "1"``.
    """
    port = free_port()
    with open(log_path, "w") as log:
        process = subprocess.Popen([gunicorn_path(), *options, "-b", f"127.0.0.1:{port}", "run:create_app()"],
                                   cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return Instance(name, port, process, log_path)


class Instance:
    """One running portal: plain HTTP requests, no redirects followed, cookies by hand."""

    def __init__(self, name: str, port: int, process: subprocess.Popen, log_path: str):
        self.name, self.port, self.process, self.log_path = name, port, process, log_path

    def request(self, method: str, path: str, *, json_body=None, form=None, token=None, cookie=None,
                headers=None):
        """``(status, headers, text)`` of one request.

        :param cookie: the ``session`` cookie's value to send.
        """
        sent = dict(headers or {})
        body = None
        if json_body is not None:
            body, sent["Content-Type"] = json.dumps(json_body), "application/json"
        elif form is not None:
            body, sent["Content-Type"] = urllib.parse.urlencode(form), "application/x-www-form-urlencoded"
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if cookie:
            sent["Cookie"] = f"session={cookie}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=sent)
            resp = conn.getresponse()
            return resp.status, resp.headers, resp.read().decode()
        finally:
            conn.close()

    def login(self, username: str, password: str) -> tuple[int, dict]:
        """``POST /api/v1/security/login``: the status and the JSON answer."""
        status, _h, text = self.request("POST", "/api/v1/security/login", json_body={
            "username": username, "password": password, "provider": "db", "refresh": False})
        return status, json.loads(text)

    def form_login(self, username: str, password: str) -> str:
        """Sign in through the login form (with its CSRF token); returns the session cookie."""
        _s, headers, page = self.request("GET", "/login/")
        cookie = session_cookie(headers)
        status, headers, _t = self.request("POST", "/login/", cookie=cookie, form={
            "username": username, "password": password, "csrf_token": csrf_token(page)})
        assert status == 302 and "/login" not in headers["Location"], f"{self.name}: form login failed"
        return session_cookie(headers) or cookie

    def wait_until_serving(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if self.request("GET", "/login/")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{self.name} did not serve on port {self.port}:\n{self.log()}")

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()[-4000:]

    def stop(self) -> None:
        """Gunicorn's quick shutdown (SIGINT), then a kill if it takes over 15 seconds."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def session_cookie(headers) -> str | None:
    """The value of the ``session`` cookie an answer sets, or ``None``."""
    for value in headers.get_all("Set-Cookie") or []:
        jar = SimpleCookie(value)
        if "session" in jar:
            return jar["session"].value
    return None
