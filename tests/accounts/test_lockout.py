"""Password sign-ins are throttled per account (unknown browsers), per known device and per client
address, with delays that double after the free attempts (accounts/lockout.py)."""

from django.test import Client

from portico.accounts.lockout import DEVICE_COOKIE
from portico.accounts.models import SignInThrottle
from portico.core.models import AuditEvent
from tests.conftest import login, tenant_client
from tests.factories import PASSWORD, ContactFactory, CustomerFactory, portal_user

NOT_CORRECT = "not correct"
THROTTLED = "Too many failed sign-in attempts"


def page(response) -> str:
    return response.content.decode()


def wrong_from_unknown_browsers(org, times, email="maria@acme.example"):
    for _ in range(times):
        assert NOT_CORRECT in page(login(tenant_client(org), email, "wrong-guess"))


def known_device_of(org, email="maria@acme.example", password=PASSWORD) -> Client:
    """A browser in which the owner signed in once (and then signed out): it keeps its device cookie."""
    browser = tenant_client(org)
    assert login(browser, email, password).status_code == 302
    assert DEVICE_COOKIE in browser.cookies
    browser.post("/portal/account/logout/")
    return browser


def failures_of_unknown_browsers(org, email="maria@acme.example") -> int:
    return SignInThrottle.all_tenants.get(key=f"{org.pk}|account|{email}|unknown").failures


def test_after_five_wrong_passwords_even_the_right_one_waits_for_a_delay_that_doubles(
    org, portal_login, clock
):
    wrong_from_unknown_browsers(org, 5)

    refused = login(tenant_client(org), "maria@acme.example", PASSWORD)
    assert refused.status_code == 200 and THROTTLED in page(refused) and "1 minute." in page(refused)
    assert AuditEvent.all_tenants.filter(action="login.locked", data__email="maria@acme.example").exists()

    clock.advance(seconds=61)
    wrong_from_unknown_browsers(org, 1)  # the sixth failure: the next wait is two minutes
    refused = login(tenant_client(org), "maria@acme.example", PASSWORD)
    assert THROTTLED in page(refused) and "2 minutes" in page(refused)
    clock.advance(seconds=90)
    assert THROTTLED in page(login(tenant_client(org), "maria@acme.example", PASSWORD))
    clock.advance(seconds=31)
    assert login(tenant_client(org), "maria@acme.example", PASSWORD).status_code == 302


def test_refused_attempts_are_not_counted_and_do_not_lengthen_the_wait(org, portal_login, clock):
    wrong_from_unknown_browsers(org, 5)
    for _ in range(10):
        assert THROTTLED in page(login(tenant_client(org), "maria@acme.example", "wrong-guess"))
    assert failures_of_unknown_browsers(org) == 5
    clock.advance(seconds=61)
    assert login(tenant_client(org), "maria@acme.example", PASSWORD).status_code == 302


def test_the_delay_stops_growing_at_one_hour(org, portal_login, clock):
    wrong_from_unknown_browsers(org, 5)
    for _ in range(8):
        clock.advance(hours=1, seconds=1)
        wrong_from_unknown_browsers(org, 1)
    refused = login(tenant_client(org), "maria@acme.example", PASSWORD)
    assert "60 minutes" in page(refused)
    clock.advance(hours=1, seconds=1)
    assert login(tenant_client(org), "maria@acme.example", PASSWORD).status_code == 302


def test_the_owner_on_a_known_device_signs_in_while_unknown_browsers_are_throttled(org, portal_login, clock):
    owner = known_device_of(org)
    wrong_from_unknown_browsers(org, 5)  # an attacker, from browsers the account never signed in from
    assert THROTTLED in page(login(tenant_client(org), "maria@acme.example", PASSWORD))

    assert login(owner, "maria@acme.example", PASSWORD).status_code == 302
    assert failures_of_unknown_browsers(org) == 5  # the owner's sign-in lifts nothing for the attacker


def test_a_known_device_has_its_own_budget(org, portal_login, clock):
    owner = known_device_of(org)
    for _ in range(5):
        assert NOT_CORRECT in page(login(owner, "maria@acme.example", "mistyped"))
    assert THROTTLED in page(login(owner, "maria@acme.example", PASSWORD))
    # The account's budget for unknown browsers is untouched.
    assert login(tenant_client(org), "maria@acme.example", PASSWORD).status_code == 302
    clock.advance(seconds=61)
    assert login(owner, "maria@acme.example", PASSWORD).status_code == 302


def test_a_forged_device_cookie_or_another_accounts_counts_as_an_unknown_browser(
    org, customer, portal_login, clock
):
    bob = portal_user(ContactFactory(customer=customer, email="bob@acme.example"))
    bobs_browser = known_device_of(org, email=bob.email)
    wrong_from_unknown_browsers(org, 5)

    assert THROTTLED in page(login(bobs_browser, "maria@acme.example", PASSWORD))
    forged = tenant_client(org)
    forged.cookies[DEVICE_COOKIE] = "0123456789abcdef0123456789abcdef:mine:forged"
    assert THROTTLED in page(login(forged, "maria@acme.example", PASSWORD))


def test_a_right_password_gives_its_attempt_back_but_does_not_wipe_the_failures(org, portal_login, clock):
    wrong_from_unknown_browsers(org, 4)
    assert login(tenant_client(org), "maria@acme.example", PASSWORD).status_code == 302
    assert failures_of_unknown_browsers(org) == 4
    wrong_from_unknown_browsers(org, 1)
    assert THROTTLED in page(login(tenant_client(org), "maria@acme.example", PASSWORD))


def test_a_bucket_quiet_for_a_day_starts_afresh(org, portal_login, clock):
    wrong_from_unknown_browsers(org, 5)
    clock.advance(hours=24, seconds=1)
    wrong_from_unknown_browsers(org, 4)
    assert failures_of_unknown_browsers(org) == 4
    assert login(tenant_client(org), "maria@acme.example", PASSWORD).status_code == 302


def test_the_throttle_counts_per_address_case_insensitively(org, portal_login, clock):
    for email in [
        "MARIA@acme.example",
        "maria@ACME.example",
        "Maria@Acme.Example",
        "maria@acme.example",
        "mAria@acme.example",
    ]:
        login(tenant_client(org), email, "wrong-guess")
    assert login(tenant_client(org), "maria@acme.example", PASSWORD).status_code == 200


def test_many_failures_from_one_address_throttle_that_address_for_every_account(
    org, customer, portal_login, clock
):
    for n in range(20):
        login(tenant_client(org), f"guess{n}@acme.example", "wrong-guess")
    assert THROTTLED in page(login(tenant_client(org), "maria@acme.example", PASSWORD))
    other_ip = tenant_client(org, REMOTE_ADDR="10.0.0.9")
    assert login(other_ip, "maria@acme.example", PASSWORD).status_code == 302


def test_a_throttle_at_one_organization_does_not_touch_the_same_email_at_another(
    org, other_org, portal_login, clock
):
    theirs = ContactFactory(customer=CustomerFactory(organization=other_org), email="maria@acme.example")
    portal_user(theirs, password="northwind-password")
    wrong_from_unknown_browsers(org, 5)
    assert login(tenant_client(org), "maria@acme.example", PASSWORD).status_code == 200
    assert login(tenant_client(other_org), "maria@acme.example", "northwind-password").status_code == 302
    assert failures_of_unknown_browsers(org) == 5
    assert (
        SignInThrottle.all_tenants.get(key=f"{other_org.pk}|account|maria@acme.example|unknown").failures == 0
    )


def test_platform_admins_on_the_platform_host_are_throttled_too(db, clock):
    from portico.accounts.models import User

    User.objects.create_superuser("root@portico.example", PASSWORD)
    for _ in range(5):
        login(Client(HTTP_HOST="localhost"), "root@portico.example", "wrong-guess")
    assert login(Client(HTTP_HOST="localhost"), "root@portico.example", PASSWORD).status_code == 200
    clock.advance(seconds=61)
    assert login(Client(HTTP_HOST="localhost"), "root@portico.example", PASSWORD).status_code == 302


def test_resetting_the_password_by_email_lifts_the_throttle(
    org, portal_login, clock, mailbox, django_capture_on_commit_callbacks
):
    import re

    wrong_from_unknown_browsers(org, 5)
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
