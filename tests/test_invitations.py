"""Invitations and password reset (issue 12): hashed single-use tokens, expiry, no escalation,
no user enumeration, sessions ended after a reset."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from app import models as m
from app.extensions import db, limiter
from app.security.accounts import token_digest
from app.security.mail import mail

from .conftest import csrf_token, get_one
from .test_lockout import api_login, event_types

GOOD = "Quiet-Harbour-Lamp-42"


def token_of(message) -> str:
    return re.search(r"/account/(?:invitation|reset)/([\w-]+)", message.body).group(1)


def invite(api, **body):
    payload = {"email": "new.person@acme.test", "first_name": "New", "last_name": "Person", "role": "User", **body}
    with mail.record_messages() as outbox:
        resp = api.post("/api/v1/account/invite", json=payload)
    return resp, outbox


def user_row(app, username):
    with app.app_context():
        row = db.session.execute(sa.select(m.PortalUser).filter_by(username=username)).scalar_one_or_none()
        db.session.expunge_all()
        db.session.remove()
        return row


def accept(client, token, password=GOOD):
    return client.post("/api/v1/recovery/invitation/accept", json={"token": token, "password": password})


def test_an_admin_invites_a_user_who_accepts_once_by_setting_a_password(app, api_as, client):
    resp, outbox = invite(api_as("acme.admin"))
    assert resp.status_code == 201, resp.get_json()
    assert [msg.recipients for msg in outbox] == [["new.person@acme.test"]]
    token = token_of(outbox[0])
    user = user_row(app, "new.person@acme.test")
    assert not user.active and user.user_status == m.UserStatus.pending_invitation
    assert user.invitation_token == token_digest(token) != token  # stored hashed
    assert dt.timedelta(hours=71) < user.invitation_expires_at - dt.datetime.now(dt.timezone.utc) <= dt.timedelta(hours=72)
    assert api_login(client, "new.person@acme.test", GOOD).status_code == 401
    assert accept(client, token, "1").status_code == 422  # the policy; the link still works
    assert accept(client, token).status_code == 200
    assert api_login(client, "new.person@acme.test", GOOD).status_code == 200
    assert accept(client, token, "Another-Harbour-99").status_code == 422  # single use
    with app.app_context():
        actions = db.session.execute(sa.select(m.InvitationAuditLog.action).order_by(
            m.InvitationAuditLog.timestamp)).scalars().all()
    assert actions == ["sent", "accepted"]
    assert {"invitation_sent", "invitation_accepted"} <= set(event_types(app, "new.person@acme.test"))


@pytest.mark.parametrize("body, status", [
    ({"role": "Super Admin"}, 403),
    ({"role": "Auditor"}, 403),
    ({"role": "Nobody"}, 422),
    ({"organization_id": "beta"}, 403),
])
def test_an_organizations_admin_cannot_escalate_or_invite_elsewhere(app, api_as, body, status):
    if body.get("organization_id") == "beta":
        with app.app_context():
            body = {"organization_id": str(get_one(m.Organization, name="Beta Fish").id)}
    resp, outbox = invite(api_as("acme.admin"), **body)
    assert resp.status_code == status, resp.get_json()
    assert outbox == [] and user_row(app, "new.person@acme.test") is None


def test_a_user_cannot_invite_and_a_super_admin_invites_anywhere(app, api_as):
    assert invite(api_as("acme.user"))[0].status_code == 403
    with app.app_context():
        beta = str(get_one(m.Organization, name="Beta Fish").id)
    resp, _ = invite(api_as("superadmin"), organization_id=beta, role="Admin")
    assert resp.status_code == 201
    assert str(user_row(app, "new.person@acme.test").organization_id).replace("-", "") == beta.replace("-", "")


def test_resend_replaces_the_link_and_revoke_withdraws_it(app, api_as, client):
    admin = api_as("acme.admin")
    resp, outbox = invite(admin)
    pk, first = resp.get_json()["id"], token_of(outbox[0])
    assert api_as("beta.admin").post(f"/api/v1/account/{pk}/invitation/resend").status_code == 404
    with mail.record_messages() as outbox:
        assert admin.post(f"/api/v1/account/{pk}/invitation/resend").status_code == 200
    second = token_of(outbox[0])
    assert accept(client, first).status_code == 422
    assert admin.post(f"/api/v1/account/{pk}/invitation/revoke").status_code == 200
    assert accept(client, second).status_code == 422
    assert admin.post(f"/api/v1/account/{pk}/invitation/revoke").status_code == 422  # nothing pending


def test_an_expired_invitation_is_refused(app, api_as, client):
    resp, outbox = invite(api_as("acme.admin"))
    with app.app_context():
        db.session.execute(sa.update(m.PortalUser.__table__).where(
            m.PortalUser.__table__.c.id == resp.get_json()["id"]).values(
            invitation_expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
        db.session.commit()
    assert accept(client, token_of(outbox[0])).status_code == 422


def request_reset(client, email):
    with mail.record_messages() as outbox:
        resp = client.post("/api/v1/recovery/password-reset", json={"email": email})
    return resp, outbox


def test_password_reset_does_not_tell_which_addresses_exist(client):
    known, known_mail = request_reset(client, "ACME.user@example.test")
    unknown, unknown_mail = request_reset(client, "nobody@example.test")
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    assert len(known_mail) == 1 and unknown_mail == []


def test_a_reset_link_sets_a_password_once_clears_a_lock_and_ends_every_session(app, client, api_token):
    old_token = api_token("acme.user")
    for _ in range(5):
        api_login(client, "acme.user", "wrong-password")
    _, outbox = request_reset(client, "acme.user@example.test")
    token = token_of(outbox[0])
    assert user_row(app, "acme.user").password_reset_token == token_digest(token)
    confirm = lambda password: client.post("/api/v1/recovery/password-reset/confirm",  # noqa: E731
                                           json={"token": token, "password": password})
    assert confirm("acme.user-is-me").status_code == 422
    assert confirm(GOOD).status_code == 200
    assert client.get("/api/v1/part/", headers={"Authorization": f"Bearer {old_token}"}).status_code == 401
    assert api_login(client, "acme.user", GOOD).status_code == 200  # lock cleared
    assert confirm("Another-Harbour-99").status_code == 422  # single use
    assert "password_reset" in event_types(app, "acme.user")


def test_a_reset_link_expires_after_an_hour(app, client):
    _, outbox = request_reset(client, "acme.user@example.test")
    expires = user_row(app, "acme.user").password_reset_expires_at
    assert dt.timedelta(minutes=59) < expires - dt.datetime.now(dt.timezone.utc) <= dt.timedelta(hours=1)
    with app.app_context():
        db.session.execute(sa.update(m.PortalUser.__table__).where(
            m.PortalUser.__table__.c.username == "acme.user").values(
            password_reset_expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
        db.session.commit()
    resp = client.post("/api/v1/recovery/password-reset/confirm", json={"token": token_of(outbox[0]), "password": GOOD})
    assert resp.status_code == 422 and "expired" in resp.get_json()["message"]


def test_the_reset_pages_work_without_signing_in(app, client):
    assert 'href="/account/forgot"' in client.get("/login/").get_data(as_text=True)
    page = client.get("/account/forgot")
    with mail.record_messages() as outbox:
        resp = client.post("/account/forgot", data={"email": "acme.user@example.test",
                                                    "csrf_token": csrf_token(page.get_data(as_text=True))},
                           follow_redirects=True)
    assert "If an active account uses this address" in resp.get_data(as_text=True)
    url = f"/account/reset/{token_of(outbox[0])}"
    page = client.get(url).get_data(as_text=True)
    assert "acme.user" in page
    resp = client.post(url, data={"password": "1", "conf_password": "1", "csrf_token": csrf_token(page)})
    assert "at least 12 characters" in resp.get_data(as_text=True)
    resp = client.post(url, data={"password": GOOD, "conf_password": GOOD, "csrf_token": csrf_token(page)},
                       follow_redirects=True)
    assert "Your password is set" in resp.get_data(as_text=True)
    assert api_login(client, "acme.user", GOOD).status_code == 200
    assert "invalid" in client.get(url, follow_redirects=True).get_data(as_text=True)


def test_the_invitation_page_activates_the_account(app, api_as, client):
    _, outbox = invite(api_as("acme.admin"))
    url = f"/account/invitation/{token_of(outbox[0])}"
    page = client.get(url).get_data(as_text=True)
    resp = client.post(url, data={"password": GOOD, "conf_password": GOOD, "csrf_token": csrf_token(page)},
                       follow_redirects=True)
    assert "Your account is ready" in resp.get_data(as_text=True)
    assert user_row(app, "new.person@acme.test").active


def test_reset_requests_are_rate_limited_by_address_and_address_asked_for(client, config):
    limiter.reset()
    config.update(AUTH_RATE_LIMIT_ADDRESS="100 per minute", AUTH_RATE_LIMIT_USERNAME="2 per minute")
    answers = [request_reset(client, "acme.user@example.test")[0].status_code for _ in range(3)]
    assert answers == [202, 202, 429]
    assert request_reset(client, "beta.user@example.test")[0].status_code == 202
    limiter.reset()


def test_the_invite_form_and_the_user_screens_resend_action(app, client_as):
    admin = client_as("acme.admin")
    with app.app_context():
        acme = str(get_one(m.Organization, name="Acme Aqua").id)
    page = admin.get("/account/invite/").get_data(as_text=True)
    assert "Beta Fish" not in page  # only its own organization is offered
    with mail.record_messages() as outbox:
        resp = admin.post("/account/invite/", data={
            "email": "form.person@acme.test", "first_name": "Form", "last_name": "Person", "role": "User",
            "organization_id": acme, "csrf_token": csrf_token(page)}, follow_redirects=True)
    assert "Invitation sent to form.person@acme.test" in resp.get_data(as_text=True)
    assert len(outbox) == 1
    user = user_row(app, "form.person@acme.test")
    with mail.record_messages() as outbox:
        resp = admin.post("/users/action_post", data={"action": "resend_invitation", "rowid": [user.id],
                                                      "csrf_token": csrf_token(page)}, follow_redirects=True)
    assert "Invitation sent again" in resp.get_data(as_text=True) and len(outbox) == 1
    assert client_as("acme.user").get("/account/invite/").status_code == 403  # no access


def test_the_openapi_document_describes_the_account_routes(api_as):
    spec = api_as("superadmin").get("/api/v1/_openapi").get_json()
    paths = spec["paths"]
    assert paths["/api/v1/account/{pk}/unlock"]["post"]["summary"].startswith("Unlock an account")
    assert "requestBody" in paths["/api/v1/recovery/password-reset/confirm"]["post"]
    assert paths["/api/v1/account/sessions"]["get"]["responses"]["200"]
