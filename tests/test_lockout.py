"""Account lockout (issue 12): one counter, atomic, 5 failures lock for 15 minutes on every path."""
from __future__ import annotations

import datetime as dt
import re
import threading

import sqlalchemy as sa

from app import models as m
from app.extensions import db

from .conftest import csrf_token, get_one
from .factories import PASSWORD

WRONG = "not-the-password"


def api_login(client, username, password, refresh=False):
    return client.post("/api/v1/security/login", json={
        "username": username, "password": password, "provider": "db", "refresh": refresh})


def form_login(client, username, password):
    token = csrf_token(client.get("/login/").get_data(as_text=True))
    return client.post("/login/", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=True)


def account(app, username):
    with app.app_context():
        user = get_one(m.PortalUser, username=username)
        result = (user.failed_login_attempts, user.fail_login_count, user.locked_until)
        db.session.remove()
        return result


def event_types(app, username=None):
    with app.app_context():
        query = sa.select(m.SecurityEvent.event_type).order_by(m.SecurityEvent.timestamp)
        if username:
            query = query.join(m.PortalUser, m.PortalUser.id == m.SecurityEvent.user_id).where(
                m.PortalUser.username == username)
        types = list(db.session.execute(query).scalars())
        db.session.remove()
        return types


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(app, client):
    for attempt in range(1, 5):
        resp = api_login(client, "acme.user", WRONG)
        assert resp.status_code == 401
        assert "locked" not in resp.get_data(as_text=True)
        assert account(app, "acme.user")[:2] == (attempt, attempt)  # one counter, FAB's mirrors it
    before = dt.datetime.now(dt.timezone.utc)
    resp = api_login(client, "acme.user", WRONG)
    assert resp.status_code == 401
    assert "locked" in resp.get_json()["message"]
    attempts, _, until = account(app, "acme.user")
    assert attempts == 5
    assert dt.timedelta(minutes=14) < until - before <= dt.timedelta(minutes=15, seconds=5)
    assert f"{until:%Y-%m-%d %H:%M} UTC" in resp.get_json()["message"]


def test_a_locked_user_is_refused_on_every_path_without_a_hint_about_the_password(app, client):
    refresh = api_login(client, "acme.user", PASSWORD, refresh=True).get_json()["refresh_token"]
    for _ in range(5):
        api_login(client, "acme.user", WRONG)
    right = api_login(client, "acme.user", PASSWORD)
    wrong = api_login(client, "acme.user", WRONG)
    assert right.status_code == wrong.status_code == 401
    assert right.get_json() == wrong.get_json()
    assert "locked until" in right.get_json()["message"]
    assert account(app, "acme.user")[0] == 5  # a locked account's counter stands still
    # the login form
    page = form_login(app.test_client(), "acme.user", PASSWORD).get_data(as_text=True)
    assert "locked" in page and "/logout" not in page
    assert re.search(r"until \d{4}-\d\d-\d\d \d\d:\d\d UTC", page)
    # token refresh
    resp = client.post("/api/v1/security/refresh", headers={"Authorization": f"Bearer {refresh}"})
    assert resp.status_code == 401 and "locked" in resp.get_json()["message"]
    assert "account_locked" in event_types(app, "acme.user")
    assert "login_locked" in event_types(app, "acme.user")


def test_form_failures_count_and_lock_too(app, client):
    for _ in range(5):
        page = form_login(client, "acme.user", WRONG).get_data(as_text=True)
    assert "locked until" in page
    assert account(app, "acme.user")[0] == 5


def test_success_resets_the_counter(app, client):
    for _ in range(4):
        api_login(client, "acme.user", WRONG)
    assert api_login(client, "acme.user", PASSWORD).status_code == 200
    assert account(app, "acme.user")[:3] == (0, 0, None)
    assert event_types(app, "acme.user")[-1] == "login_success"


def test_an_expired_lock_lets_the_right_password_in_and_starts_a_new_count(app, client):
    for _ in range(5):
        api_login(client, "acme.user", WRONG)
    with app.app_context():
        db.session.execute(sa.update(m.PortalUser.__table__).where(
            m.PortalUser.__table__.c.username == "acme.user").values(
            locked_until=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
        db.session.commit()
        db.session.remove()
    assert api_login(client, "acme.user", WRONG).status_code == 401
    assert account(app, "acme.user")[0] == 1
    assert api_login(client, "acme.user", PASSWORD).status_code == 200


def test_admin_unlocks_from_the_user_screen(app, client, client_as):
    for _ in range(5):
        api_login(client, "acme.user", WRONG)
    user_id = account_id(app, "acme.user")
    admin = client_as("acme.admin")
    page = admin.get(f"/users/show/{user_id}").get_data(as_text=True)
    resp = admin.post(f"/users/action_post", data={
        "action": "unlock", "rowid": [user_id], "csrf_token": csrf_token(page)}, follow_redirects=True)
    assert resp.status_code == 200
    assert account(app, "acme.user")[:3] == (0, 0, None)
    assert api_login(client, "acme.user", PASSWORD).status_code == 200
    assert "account_unlocked" in event_types(app, "acme.user")


def test_admin_unlocks_through_the_api_only_in_its_own_organization(app, client, api_as):
    for _ in range(5):
        api_login(client, "acme.user", WRONG)
    user_id = account_id(app, "acme.user")
    assert api_as("beta.admin").post(f"/api/v1/account/{user_id}/unlock").status_code == 404
    assert account(app, "acme.user")[0] == 5
    assert api_as("acme.admin").post(f"/api/v1/account/{user_id}/unlock").status_code == 200
    assert account(app, "acme.user")[:3] == (0, 0, None)


def account_id(app, username):
    with app.app_context():
        user_id = get_one(m.PortalUser, username=username).id
        db.session.remove()
        return user_id


def test_unknown_user_and_wrong_password_answer_alike(client):
    unknown = api_login(client, "nobody.here", WRONG)
    wrong = api_login(client, "acme.user", WRONG)
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json() == wrong.get_json()


def test_the_lockout_tells_nothing_about_which_names_exist(app, client):
    """A name that is no account (or an inactive one) locks after the same failures, with the
    same message, on the form and the API, as a real account: every answer reads alike."""
    with app.app_context():
        get_one(m.PortalUser, username="beta.user").active = False
        db.session.commit()
    answers = {name: [] for name in ("acme.user", "nobody.here", "beta.user")}
    for _ in range(7):
        for name, seen in answers.items():
            resp = api_login(client, name, WRONG)
            seen.append((resp.status_code, re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "<time>",
                                                  resp.get_json()["message"])))
    assert answers["nobody.here"] == answers["acme.user"] == answers["beta.user"]
    assert "locked until <time> UTC" in answers["nobody.here"][4][1]
    assert "locked" not in answers["nobody.here"][3][1]
    form = [form_login(client, name, PASSWORD if name == "acme.user" else WRONG).get_data(as_text=True)
            for name in ("acme.user", "nobody.here")]
    assert all("locked until" in page for page in form)  # the right password changes nothing either
    with app.app_context():
        keys = db.session.execute(sa.text("SELECT name_key FROM unknown_login_failures")).scalars().all()
        assert len(keys) == 2 and "nobody.here" not in " ".join(keys)  # names are not kept


def test_parallel_wrong_passwords_lose_no_increment_and_lock_exactly_once(app, engine_name):
    """Ten wrong passwords at once: five are counted (no lost update), exactly one locks,
    the others are refused as locked without counting."""
    barrier = threading.Barrier(10)
    answers = []

    def attempt():
        client = app.test_client()
        barrier.wait()
        answers.append(api_login(client, "acme.user", WRONG).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [401] * 10
    attempts, fab_count, until = account(app, "acme.user")
    assert (attempts, fab_count) == (5, 5)
    assert until is not None
    types = event_types(app, "acme.user")
    assert types.count("account_locked") == 1
    assert types.count("login_failure") == 5
    assert types.count("login_locked") == 5
