"""Browser tests: the real portal, started as ``python run.py --demo`` on a fresh
SQLite database, driven by headless Chromium through Playwright.

- The browser is Debian's ``chromium`` (``/usr/bin/chromium``, or
  ``ABPARTS_CHROMIUM``): Playwright's own browser builds cannot be downloaded
  here.  Without Chromium or the ``playwright`` package the tests skip, and
  fail instead with ``ABPARTS_REQUIRE_BROWSER=1`` (CI).
- One portal per test session: seeding the demo takes most of the suite's time,
  so it starts as soon as the tests are collected, and the browser tests run
  after the others.  Each test makes its own rows, so the tests do not depend
  on their order.  ``ABPARTS_BROWSER_URL`` points the tests at a portal already
  running on this machine instead (seeded with the demo, on a scratch database).
- Every test also fails on what a user would notice without being told: a
  JavaScript error, a request to any host but the portal's (the portal must work
  with no internet access), a server error, or "None", "__None" or a raw enum
  name in the text of a page.  A failing test leaves a screenshot of each of its
  windows in ``tests/browser/artifacts/`` (or ``ABPARTS_ARTIFACTS_DIR``), next to
  the portal's log ``server.log``.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from app.demo import DEMO_PASSWORD
from app.models import enums

from ..conftest import free_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CHROMIUM = os.environ.get("ABPARTS_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("ABPARTS_REQUIRE_BROWSER") == "1"
ARTIFACTS = Path(os.environ.get("ABPARTS_ARTIFACTS_DIR") or HERE / "artifacts")
#: Seconds the portal may take to migrate, seed the demo and answer (6 minutes seen on a busy machine).
START_TIMEOUT = 600
#: Chromium as the machine's probe starts it: no background calls home (the network is closed),
#: and every host but the portal's fails to resolve at once, so an outside request fails fast
#: (and is still seen by the request listener).
CHROMIUM_ARGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-quic", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


def _raw_enum_words() -> list[str]:
    """Stored enum values a person should never read: those with an underscore
    (``received_with_discrepancy``), and ``Class.member`` reprs."""
    words, classes = set(), set()
    for value in vars(enums).values():
        if isinstance(value, type) and issubclass(value, enums.enum.Enum) and value is not enums._Labelled:
            classes.add(value.__name__)
            words.update(member.value for member in value if "_" in member.value)
    return sorted(words) + [rf"{name}\.\w+" for name in sorted(classes)]


#: Text that betrays an unformatted value on a page (issue 13, "rough edges").
RAW_TEXT = re.compile(r"__None|\bNone\b|\b(?:" + "|".join(_raw_enum_words()) + r")\b")


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or ``None`` when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (requirements.txt)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


class Portal:
    """``python run.py --demo`` on a scratch SQLite database, on a free port of 127.0.0.1;
    its output goes to ``server.log`` in the artifacts folder."""

    def __init__(self):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.workdir = tempfile.mkdtemp(prefix="abparts-portal-")
        self.log = ARTIFACTS / "server.log"
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "ABPARTS_ENV": "development", "ABPARTS_INSTANCE_DIR": self.workdir,
               "DATABASE_URL": f"sqlite:///{os.path.join(self.workdir, 'abparts.db')}",
               # The suite signs in as the same demo users from one address many times a minute;
               # the login limits themselves are tested in tests/test_rate_limits.py.
               "AUTH_RATE_LIMIT_ADDRESS": "100000 per minute", "AUTH_RATE_LIMIT_USERNAME": "100000 per minute"}
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "run.py", "--demo", "--host", "127.0.0.1", "--port", str(port)],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    def wait_until_up(self) -> str:
        """The portal's base URL, once its login page answers.

        :raises RuntimeError: the portal exited, or did not answer within :data:`START_TIMEOUT`.
        """
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the portal exited with {self.proc.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(self.url + "/login/", timeout=5) as resp:
                    if resp.status == 200:
                        return self.url
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the portal did not answer within {START_TIMEOUT} s; see {self.log}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


#: The portal of this test session, started once the browser tests are collected.
_portal: list[Portal] = []


def _is_browser_test(item) -> bool:
    return HERE in item.path.parents


def pytest_collection_modifyitems(config, items):
    """Browser tests run last, and the portal they need starts seeding the demo now
    (about a minute), while the other tests run."""
    browser = [item for item in items if _is_browser_test(item)]
    if not browser:
        return
    items[:] = [item for item in items if not _is_browser_test(item)] + browser
    if not (config.option.collectonly or browser_missing() or os.environ.get("ABPARTS_BROWSER_URL") or _portal):
        _portal.append(Portal())


def pytest_sessionfinish(session):
    while _portal:
        _portal.pop().stop()


@pytest.fixture(scope="session")
def portal_url() -> str:
    """The base URL of the portal under test (``ABPARTS_BROWSER_URL``, or :class:`Portal`)."""
    reason = browser_missing()
    if reason:
        if REQUIRE_BROWSER:
            pytest.fail(f"ABPARTS_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    if os.environ.get("ABPARTS_BROWSER_URL"):
        return os.environ["ABPARTS_BROWSER_URL"].rstrip("/")
    if not _portal:  # collected some other way
        _portal.append(Portal())
    return _portal[0].wait_until_up()


@pytest.fixture(scope="session")
def chromium(portal_url):
    """Headless Debian Chromium, one for the session (each test opens its own contexts)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Watch:
    """What the windows of one test saw that no test step asks about: JavaScript
    errors, requests to other hosts, server errors and raw values in page text."""

    def __init__(self, portal_url: str):
        self.host = urlsplit(portal_url).netloc
        self.pages: list = []
        self.problems: list[str] = []

    def attach(self, context) -> None:
        """Listen to every page of ``context``; each loaded page reports its text."""
        context.expose_binding("abpartsPageText", lambda source, url, text: self.check_text(url, text))
        context.add_init_script(
            "window.addEventListener('load', () => window.abpartsPageText(location.href, document.body.innerText));")
        context.on("page", self._watch_page)

    def _watch_page(self, page) -> None:
        self.pages.append(page)
        page.on("console", lambda msg: msg.type == "error" and self.problems.append(
            f"console error on {page.url}: {msg.text} ({msg.location.get('url', '')})"))
        page.on("pageerror", lambda exc: self.problems.append(f"JavaScript error on {page.url}: {exc}"))
        page.on("request", self._check_request)
        page.on("response", lambda resp: resp.status >= 500 and self.problems.append(
            f"server error {resp.status} for {resp.url}"))

    def _check_request(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != self.host:
            self.problems.append(f"request to another host: {request.url}")

    def check_text(self, url: str, text: str) -> None:
        """Record raw values (``None``, ``__None``, enum names) in a page's visible text."""
        for match in RAW_TEXT.finditer(text or ""):
            line = text[text.rfind("\n", 0, match.start()) + 1:text.find("\n", match.end())]
            self.problems.append(f"{match.group(0)!r} shown on {url}: {line.strip()[:120]!r}")

    def verify(self) -> None:
        """Fail with everything recorded, after a last look at each open page's text."""
        for page in self.pages:
            if not page.is_closed():
                self.check_text(page.url, page.evaluate("document.body ? document.body.innerText : ''"))
        problems = list(dict.fromkeys(self.problems))
        assert not problems, "the browser saw:\n  " + "\n  ".join(problems)


@pytest.fixture
def watch(portal_url):
    """The :class:`Watch` of this test (checked after the test by ``pytest_runtest_call``)."""
    return Watch(portal_url)


@pytest.fixture
def browse(chromium, portal_url, watch):
    """``browse("aegean.admin")``: a new browser window, logged in through the login form.

    ``browse(None)`` opens the login page without logging in.  Windows are
    1280x900 (or ``viewport={"width": ..., "height": ...}``, a phone's) in the
    Europe/Athens time zone, where Oraseas EE works.
    """
    contexts = []

    def open_window(username: str | None, password: str = DEMO_PASSWORD, viewport: dict | None = None):
        context = chromium.new_context(base_url=portal_url, viewport=viewport or {"width": 1280, "height": 900},
                                       timezone_id="Europe/Athens", accept_downloads=True)
        context.set_default_timeout(15_000)
        contexts.append(context)
        watch.attach(context)
        page = context.new_page()
        page.goto("/login/")
        if username is not None:
            log_in(page, username, password)
        return page

    yield open_window
    for context in contexts:
        context.close()


def log_in(page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Fill the login form as a person does and wait for the portal's welcome page."""
    page.fill("#username", username)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/login" not in url)


def open_menu(page, category: str, entry: str) -> None:
    """Click ``category`` in the navbar, then ``entry`` in its drop-down, and wait for the page."""
    dropdown = page.locator(".navbar-nav > li.dropdown").filter(
        has=page.locator(":scope > a.dropdown-toggle", has_text=category))
    dropdown.locator(":scope > a.dropdown-toggle").click()
    dropdown.locator(":scope > ul.dropdown-menu > li > a").filter(
        has_text=re.compile(rf"^\s*{re.escape(entry)}\s*$")).click()
    page.wait_for_load_state()


def choose(page, field, text: str, option: str | None = None) -> None:
    """Pick in a Select2 box as a person does: open it, type ``text``, click the
    result reading ``option`` (by default the only result, which must then be exactly one).

    :param field: a locator of the Select2 box (``.select2-selection``) or its CSS selector.
    """
    from playwright.sync_api import expect

    box = page.locator(field) if isinstance(field, str) else field
    box.click()
    # Type into the open box's search field once it is there (on a busy machine it opens late,
    # and keys typed before would be lost).
    search = page.locator(".select2-container--open .select2-search__field")
    with page.expect_response(lambda resp: parse_qs(urlsplit(resp.url).query).get("q") == [text]):
        search.press_sequentially(text)
    results = page.locator(".select2-container--open .select2-results__option:not(.loading-results)")
    if option is None:
        expect(results, f"{text!r} should find one choice").to_have_count(1)
        results.first.click()
    else:
        results.filter(has_text=re.compile(rf"^\s*{re.escape(option)}\s*$")).click()


def submit(page, button: str = "Save") -> str:
    """Click the form's ``button``, wait for the page it leads to, and return its flashed messages."""
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()
    return " ".join(page.locator(".alert").all_inner_texts())


def record_count(page) -> int:
    """The "Record Count" of the list on the page."""
    text = page.locator(".panel-body").filter(has_text="Record Count").first.inner_text()
    return int(text.split("Record Count:")[1].split()[0])


def _artifact_name(item, suffix: str) -> Path:
    return ARTIFACTS / (re.sub(r"[^\w.-]+", "_", item.nodeid.split("::", 1)[-1]) + suffix)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After a browser test's own steps pass, fail it on what its windows saw."""
    result = yield
    watch = item.funcargs.get("watch")
    if watch is not None:
        watch.verify()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing browser test leaves a screenshot of each of its windows in the artifacts folder."""
    report = yield
    watch = item.funcargs.get("watch") if hasattr(item, "funcargs") else None
    if report.failed and report.when == "call" and watch is not None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for number, page in enumerate(p for p in watch.pages if not p.is_closed()):
            path = _artifact_name(item, f"-{number + 1}.png")
            try:
                page.screenshot(path=str(path), full_page=True)
            except Exception as exc:  # a crashed page: say so, keep the test's own failure
                report.sections.append(("screenshot", f"no screenshot of {page.url}: {exc}"))
            else:
                report.sections.append(("screenshot", f"{page.url} -> {path}"))
    return report
