"""Sessions, token revocation, security events and the user-management audit log (issue 12)."""
from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from app import models as m
from app.extensions import db
from app.security.sessions import cleanup

from .conftest import csrf_token, get_one, submit_form
from .test_lockout import account_id as user_id
from .test_lockout import api_login, event_types
from .test_rules import submit, user_form

GOOD = "Quiet-Harbour-Lamp-42"


def rows(app, model, **where):
    with app.app_context():
        found = db.session.execute(sa.select(model).filter_by(**where)).scalars().all()
        db.session.expunge_all()
        db.session.remove()
        return found


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_every_login_writes_a_session_with_address_and_user_agent(app, client_as, api_token):
    client_as("acme.user")
    api_token("acme.user")
    sessions = rows(app, m.UserSession, user_id=user_id(app, "acme.user"))
    assert len(sessions) == 2
    assert all(s.is_active and s.ip_address == "127.0.0.1" for s in sessions)
    assert all(s.expires_at > dt.datetime.now(dt.timezone.utc) for s in sessions)
    assert all(len(s.session_token) == 64 for s in sessions)  # a digest, not the secret itself
    assert event_types(app, "acme.user").count("login_success") == 2


def test_an_admin_ending_a_users_sessions_revokes_its_api_token_on_the_next_request(app, client, api_as, client_as):
    token = api_login(client, "acme.user", "test-password-1", refresh=True).get_json()
    browser = client_as("acme.user")
    assert client.get("/api/v1/part/", headers=bearer(token["access_token"])).status_code == 200
    resp = api_as("acme.admin").post(f"/api/v1/account/{user_id(app, 'acme.user')}/end-sessions")
    assert resp.status_code == 200 and resp.get_json()["ended"] == 2
    assert client.get("/api/v1/part/", headers=bearer(token["access_token"])).status_code == 401
    assert client.post("/api/v1/security/refresh", headers=bearer(token["refresh_token"])).status_code == 401
    assert "/login" in browser.get("/partmodelview/list/").headers.get("Location", "")
    assert "session_ended" in event_types(app, "acme.user")


def test_another_organizations_admin_cannot_end_the_sessions(app, api_as, api_token):
    token = api_token("acme.user")
    assert api_as("beta.admin").post(f"/api/v1/account/{user_id(app, 'acme.user')}/end-sessions").status_code == 404
    assert app.test_client().get("/api/v1/part/", headers=bearer(token)).status_code == 200


def test_users_list_their_own_sessions_and_end_one(app, api_token, client):
    first, second = api_token("acme.user"), api_token("acme.user")
    listed = client.get("/api/v1/account/sessions", headers=bearer(second)).get_json()["result"]
    assert len(listed) == 2 and sum(row["current"] for row in listed) == 1
    other = next(row for row in listed if not row["current"])
    beta_token = api_token("beta.user")
    assert client.post(f"/api/v1/account/sessions/{other['id']}/end", headers=bearer(beta_token)).status_code == 404
    assert client.post(f"/api/v1/account/sessions/{other['id']}/end", headers=bearer(second)).status_code == 200
    assert client.get("/api/v1/part/", headers=bearer(first)).status_code == 401
    assert client.get("/api/v1/part/", headers=bearer(second)).status_code == 200


def test_the_my_sessions_page_ends_a_session(app, client_as, api_token):
    token = api_token("acme.user")
    browser = client_as("acme.user")
    page = browser.get("/account/sessions/").get_data(as_text=True)
    assert "this session" in page and page.count(">End<") == 2
    api_session = next(s for s in rows(app, m.UserSession, user_id=user_id(app, "acme.user"))
                       if s.created_at == min(x.created_at for x in rows(app, m.UserSession,
                                                                          user_id=user_id(app, "acme.user"))))
    resp = browser.post("/account/sessions/end", data={"session_id": str(api_session.id),
                                                       "csrf_token": csrf_token(page)}, follow_redirects=True)
    assert "The session is ended" in resp.get_data(as_text=True)
    assert app.test_client().get("/api/v1/part/", headers=bearer(token)).status_code == 401


def test_changing_ones_password_ends_the_other_sessions_but_not_this_one(app, client_as, api_token):
    token = api_token("acme.user")
    other_browser = client_as("acme.user")
    browser = client_as("acme.user")
    resp = submit_form(browser, "/resetmypassword/form", {"password": GOOD, "conf_password": GOOD})
    assert resp.status_code == 302
    assert app.test_client().get("/api/v1/part/", headers=bearer(token)).status_code == 401
    assert other_browser.get("/partmodelview/list/").status_code == 302
    assert browser.get("/partmodelview/list/").status_code == 200
    assert api_login(app.test_client(), "acme.user", GOOD).status_code == 200


def test_deactivating_or_changing_the_role_of_a_user_revokes_its_tokens_and_is_audited(app, client_as, api_token):
    token = api_token("acme.user")
    admin = client_as("acme.admin")
    with app.app_context():
        admin_role = str(db.session.execute(sa.select(m.PortalUser).filter_by(username="acme.admin"))
                         .scalar_one().roles[0].id)
        promote = user_form("acme.user", roles=[admin_role])
    submit(admin, f"/users/edit/{user_id(app, 'acme.user')}", promote)
    assert app.test_client().get("/api/v1/part/", headers=bearer(token)).status_code == 401
    logs = rows(app, m.UserManagementAuditLog, user_id=user_id(app, "acme.user"), action="role_changed")
    assert len(logs) == 1
    assert logs[0].performed_by_user_id == user_id(app, "acme.admin")
    assert json.loads(logs[0].details)["changes"]["roles"] == [["User"], ["Admin"]]
    assert "role_changed" in event_types(app, "acme.user")

    token = api_token("acme.user")
    with app.app_context():
        deactivate = user_form("acme.user", active=None)
    submit(admin, f"/users/edit/{user_id(app, 'acme.user')}", deactivate)
    assert app.test_client().get("/api/v1/part/", headers=bearer(token)).status_code == 401
    logs = rows(app, m.UserManagementAuditLog, user_id=user_id(app, "acme.user"))
    deactivated = next(log for log in logs if log.action == "deactivated")
    assert json.loads(deactivated.details)["changes"]["active"] == [True, False]


def test_creating_and_deleting_a_user_is_audited_and_keeps_its_events(app, client_as, api_token):
    admin = client_as("superadmin")
    with app.app_context():
        org = str(get_one(m.Organization, name="Acme Aqua").id)
        role = str(db.session.execute(sa.select(m.PortalUser).filter_by(username="acme.user"))
                   .scalar_one().roles[0].id)
    submit(admin, "/users/add", {"first_name": "Tmp", "last_name": "User", "username": "tmp.user",
                                 "email": "tmp@acme.test", "organization": org, "roles": [role],
                                 "user_status": "active", "active": "y", "password": GOOD, "conf_password": GOOD})
    api_token("tmp.user", GOOD)
    submit(admin, f"/users/delete/{user_id(app, 'tmp.user')}", {}, form_url="/users/list/")
    actions = [(log.action, json.loads(log.details)["username"]) for log in rows(app, m.UserManagementAuditLog)]
    assert ("created", "tmp.user") in actions and ("deleted", "tmp.user") in actions
    orphaned = [e for e in rows(app, m.SecurityEvent, event_type="login_success") if e.user_id is None]
    assert len(orphaned) == 1  # the deleted user's login, kept


def test_logout_ends_the_session_and_an_auditor_can_log_out(app, client_as):
    auditor = client_as("auditor")
    assert auditor.get("/logout/").status_code == 302
    sessions = rows(app, m.UserSession, user_id=user_id(app, "auditor"))
    assert [s.is_active for s in sessions] == [False]
    assert event_types(app, "auditor")[-2:] == ["logout", "session_ended"] or "logout" in event_types(app, "auditor")


def test_cleanup_deletes_expired_sessions(app, api_token, runner):
    api_token("acme.user")
    api_token("beta.user")
    with app.app_context():
        db.session.execute(sa.update(m.UserSession.__table__).where(
            m.UserSession.__table__.c.user_id == get_one(m.PortalUser, username="acme.user").id).values(
            expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)))
        db.session.commit()
        db.session.remove()
    result = runner.invoke(args=["abparts", "cleanup-sessions"])
    assert "Deleted 1 session(s)." in result.output
    assert len(rows(app, m.UserSession)) == 1


def test_many_failures_from_one_address_across_users_are_suspicious(app, client, config):
    config["AUTH_SUSPICIOUS_FAILURES"] = 3
    for name in ("acme.user", "beta.user", "nobody.1", "nobody.2", "nobody.3"):
        api_login(client, name, "wrong-password")
    assert event_types(app).count("suspicious_activity") == 1


def test_an_export_is_a_security_event(app, client_as):
    assert client_as("auditor").get("/securityeventmodelview/export/?_flt_0_event_type=login_success").status_code == 200
    exports = rows(app, m.SecurityEvent, event_type="export")
    assert len(exports) == 1 and json.loads(exports[0].details)["view"] == "SecurityEventModelView"
