"""The portal starts, logs in each role and serves its home page."""
import pytest


@pytest.mark.parametrize("username", ["superadmin", "auditor", "oraseas.admin", "acme.admin", "acme.user"])
def test_each_role_logs_in_and_sees_the_home_page(client_as, username):
    c = client_as(username)
    resp = c.get("/")
    assert resp.status_code == 200
    assert "ABParts Admin" in resp.get_data(as_text=True)
