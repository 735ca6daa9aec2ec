"""The password policy (issue 12): 12 characters, not common, not the username; on every path."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_appbuilder.cli import reset_password as fab_reset_password
from werkzeug.security import check_password_hash

from app import models as m
from app.extensions import db
from app.security.passwords import WeakPassword, check_password

from .conftest import get_one, submit_form
from .factories import PASSWORD

GOOD = "Quiet-Harbour-Lamp-42"


@pytest.mark.parametrize("password, rule", [
    ("1", "at least 12 characters"),
    ("short-Pw-1", "at least 12 characters"),
    ("Password123!", "too common"),
    ("qwertyuiop1234", "too common"),
    ("123456789012", "too common"),
    ("aaaaaaaaaaaa", "too common"),
    ("abcdefghijklm", "too common"),
    ("my-acme.user-secret", "must not contain the username"),
])
def test_weak_passwords_are_refused_with_the_rule(ctx, password, rule):
    with pytest.raises(WeakPassword, match=rule):
        check_password(password, "acme.user")


def test_a_good_password_passes(ctx):
    check_password(GOOD, "acme.user")


def test_the_add_user_form_refuses_1(app, client_as):
    admin = client_as("acme.admin")
    resp = submit_form(admin, "/users/add", {
        "first_name": "New", "last_name": "Person", "username": "new.person", "email": "new@acme.test",
        "roles": "", "user_status": "active", "active": "y", "password": "1", "conf_password": "1"})
    assert "at least 12 characters" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(sa.select(m.PortalUser).filter_by(username="new.person")).first() is None


def test_reset_my_password_refuses_a_password_with_the_username_and_takes_a_good_one(app, client_as):
    user = client_as("acme.user")
    resp = submit_form(user, "/resetmypassword/form", {"password": "acme.user-2026-x", "conf_password": "acme.user-2026-x"})
    assert "must not contain the username" in resp.get_data(as_text=True)
    resp = submit_form(user, "/resetmypassword/form", {"password": GOOD, "conf_password": GOOD})
    assert resp.status_code == 302
    with app.app_context():
        assert check_password_hash(get_one(m.PortalUser, username="acme.user").password, GOOD)
        events = db.session.execute(sa.select(m.SecurityEvent.event_type)).scalars().all()
        assert "password_changed" in events


def test_an_admins_reset_of_another_user_checks_that_users_name(app, client_as):
    with app.app_context():
        user_id = get_one(m.PortalUser, username="acme.user").id
    admin = client_as("superadmin")
    resp = submit_form(admin, f"/resetpassword/form?pk={user_id}",
                       {"password": "ACME.USER.forever", "conf_password": "ACME.USER.forever"})
    assert "must not contain the username" in resp.get_data(as_text=True)


def test_the_command_line_refuses_a_weak_password(app, runner):
    result = runner.invoke(fab_reset_password, ["--username", "acme.user", "--password", "1"])
    assert isinstance(result.exception, WeakPassword)
    assert "at least 12 characters" in str(result.exception)
    with app.app_context():
        assert check_password_hash(get_one(m.PortalUser, username="acme.user").password, PASSWORD)
