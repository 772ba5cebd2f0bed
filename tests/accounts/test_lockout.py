from portico.accounts.models import AuthFailure
from portico.core.models import AuditEvent
from tests.conftest import login, tenant_client
from tests.factories import PASSWORD, ContactFactory, CustomerFactory, portal_user


def test_repeated_wrong_passwords_lock_the_account_until_the_window_passes(org, portal_login, clock):
    for _ in range(5):
        response = login(tenant_client(org), "maria@acme.example", "wrong-guess")
        assert "not correct" in response.content.decode()

    locked = login(tenant_client(org), "maria@acme.example", PASSWORD)
    assert locked.status_code == 200
    page = locked.content.decode()
    assert "Too many failed sign-in attempts" in page and "15 minutes" in page

    assert AuditEvent.all_tenants.filter(action="login.locked", data__email="maria@acme.example").exists()

    clock.advance(minutes=14)
    assert login(tenant_client(org), "maria@acme.example", PASSWORD).status_code == 200
    clock.advance(minutes=1, seconds=1)
    assert login(tenant_client(org), "maria@acme.example", PASSWORD).status_code == 302


def test_the_lockout_counts_per_address_case_insensitively(org, portal_login, clock):
    for email in ["MARIA@acme.example", "maria@ACME.example", "Maria@Acme.Example", "maria@acme.example"] * 2:
        login(tenant_client(org), email, "wrong-guess")
    assert login(tenant_client(org), "maria@acme.example", PASSWORD).status_code == 200


def test_many_failures_from_one_address_lock_that_address_for_every_account(
    org, customer, portal_login, clock
):
    for n in range(20):
        login(tenant_client(org), f"guess{n}@acme.example", "wrong-guess")
    assert login(tenant_client(org), "maria@acme.example", PASSWORD).status_code == 200
    other_ip = tenant_client(org, REMOTE_ADDR="10.0.0.9")
    assert login(other_ip, "maria@acme.example", PASSWORD).status_code == 302


def test_a_lockout_at_one_organization_does_not_lock_the_same_email_at_another(
    org, other_org, portal_login, clock
):
    theirs = ContactFactory(customer=CustomerFactory(organization=other_org), email="maria@acme.example")
    portal_user(theirs, password="northwind-password")
    for _ in range(5):
        login(tenant_client(org), "maria@acme.example", "wrong-guess")
    assert login(tenant_client(org), "maria@acme.example", PASSWORD).status_code == 200
    assert login(tenant_client(other_org), "maria@acme.example", "northwind-password").status_code == 302
    assert AuthFailure.objects.filter(organization=org).count() == 5


def test_platform_admins_on_the_platform_host_are_locked_out_too(db, clock):
    from django.test import Client

    from portico.accounts.models import User

    User.objects.create_superuser("root@portico.example", PASSWORD)
    for _ in range(5):
        login(Client(HTTP_HOST="localhost"), "root@portico.example", "wrong-guess")
    assert login(Client(HTTP_HOST="localhost"), "root@portico.example", PASSWORD).status_code == 200
    clock.advance(minutes=16)
    assert login(Client(HTTP_HOST="localhost"), "root@portico.example", PASSWORD).status_code == 302


def test_resetting_the_password_by_email_lifts_the_lockout(
    org, portal_login, clock, mailbox, django_capture_on_commit_callbacks
):
    import re

    for _ in range(5):
        login(tenant_client(org), "maria@acme.example", "wrong-guess")
    client = tenant_client(org)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/portal/account/password/reset/", {"email": "maria@acme.example"})
    link = re.search(
        r"https?://\S+/password/reset/key/\S+", mailbox.body(mailbox.to("maria@acme.example")[0])
    ).group(0)
    form = client.get("/" + link.split("/", 3)[3], follow=True)
    client.post(
        form.redirect_chain[-1][0],
        {"password1": "a-fresh-long-passphrase", "password2": "a-fresh-long-passphrase"},
    )
    assert login(tenant_client(org), "maria@acme.example", "a-fresh-long-passphrase").status_code == 302
