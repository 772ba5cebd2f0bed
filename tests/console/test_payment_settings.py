"""The organization's payment settings in the console: gateway, write-only Stripe keys, bank-transfer
instructions, the webhook address; who may change them and who may only read them."""

from __future__ import annotations

import pytest

from portico.accounts.models import StaffRole
from portico.core.models import AuditEvent, Organization
from portico.payments.gateways import gateway_name, payment_settings
from portico.payments.models import PaymentSettings
from tests.conftest import tenant_client
from tests.factories import staff_user

BACKEND = "portico.accounts.backends.TenantAuthenticationBackend"
SECRET = "sk_test_51HxSecretValueNeverShownabcd"
WEBHOOK = "whsec_TopSecretSigningValue9876"
PUBLISHABLE = "pk_test_51HxPublishableValue1234"


def _client(org, role=StaffRole.OWNER):
    client = tenant_client(org)
    client.force_login(staff_user(org, email=f"{role}@renotech.example", role=role), backend=BACKEND)
    return client


def _fresh(org):
    return Organization.objects.get(pk=org.pk)  # not the test's copy, which holds its settings row


def _url(org):
    return f"/console/payments/paymentsettings/{payment_settings(org).pk}/change/"


def _form(**overrides):
    data = {
        "gateway": "stripe",
        "stripe_publishable_key": PUBLISHABLE,
        "stripe_secret_key": SECRET,
        "stripe_webhook_secret": WEBHOOK,
        "offline_instructions": "IBAN DE00 1234\nReference: invoice number",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_the_owner_chooses_stripe_and_the_keys_are_never_shown_again(org):
    client = _client(org)
    response = client.post(_url(org), _form())
    assert response.status_code == 302, response.content.decode()[:2000]
    stored = PaymentSettings.all_tenants.get(organization=org)
    assert (stored.gateway, stored.stripe_secret_key, stored.stripe_webhook_secret) == (
        "stripe",
        SECRET,
        WEBHOOK,
    )
    assert gateway_name(_fresh(org)) == "stripe"
    page = client.get(_url(org)).content.decode()
    for secret in (SECRET, WEBHOOK, PUBLISHABLE):
        assert secret not in page
    assert "sk_test_…abcd" in page and "whsec_…9876" in page and "pk_test_…1234" in page
    assert "http://localhost/payments/webhooks/stripe/renotech/" in page
    event = AuditEvent.all_tenants.get(action="payment_settings.changed")
    assert event.data["stripe_secret_key"] == "changed" and event.data["stripe_webhook_secret"] == "changed"
    assert SECRET not in str(event.data) and WEBHOOK not in str(event.data)


def test_a_key_left_blank_keeps_the_stored_one(org):
    client = _client(org)
    client.post(_url(org), _form())
    response = client.post(
        _url(org),
        _form(
            stripe_secret_key="",
            stripe_webhook_secret="",
            stripe_publishable_key="",
            offline_instructions="x",
        ),
    )
    assert response.status_code == 302
    stored = PaymentSettings.all_tenants.get(organization=org)
    assert (stored.stripe_secret_key, stored.stripe_webhook_secret, stored.stripe_publishable_key) == (
        SECRET,
        WEBHOOK,
        PUBLISHABLE,
    )
    assert stored.offline_instructions == "x"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("stripe_secret_key", "pk_test_wrong", "starts with “sk_”"),
        ("stripe_publishable_key", "sk_test_wrong", "starts with “pk_”"),
        ("stripe_webhook_secret", "secret", "starts with “whsec_”"),
    ],
)
def test_keys_of_the_wrong_kind_are_refused(org, field, value, message):
    response = _client(org).post(_url(org), _form(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert PaymentSettings.all_tenants.get(organization=org).gateway == ""


def test_stripe_without_keys_is_refused_with_a_clear_message(org, settings):
    settings.STRIPE_SECRET_KEY = ""
    response = _client(org).post(
        _url(org), _form(stripe_secret_key="", stripe_publishable_key="", stripe_webhook_secret="")
    )
    assert response.status_code == 200
    assert "enter your Stripe secret key" in response.content.decode()
    assert PaymentSettings.all_tenants.get(organization=org).gateway == ""


def test_stripe_with_the_instance_key_needs_no_key_of_its_own(org, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_instance"
    response = _client(org).post(
        _url(org), _form(stripe_secret_key="", stripe_publishable_key="", stripe_webhook_secret="")
    )
    assert response.status_code == 302
    assert gateway_name(_fresh(org)) == "stripe"


def test_offline_and_the_instance_default(org):
    client = _client(org)
    assert client.post(_url(org), _form(gateway="offline", stripe_secret_key="")).status_code == 302
    assert gateway_name(_fresh(org)) == "offline"
    assert client.post(_url(org), _form(gateway="", stripe_secret_key="")).status_code == 302
    assert PaymentSettings.all_tenants.get(organization=org).gateway == ""


@pytest.mark.parametrize("role", [StaffRole.FINANCE, StaffRole.SUPPORT, StaffRole.READ_ONLY])
def test_other_roles_read_the_settings_with_the_keys_masked_and_may_not_change_them(org, role):
    _client(org, StaffRole.ADMINISTRATOR).post(_url(org), _form())
    client = _client(org, role)
    response = client.get(_url(org))
    assert response.status_code == 200
    page = response.content.decode()
    assert SECRET not in page and WEBHOOK not in page and PUBLISHABLE not in page
    assert "sk_test_…abcd" in page
    assert 'name="stripe_secret_key"' not in page
    response = client.post(_url(org), _form(gateway="offline", stripe_secret_key="sk_test_evil"))
    assert response.status_code == 403
    stored = PaymentSettings.all_tenants.get(organization=org)
    assert (stored.gateway, stored.stripe_secret_key) == ("stripe", SECRET)


def test_another_organizations_payment_settings_answer_404_and_stay_unchanged(org, other_org):
    from portico.core import tenancy

    with tenancy.tenant(other_org):
        theirs = payment_settings(other_org)
        PaymentSettings.all_tenants.filter(pk=theirs.pk).update(stripe_secret_key=SECRET, gateway="stripe")
    client = _client(org)
    url = f"/console/payments/paymentsettings/{theirs.pk}/change/"
    assert client.get(url).status_code == 404
    assert client.post(url, _form(gateway="offline", stripe_secret_key="sk_test_evil")).status_code == 404
    listing = client.get("/console/payments/paymentsettings/").content.decode()
    assert f"/{theirs.pk}/change/" not in listing
    theirs.refresh_from_db()
    assert (theirs.gateway, theirs.stripe_secret_key) == ("stripe", SECRET)


def test_the_customer_page_lists_saved_cards_without_their_tokens(org, customer):
    from portico.core.audit import Actor
    from portico.payments.gateways import CardDetails
    from portico.payments.methods import save_method

    method = save_method(
        organization=org,
        customer=customer,
        actor=Actor.system("tests"),
        card=CardDetails(number="4242424242424242", exp_month=11, exp_year=2031, cvc="123"),
    )
    page = _client(org, StaffRole.SUPPORT).get(f"/console/customers/customer/{customer.pk}/change/")
    text = page.content.decode()
    assert "Visa •••• 4242" in text and "11/2031" in text
    assert method.token not in text and f"…{method.token[-4:]}" in text
