"""The `stripe` gateway against localstripe: customers, card setup, charges, declines, refunds, and
one charge per idempotency key even though localstripe itself ignores the key."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from portico.billing.models import Invoice, Payment
from portico.core import clock
from portico.core.audit import Actor
from portico.core.money import Money
from portico.payments.errors import Code
from portico.payments.gateways import CardDeclined, ChargeStatus, DeclineCode, gateway_for, payment_settings
from portico.payments.methods import save_method, start_setup
from portico.payments.models import GatewayCharge, GatewayCustomer, PaymentAttempt
from portico.payments.services import pay_invoices
from portico.payments.stripe_gateway import GatewayNotConfigured, SetupRefused, StripeGateway
from tests.billing.factories import open_invoice
from tests.factories import CustomerFactory
from tests.localstripe import STRIPE_KEYS

ACTOR = Actor.system("tests")
VISA = "4242424242424242"
CHARGE_FAILS = "4000000000000341"  # attaches, then every charge is declined
DECLINED = "4000000000000002"  # declined when it is saved
NEEDS_3DS = "4000002500003155"  # the bank asks for 3-D Secure


def stripe_api(base: str, method: str, path: str, data: dict | None = None) -> dict:
    """What a browser (Stripe.js) or the Stripe dashboard would do, straight at localstripe."""
    request = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(data).encode() if data is not None else None,
        method=method,
        headers={"Authorization": f"Bearer {STRIPE_KEYS['stripe_secret_key']}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        return {"http_status": error.code, **json.load(error)}


def confirm_in_browser(base: str, session, number: str = VISA, name: str = "Ada Lovelace") -> dict:
    """Stripe.js's `confirmCardSetup`, as localstripe's copy of it posts it (localstripe-v3.js)."""
    seti = session.client_secret.split("_secret_")[0]
    return stripe_api(
        base,
        "POST",
        f"/v1/setup_intents/{seti}/confirm",
        {
            "key": session.publishable_key,
            "use_stripe_sdk": True,
            "client_secret": session.client_secret,
            "payment_method_data": {
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"},
                "billing_details": {"name": name, "address": {"country": "NL"}},
            },
        },
    )


def payment_intents(base: str) -> list[dict]:
    return stripe_api(base, "GET", "/v1/payment_intents?limit=100")["data"]


@pytest.fixture
def gateway(stripe_org) -> StripeGateway:
    gateway = gateway_for(stripe_org)
    assert isinstance(gateway, StripeGateway)
    return gateway


def saved_card(gateway, customer, base, number=VISA):
    reference = gateway.customer_reference(customer)
    session = gateway.start_setup(customer_reference=reference)
    confirm_in_browser(base, session, number)
    return reference, gateway.attach(customer_reference=reference, setup_reference=session.reference)


def test_a_customer_is_made_at_stripe_once(gateway, customer, localstripe):
    first = gateway.customer_reference(customer)
    assert first.startswith("cus_")
    assert gateway.customer_reference(customer) == first
    assert GatewayCustomer.objects.get(customer=customer, gateway="stripe").reference == first
    at_stripe = stripe_api(localstripe, "GET", f"/v1/customers/{first}")
    assert at_stripe["name"] == str(customer)
    assert at_stripe["metadata"] == {"portico_customer": str(customer.pk)}


def test_a_card_confirmed_in_the_browser_is_saved_with_its_details(gateway, customer, localstripe):
    reference = gateway.customer_reference(customer)
    session = gateway.start_setup(customer_reference=reference)
    assert session.reference.startswith("seti_") and session.client_secret.startswith(session.reference)
    assert session.publishable_key == "pk_test_portico"
    assert session.js_url == f"{localstripe}/js.stripe.com/v3/"
    assert confirm_in_browser(localstripe, session)["status"] == "succeeded"

    card = gateway.attach(customer_reference=reference, setup_reference=session.reference)

    assert card.token.startswith("pm_")
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 12, 2031)
    assert (card.holder_name, card.country) == ("Ada Lovelace", "NL")
    assert card.fingerprint
    assert stripe_api(localstripe, "GET", f"/v1/payment_methods/{card.token}")["customer"] == reference


def test_another_customers_setup_is_refused(gateway, customer, outsider_customer, localstripe):
    theirs = gateway.customer_reference(outsider_customer)
    session = gateway.start_setup(customer_reference=theirs)
    confirm_in_browser(localstripe, session)
    mine = gateway.customer_reference(customer)

    with pytest.raises(SetupRefused):
        gateway.attach(customer_reference=mine, setup_reference=session.reference)


def test_a_setup_not_confirmed_or_unknown_is_refused(gateway, customer, localstripe):
    reference = gateway.customer_reference(customer)
    session = gateway.start_setup(customer_reference=reference)
    with pytest.raises(SetupRefused):
        gateway.attach(customer_reference=reference, setup_reference=session.reference)
    with pytest.raises(SetupRefused):
        gateway.attach(customer_reference=reference, setup_reference="seti_doesnotexist")


def test_a_card_declined_at_setup_cannot_be_saved(gateway, customer, localstripe):
    reference = gateway.customer_reference(customer)
    session = gateway.start_setup(customer_reference=reference)
    answer = confirm_in_browser(localstripe, session, DECLINED)
    assert answer["http_status"] == 402  # Stripe.js shows "Your card was declined."
    with pytest.raises(SetupRefused):
        gateway.attach(customer_reference=reference, setup_reference=session.reference)


def test_attaching_a_payment_method_by_id(gateway, customer, localstripe):
    reference = gateway.customer_reference(customer)
    card = gateway.attach(customer_reference=reference, token="pm_card_visa")
    assert card.token.startswith("pm_") and card.last4 == "4242"
    assert stripe_api(localstripe, "GET", f"/v1/payment_methods/{card.token}")["customer"] == reference


def test_a_payment_method_the_bank_declines_is_not_attached(gateway, customer, localstripe):
    reference = gateway.customer_reference(customer)
    with pytest.raises(CardDeclined) as refused:
        gateway.attach(customer_reference=reference, token="pm_card_visa_chargeDeclined")
    assert refused.value.code == Code.CARD_DECLINED and "declined" in str(refused.value)


def test_detaching_forgets_the_card_and_twice_is_fine(gateway, customer, localstripe):
    _reference, card = saved_card(gateway, customer, localstripe)
    gateway.detach(token=card.token)
    gateway.detach(token=card.token)
    gateway.detach(token="pm_gone")
    assert stripe_api(localstripe, "GET", f"/v1/payment_methods/{card.token}")["customer"] is None


def test_a_charge_succeeds_and_its_key_maps_to_the_payment_intent(gateway, customer, localstripe):
    reference, card = saved_card(gateway, customer, localstripe)

    result = gateway.charge(
        source=card.token,
        amount=Money(12345, "USD"),
        idempotency_key="payment_attempt:1",
        customer_reference=reference,
    )

    assert result.status == ChargeStatus.SUCCEEDED and result.reference.startswith("pi_")
    row = GatewayCharge.objects.get(gateway="stripe", kind="charge", idempotency_key="payment_attempt:1")
    assert (row.reference, row.status, row.amount_minor, row.source) == (
        result.reference,
        GatewayCharge.Status.SUCCEEDED,
        12345,
        card.token,
    )
    intent = stripe_api(localstripe, "GET", f"/v1/payment_intents/{result.reference}")
    assert (intent["status"], intent["amount"], intent["currency"], intent["customer"]) == (
        "succeeded",
        12345,
        "usd",
        reference,
    )
    assert intent["metadata"]["portico_idempotency_key"] == "payment_attempt:1"
    assert gateway.find_charge(idempotency_key="payment_attempt:1") == result


def test_a_saved_card_is_charged_with_its_customer_when_none_is_given(gateway, customer, localstripe):
    reference, card = saved_card(gateway, customer, localstripe)
    result = gateway.charge(source=card.token, amount=Money(500, "USD"), idempotency_key="k-cus")
    assert result.succeeded
    assert stripe_api(localstripe, "GET", f"/v1/payment_intents/{result.reference}")["customer"] == reference


def test_a_card_that_fails_when_charged_is_declined_not_raised(gateway, customer, localstripe):
    reference, card = saved_card(gateway, customer, localstripe, CHARGE_FAILS)

    result = gateway.charge(
        source=card.token,
        amount=Money(2000, "USD"),
        idempotency_key="declined-1",
        customer_reference=reference,
    )

    assert result.status == ChargeStatus.DECLINED
    assert result.decline_code == DeclineCode.GENERIC  # localstripe says `card_declined`
    assert "declined" in result.decline_message
    assert GatewayCharge.objects.get(idempotency_key="declined-1").status == GatewayCharge.Status.DECLINED
    assert gateway.find_charge(idempotency_key="declined-1").status == ChargeStatus.DECLINED
    # Asking again under the key answers the decline; it does not try the card again.
    again = gateway.charge(
        source=card.token,
        amount=Money(2000, "USD"),
        idempotency_key="declined-1",
        customer_reference=reference,
    )
    assert again == result and len(payment_intents(localstripe)) == 1


def test_an_off_session_charge_on_a_saved_card(gateway, customer, localstripe):
    reference, card = saved_card(gateway, customer, localstripe)
    result = gateway.charge(
        source=card.token,
        amount=Money(990, "USD"),
        idempotency_key="auto:1",
        customer_reference=reference,
        off_session=True,
    )
    assert result.succeeded
    assert GatewayCharge.objects.get(idempotency_key="auto:1").off_session


def test_an_off_session_charge_the_bank_wants_authenticated_is_declined_and_cancelled(
    gateway, customer, localstripe
):
    reference = gateway.customer_reference(customer)
    session = gateway.start_setup(customer_reference=reference)
    confirm_in_browser(localstripe, session, NEEDS_3DS)
    # The card is saved (Stripe.js would now show the bank's 3-D Secure dialog for the setup)
    method = stripe_api(localstripe, "GET", f"/v1/setup_intents/{session.reference}")["payment_method"]
    card = gateway.attach(customer_reference=reference, token=method)

    result = gateway.charge(
        source=card.token,
        amount=Money(990, "USD"),
        idempotency_key="auto:3ds",
        customer_reference=reference,
        off_session=True,
    )

    assert (result.status, result.decline_code) == (
        ChargeStatus.DECLINED,
        DeclineCode.AUTHENTICATION_REQUIRED,
    )
    assert stripe_api(localstripe, "GET", f"/v1/payment_intents/{result.reference}")["status"] == "canceled"
    assert gateway.find_charge(idempotency_key="auto:3ds").status == ChargeStatus.DECLINED


def test_a_retry_with_the_same_key_makes_no_second_payment_intent(gateway, customer, localstripe):
    reference, card = saved_card(gateway, customer, localstripe)
    charge = dict(
        source=card.token, amount=Money(7000, "USD"), idempotency_key="retry-1", customer_reference=reference
    )

    first = gateway.charge(**charge)
    second = gateway.charge(**charge)

    assert first.succeeded and second == first
    intents = payment_intents(localstripe)
    assert [i["id"] for i in intents] == [first.reference]
    assert GatewayCharge.objects.filter(idempotency_key="retry-1").count() == 1
    with pytest.raises(ValueError):
        gateway.charge(**{**charge, "amount": Money(7001, "USD")})


def test_a_request_that_stopped_before_confirming_is_continued_by_its_retry(gateway, customer, localstripe):
    """The crash window: the PaymentIntent and our row exist, the confirmation was never sent."""
    reference, card = saved_card(gateway, customer, localstripe)
    intent = stripe_api(
        localstripe,
        "POST",
        "/v1/payment_intents",
        {"amount": 4000, "currency": "usd", "customer": reference, "payment_method": card.token},
    )
    GatewayCharge.objects.create(
        gateway="stripe",
        kind="charge",
        idempotency_key="crashed-1",
        reference=intent["id"],
        source=card.token,
        currency="USD",
        amount_minor=4000,
        created_at=clock.now(),
        updated_at=clock.now(),
    )

    result = gateway.charge(
        source=card.token,
        amount=Money(4000, "USD"),
        idempotency_key="crashed-1",
        customer_reference=reference,
    )

    assert result.succeeded and result.reference == intent["id"]
    assert len(payment_intents(localstripe)) == 1


def test_reconciling_a_never_confirmed_charge_cancels_it_and_finds_nothing(gateway, customer, localstripe):
    reference, card = saved_card(gateway, customer, localstripe)
    intent = stripe_api(
        localstripe,
        "POST",
        "/v1/payment_intents",
        {"amount": 4000, "currency": "usd", "customer": reference, "payment_method": card.token},
    )
    GatewayCharge.objects.create(
        gateway="stripe",
        kind="charge",
        idempotency_key="crashed-2",
        reference=intent["id"],
        source=card.token,
        currency="USD",
        amount_minor=4000,
        created_at=clock.now(),
        updated_at=clock.now(),
    )

    assert gateway.find_charge(idempotency_key="crashed-2") is None
    assert stripe_api(localstripe, "GET", f"/v1/payment_intents/{intent['id']}")["status"] == "canceled"
    # and a late retry of the original request cannot charge it any more
    late = gateway.charge(
        source=card.token,
        amount=Money(4000, "USD"),
        idempotency_key="crashed-2",
        customer_reference=reference,
    )
    assert late.status == ChargeStatus.DECLINED


def test_a_key_never_sent_has_no_charge(gateway, localstripe):
    assert gateway.find_charge(idempotency_key="payment_attempt:never") is None


def test_a_full_and_a_partial_refund(gateway, customer, localstripe):
    reference, card = saved_card(gateway, customer, localstripe)
    big = gateway.charge(
        source=card.token, amount=Money(10000, "USD"), idempotency_key="c-big", customer_reference=reference
    )
    small = gateway.charge(
        source=card.token, amount=Money(3000, "USD"), idempotency_key="c-small", customer_reference=reference
    )

    partial = gateway.refund(
        charge_reference=big.reference, amount=Money(2500, "USD"), idempotency_key="refund:1"
    )
    full = gateway.refund(
        charge_reference=small.reference, amount=Money(3000, "USD"), idempotency_key="refund:2"
    )

    assert partial.succeeded and partial.reference.startswith("re_")
    assert full.succeeded and full.reference != partial.reference
    at_stripe = {r["id"]: r for r in stripe_api(localstripe, "GET", "/v1/refunds?limit=100")["data"]}
    assert (at_stripe[partial.reference]["amount"], at_stripe[full.reference]["amount"]) == (2500, 3000)
    assert at_stripe[partial.reference]["payment_intent"] == big.reference
    row = GatewayCharge.objects.get(kind="refund", idempotency_key="refund:1")
    assert (row.reference, row.source, row.amount_minor) == (partial.reference, big.reference, 2500)


def test_a_refund_retried_with_its_key_refunds_once(gateway, customer, localstripe):
    reference, card = saved_card(gateway, customer, localstripe)
    charge = gateway.charge(
        source=card.token, amount=Money(10000, "USD"), idempotency_key="c-r", customer_reference=reference
    )
    refund = dict(charge_reference=charge.reference, amount=Money(1000, "USD"), idempotency_key="refund:r")

    first = gateway.refund(**refund)
    # A crash after Stripe refunded but before our row recorded it: the retry finds the refund by its key.
    GatewayCharge.objects.filter(idempotency_key="refund:r").update(reference="")
    second = gateway.refund(**refund)
    third = gateway.refund(**refund)

    assert first.reference == second.reference == third.reference
    assert len(stripe_api(localstripe, "GET", "/v1/refunds?limit=100")["data"]) == 1


def test_refunding_a_declined_charge_is_refused(gateway, customer, localstripe):
    reference, card = saved_card(gateway, customer, localstripe, CHARGE_FAILS)
    charge = gateway.charge(
        source=card.token, amount=Money(1000, "USD"), idempotency_key="c-d", customer_reference=reference
    )
    result = gateway.refund(
        charge_reference=charge.reference, amount=Money(1000, "USD"), idempotency_key="refund:d"
    )
    assert not result.succeeded and result.failure_message


def test_no_secret_key_is_a_clear_refusal(gateway, customer, settings):
    settings.STRIPE_SECRET_KEY = ""
    config = payment_settings(gateway.organization)
    config.stripe_secret_key = ""
    config.save()
    with pytest.raises(GatewayNotConfigured) as refused:
        gateway_for(gateway.organization).customer_reference(customer)
    assert refused.value.code == Code.GATEWAY_NOT_CONFIGURED
    assert "Stripe keys" in str(refused.value)


def test_an_unreachable_server_is_a_customer_safe_error(gateway, customer, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # discard port: nothing listens
    with pytest.raises(Exception) as failed:
        gateway.create_customer(customer)
    assert failed.value.code == Code.GATEWAY_UNAVAILABLE
    assert "sk_test" not in str(failed.value)


def test_a_wrong_key_is_a_customer_safe_error(gateway, customer, localstripe):
    gateway.config.stripe_secret_key = "sk_test_wrong_and_secret"
    with pytest.raises(Exception) as failed:
        gateway.charge(source="pm_nope", amount=Money(100, "USD"), idempotency_key="bad-1")
    assert failed.value.code == Code.GATEWAY_UNAVAILABLE
    assert "sk_test" not in str(failed.value)


def test_paying_invoices_with_a_saved_stripe_card_books_the_payment_intent(
    stripe_org, customer, localstripe, clock
):
    invoices = [open_invoice(customer, 10000), open_invoice(customer, 2550)]
    session = start_setup(organization=stripe_org, customer=customer, actor=ACTOR)
    confirm_in_browser(localstripe, session)
    method = save_method(
        organization=stripe_org, customer=customer, actor=ACTOR, setup_reference=session.reference
    )
    assert (method.gateway, method.last4, method.is_default) == ("stripe", "4242", True)
    assert method.token.startswith("pm_")

    outcome = pay_invoices(
        organization=stripe_org,
        customer=customer,
        invoice_numbers=[i.number for i in invoices],
        method=method,
        form_token="stripe-form-1",
        actor=ACTOR,
    )

    assert outcome.attempt.status == PaymentAttempt.Status.SUCCEEDED
    payment = Payment.objects.get(customer=customer)
    assert payment.gateway == "stripe" and payment.gateway_reference.startswith("pi_")
    assert payment.amount == Money(12550, "USD") and payment.card_last4 == "4242"
    intent = stripe_api(localstripe, "GET", f"/v1/payment_intents/{payment.gateway_reference}")
    reference = GatewayCustomer.objects.get(customer=customer, gateway="stripe").reference
    assert (intent["status"], intent["amount"], intent["customer"]) == ("succeeded", 12550, reference)
    assert intent["payment_method"] == method.token
    assert intent["metadata"]["portico_idempotency_key"] == outcome.attempt.idempotency_key
    for invoice in invoices:
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.PAID


def test_a_saved_stripe_card_that_fails_when_charged_leaves_the_invoice_unpaid(
    stripe_org, customer, localstripe, clock
):
    invoice = open_invoice(customer, 5000)
    session = start_setup(organization=stripe_org, customer=customer, actor=ACTOR)
    confirm_in_browser(localstripe, session, CHARGE_FAILS)
    method = save_method(
        organization=stripe_org, customer=customer, actor=ACTOR, setup_reference=session.reference
    )

    outcome = pay_invoices(
        organization=stripe_org,
        customer=customer,
        invoice_numbers=[invoice.number],
        method=method,
        form_token="stripe-form-2",
        actor=ACTOR,
    )

    assert outcome.attempt.status == PaymentAttempt.Status.DECLINED
    assert outcome.attempt.decline_code == DeclineCode.GENERIC
    assert not Payment.objects.filter(customer=customer).exists()
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN


def test_keys_are_per_organization_never_module_wide(gateway, customer, other_org, localstripe):
    """One organization's key serves only it: stripe-python's module-wide key and base stay unset,
    and an organization without keys is refused rather than served with another's."""
    import stripe

    gateway.customer_reference(customer)
    assert stripe.api_key is None and stripe.api_base == "https://api.stripe.com"
    with pytest.raises(GatewayNotConfigured):
        from portico.core.tenancy import tenant

        with tenant(other_org):
            StripeGateway(other_org, payment_settings(other_org)).create_customer(
                CustomerFactory(organization=other_org)
            )
