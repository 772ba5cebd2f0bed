from allauth.usersessions.models import UserSession

from portico.core.models import AuditEvent
from tests.accounts.conftest import links_in, path_of
from tests.conftest import login, tenant_client
from tests.factories import PASSWORD

NEW_PASSWORD = "another-long-passphrase-2"


def test_password_reset_by_email_follows_the_link_from_the_received_message(
    org, portal_login, mailbox, django_capture_on_commit_callbacks
):
    client = tenant_client(org)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/portal/account/password/reset/", {"email": "maria@acme.example"})
    assert response.status_code == 302
    [message] = mailbox.to("maria@acme.example")
    assert org.name in message["From"]
    [link] = [url for url in links_in(mailbox.body(message)) if "/password/reset/key/" in url]
    assert link.startswith(f"http://{org.host}")

    form = client.get(path_of(link), follow=True)
    assert form.status_code == 200
    set_url = form.redirect_chain[-1][0] if form.redirect_chain else path_of(link)
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(set_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert login(tenant_client(org), "maria@acme.example", NEW_PASSWORD).status_code == 302
    assert login(tenant_client(org), "maria@acme.example", PASSWORD).status_code == 200
    # single use: the same link no longer sets a password
    reused = tenant_client(org).get(path_of(link), follow=True)
    assert "invalid" in reused.content.decode().lower()
    assert AuditEvent.all_tenants.filter(action="password.reset").exists()


def test_a_reset_link_works_for_a_day_then_no_longer(
    org, portal_login, mailbox, clock, django_capture_on_commit_callbacks
):
    client = tenant_client(org)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/portal/account/password/reset/", {"email": "maria@acme.example"})
    [link] = [u for u in links_in(mailbox.body(mailbox.to("maria@acme.example")[0])) if "/key/" in u]
    clock.advance(hours=23)
    assert 'name="password1"' in tenant_client(org).get(path_of(link), follow=True).content.decode()
    clock.advance(hours=2)
    late = tenant_client(org).get(path_of(link), follow=True)
    assert "invalid" in late.content.decode().lower()
    assert 'name="password1"' not in late.content.decode()


def test_password_reset_does_not_reveal_whether_an_address_has_a_login(
    org, portal_login, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = tenant_client(org).post("/portal/account/password/reset/", {"email": "maria@acme.example"})
        unknown = tenant_client(org).post("/portal/account/password/reset/", {"email": "nobody@acme.example"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    # the stranger's mailbox learns nothing useful to an attacker, and gets no reset link
    [message] = mailbox.to("nobody@acme.example")
    assert "/password/reset/key/" not in mailbox.body(message)


def test_a_reset_at_one_organization_never_mails_a_link_for_the_same_address_elsewhere(
    org, other_org, portal_login, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tenant_client(other_org).post("/portal/account/password/reset/", {"email": "maria@acme.example"})
    [message] = mailbox.to("maria@acme.example")
    assert "/password/reset/key/" not in mailbox.body(message)


def test_password_reset_requests_are_limited_with_a_clear_message(org, portal_login, clock):
    client = tenant_client(org)
    for _ in range(3):
        assert (
            client.post("/portal/account/password/reset/", {"email": "maria@acme.example"}).status_code == 302
        )
    response = client.post("/portal/account/password/reset/", {"email": "maria@acme.example"})
    assert response.status_code == 200
    assert "Too many password reset requests" in response.content.decode()
    clock.advance(minutes=61)
    assert client.post("/portal/account/password/reset/", {"email": "maria@acme.example"}).status_code == 302


def test_changing_the_password_needs_the_current_one(org, portal_login):
    client = tenant_client(org)
    login(client, "maria@acme.example")
    response = client.post(
        "/portal/account/password/change/",
        {"oldpassword": "wrong-password", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "Please type your current password" in response.content.decode()


def test_changing_the_password_signs_out_other_sessions_and_is_emailed(
    org, portal_login, mailbox, django_capture_on_commit_callbacks
):
    here, elsewhere = tenant_client(org), tenant_client(org, HTTP_USER_AGENT="Other browser")
    login(here, "maria@acme.example")
    login(elsewhere, "maria@acme.example")
    assert UserSession.objects.filter(user=portal_login).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = here.post(
            "/portal/account/password/change/",
            {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        )
    assert response.status_code == 302
    assert here.get("/portal/").status_code == 200
    assert elsewhere.get("/portal/").status_code == 302
    assert UserSession.objects.filter(user=portal_login).count() == 1
    [notice] = mailbox.to("maria@acme.example")
    assert "password" in notice["Subject"].lower()
    assert AuditEvent.all_tenants.filter(action="password.changed", actor_user=portal_login).exists()


def test_a_password_like_the_email_or_too_common_is_refused(org, portal_login):
    client = tenant_client(org)
    login(client, "maria@acme.example")
    response = client.post(
        "/portal/account/password/change/",
        {"oldpassword": PASSWORD, "password1": "password123", "password2": "password123"},
    )
    assert "too common" in response.content.decode()


def test_without_remember_me_the_session_ends_with_the_browser(org, portal_login):
    client = tenant_client(org)
    login(client, "maria@acme.example")
    assert client.session.get_expire_at_browser_close()
    remembered = tenant_client(org)
    remembered.post(
        "/portal/account/login/", {"login": "maria@acme.example", "password": PASSWORD, "remember": "on"}
    )
    assert not remembered.session.get_expire_at_browser_close()


def test_signing_out_ends_the_session(org, portal_login):
    client = tenant_client(org)
    login(client, "maria@acme.example")
    assert client.post("/portal/account/logout/").status_code == 302
    assert client.get("/portal/").status_code == 302
    assert AuditEvent.all_tenants.filter(action="logout").exists()


def test_a_next_address_on_another_host_is_ignored_after_sign_in(org, portal_login):
    response = tenant_client(org).post(
        "/portal/account/login/?next=https://evil.example/steal",
        {"login": "maria@acme.example", "password": PASSWORD, "next": "https://evil.example/steal"},
    )
    assert response.status_code == 302 and response["Location"] == "/portal/"
    same_host = tenant_client(org).post(
        "/portal/account/login/",
        {"login": "maria@acme.example", "password": PASSWORD, "next": "/portal/security/"},
    )
    assert same_host["Location"] == "/portal/security/"
