"""The built-in test gateway behaves like Stripe's test mode, keeps only a token, brand, last 4,
expiry and a keyed fingerprint, and keeps its tokens and charges in the database (issue 10, item 2)."""

import pytest

from portico.core.money import Money
from portico.core.tenancy import tenant
from portico.payments.gateways import (
    CardDeclined,
    CardDetails,
    CardError,
    ChargeStatus,
    DeclineCode,
    gateway_for,
    luhn_ok,
)
from portico.payments.models import GatewayCharge, TestCardToken
from portico.payments.test_gateway import IdempotencyKeyReused, TestGateway

pytestmark = pytest.mark.usefixtures("clock")

DECLINED_CARDS = [
    ("4000 0000 0000 0002", DeclineCode.GENERIC),
    ("4000 0000 0000 9995", DeclineCode.INSUFFICIENT_FUNDS),
    ("4000 0000 0000 0069", DeclineCode.EXPIRED_CARD),
    ("4000 0000 0000 0127", DeclineCode.INCORRECT_CVC),
    ("4000 0000 0000 0119", DeclineCode.PROCESSING_ERROR),
]
GOOD_CARDS = ["4242424242424242", "5555555555554444", "378282246310005", "6011111111111117"]


def card(number, exp_month=12, exp_year=2030, cvc="123", name="Maria Lopez"):
    return CardDetails(number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc, name=name)


def charge(gateway, number, key="k1", amount=12500, **kwargs):
    token = gateway.tokenize(card(number, **kwargs))
    return gateway.charge(source=token.token, amount=Money(amount, "USD"), idempotency_key=f"{key}-{number}")


@pytest.fixture
def gateway(org):
    return gateway_for(org, "test")


@pytest.mark.parametrize("number", GOOD_CARDS)
def test_stripes_good_test_cards_are_saved_and_charged(gateway, number):
    token = gateway.tokenize(card(number, cvc="1234" if number.startswith("37") else "123"))
    saved = gateway.attach(customer_reference="cus_test_a", token=token.token)
    assert saved.fingerprint and saved.holder_name == "Maria Lopez" and saved.country == "US"
    result = gateway.charge(source=saved.token, amount=Money(100, "USD"), idempotency_key=f"good-{number}")
    assert result.succeeded and result.reference.startswith("ch_test_")


@pytest.mark.parametrize(("number", "code"), DECLINED_CARDS)
def test_stripe_decline_cards_are_declined_with_a_reason_the_customer_can_act_on(gateway, number, code):
    result = charge(gateway, number)
    assert result.status == ChargeStatus.DECLINED
    assert result.decline_code == code
    assert result.decline_message
    row = GatewayCharge.objects.get(idempotency_key=f"k1-{number}")
    assert (row.status, row.decline_code) == (GatewayCharge.Status.DECLINED, code)


@pytest.mark.parametrize(("number", "code"), DECLINED_CARDS)
def test_stripe_decline_cards_are_refused_when_saved(gateway, number, code):
    token = gateway.tokenize(card(number))
    with pytest.raises(CardDeclined) as refused:
        gateway.attach(customer_reference="cus_test_a", token=token.token)
    assert refused.value.decline_code == code
    assert TestCardToken.objects.get(token=token.token).customer_reference == ""


def test_0341_is_saved_but_declined_when_charged(gateway):
    token = gateway.tokenize(card("4000 0000 0000 0341"))
    saved = gateway.attach(customer_reference="cus_test_a", token=token.token)
    assert saved.last4 == "0341"
    result = gateway.charge(
        source=saved.token,
        amount=Money(100, "USD"),
        idempotency_key="k-0341",
        customer_reference="cus_test_a",
    )
    assert result.decline_code == DeclineCode.GENERIC


def test_a_real_looking_card_is_refused_in_test_mode(gateway):
    assert charge(gateway, "4111 1111 1111 1111").decline_code == DeclineCode.TEST_MODE_LIVE_CARD
    token = gateway.tokenize(card("4111 1111 1111 1111"))
    with pytest.raises(CardDeclined, match="test portal"):
        gateway.attach(customer_reference="cus_test_a", token=token.token)


def test_the_decline_messages_say_what_happened(gateway):
    assert "insufficient funds" in charge(gateway, "4000000000009995").decline_message
    assert "expired" in charge(gateway, "4000000000000069").decline_message
    assert "security code" in charge(gateway, "4000000000000127").decline_message
    assert "declined" in charge(gateway, "4000000000000002").decline_message


def test_4242_succeeds_and_the_token_keeps_only_brand_last4_and_expiry(gateway):
    token = gateway.tokenize(card("4242 4242 4242 4242", exp_month=4, exp_year=2031))
    assert (token.brand, token.last4, token.exp_month, token.exp_year) == ("visa", "4242", 4, 2031)
    assert "4242424242424242" not in repr(token) and "123" not in token.token
    row = TestCardToken.objects.get(token=token.token)
    assert "4242424242424242" not in str(row.__dict__)
    result = gateway.charge(source=token.token, amount=Money(100, "USD"), idempotency_key="k-4242")
    assert result.succeeded and result.reference.startswith("ch_test_")


def test_the_same_card_has_the_same_fingerprint_and_another_card_another(gateway):
    first = gateway.tokenize(card("4242424242424242"))
    again = gateway.tokenize(card("4242 4242 4242 4242", exp_month=5, exp_year=2032))
    other = gateway.tokenize(card("5555555555554444"))
    assert first.token != again.token and first.fingerprint == again.fingerprint != other.fingerprint


def test_tokens_and_charges_persist_for_a_fresh_gateway_in_another_process(org, gateway):
    token = gateway.tokenize(card("4242424242424242"))
    gateway.attach(customer_reference="cus_test_a", token=token.token)
    first = gateway.charge(source=token.token, amount=Money(700, "USD"), idempotency_key="persist-1")
    fresh = TestGateway(org)  # what the worker or the reconciliation builds: nothing in memory
    assert fresh.find_charge(idempotency_key="persist-1") == first
    assert fresh.charge(source=token.token, amount=Money(700, "USD"), idempotency_key="persist-1") == first
    assert fresh.find_charge(idempotency_key="never-sent") is None
    assert GatewayCharge.objects.filter(kind="charge").count() == 1


def test_the_same_idempotency_key_charges_once(gateway):
    token = gateway.tokenize(card("4242424242424242"))
    first = gateway.charge(source=token.token, amount=Money(100, "USD"), idempotency_key="same-key-1")
    second = gateway.charge(source=token.token, amount=Money(100, "USD"), idempotency_key="same-key-1")
    assert first.reference == second.reference
    assert GatewayCharge.objects.filter(idempotency_key="same-key-1").count() == 1


def test_the_same_key_with_another_amount_is_a_bug_not_a_second_charge(gateway):
    token = gateway.tokenize(card("4242424242424242"))
    gateway.charge(source=token.token, amount=Money(100, "USD"), idempotency_key="same-key-2")
    with pytest.raises(IdempotencyKeyReused):
        gateway.charge(source=token.token, amount=Money(200, "USD"), idempotency_key="same-key-2")


def test_the_off_session_flag_is_recorded(gateway):
    token = gateway.tokenize(card("4242424242424242"))
    gateway.charge(source=token.token, amount=Money(100, "USD"), idempotency_key="auto-1", off_session=True)
    assert GatewayCharge.objects.get(idempotency_key="auto-1").off_session


def test_a_token_of_another_organization_or_customer_is_not_ours(org, other_org, gateway):
    with tenant(other_org):
        theirs = gateway_for(other_org, "test").tokenize(card("4242424242424242"))
    with pytest.raises(CardDeclined):
        gateway.attach(customer_reference="cus_test_a", token=theirs.token)
    assert charge_token(gateway, theirs.token, "k-theirs").decline_code == DeclineCode.GENERIC
    mine = gateway.tokenize(card("4242424242424242"))
    gateway.attach(customer_reference="cus_test_a", token=mine.token)
    with pytest.raises(CardDeclined):
        gateway.attach(customer_reference="cus_test_b", token=mine.token)
    result = gateway.charge(
        source=mine.token, amount=Money(100, "USD"), idempotency_key="k-b", customer_reference="cus_test_b"
    )
    assert not result.succeeded
    assert charge_token(gateway, "tok_made_up", "k-made-up").decline_code == DeclineCode.GENERIC


def charge_token(gateway, token, key):
    return gateway.charge(source=token, amount=Money(100, "USD"), idempotency_key=key)


def test_a_detached_card_can_be_attached_again(gateway):
    token = gateway.tokenize(card("4242424242424242"))
    gateway.attach(customer_reference="cus_test_a", token=token.token)
    gateway.detach(token=token.token)
    gateway.detach(token=token.token)  # already gone is not an error
    assert TestCardToken.objects.get(token=token.token).customer_reference == ""
    gateway.attach(customer_reference="cus_test_b", token=token.token)


def test_a_setup_without_a_card_saves_nothing(org, gateway, customer):
    session = gateway.start_setup(customer_reference=gateway.customer_reference(customer))
    assert session.reference.startswith("seti_test_")
    assert gateway.customer_reference(customer).startswith("cus_test_")
    with pytest.raises(CardDeclined):
        gateway.attach(
            customer_reference=gateway.customer_reference(customer), setup_reference=session.reference
        )


def test_refunds_are_limited_to_what_was_charged_less_earlier_refunds(gateway):
    token = gateway.tokenize(card("4242424242424242"))
    charged = gateway.charge(source=token.token, amount=Money(10000, "USD"), idempotency_key="r-1")
    first = gateway.refund(
        charge_reference=charged.reference, amount=Money(6000, "USD"), idempotency_key="re-1"
    )
    assert first.succeeded and first.reference.startswith("re_test_")
    again = gateway.refund(
        charge_reference=charged.reference, amount=Money(6000, "USD"), idempotency_key="re-1"
    )
    assert again == first  # the same key: the same refund, not a second one
    too_much = gateway.refund(
        charge_reference=charged.reference, amount=Money(4001, "USD"), idempotency_key="re-2"
    )
    assert not too_much.succeeded and "$40.00" in too_much.failure_message
    rest = gateway.refund(
        charge_reference=charged.reference, amount=Money(4000, "USD"), idempotency_key="re-3"
    )
    assert rest.succeeded
    assert [r.amount_minor for r in GatewayCharge.objects.filter(kind="refund").order_by("id")] == [
        6000,
        4000,
    ]


def test_a_declined_or_unknown_charge_cannot_be_refunded(gateway):
    declined = charge(gateway, "4000000000000002")
    assert not gateway.refund(
        charge_reference=declined.reference, amount=Money(1, "USD"), idempotency_key="x"
    ).succeeded
    assert not gateway.refund(
        charge_reference="ch_nope", amount=Money(1, "USD"), idempotency_key="y"
    ).succeeded
    assert not GatewayCharge.objects.filter(kind="refund").exists()


@pytest.mark.parametrize(
    ("number", "month", "year", "cvc", "field"),
    [
        ("4242 4242 4242 4241", 12, 2030, "123", "number"),  # fails Luhn
        ("1234", 12, 2030, "123", "number"),
        ("4242 4242 4242 4242", 2, 2026, "123", "exp_year"),  # clock is 2026-03-10: expired last month
        ("4242 4242 4242 4242", 13, 2030, "123", "exp_month"),
        ("4242 4242 4242 4242", 12, 2030, "12", "cvc"),
    ],
)
def test_impossible_cards_are_refused_before_any_charge(gateway, number, month, year, cvc, field):
    with pytest.raises(CardError) as refused:
        gateway.tokenize(card(number, exp_month=month, exp_year=year, cvc=cvc))
    assert refused.value.field == field
    assert not TestCardToken.objects.exists()


def test_a_card_expiring_this_month_is_still_accepted(gateway):
    assert gateway.tokenize(card("4242424242424242", exp_month=3, exp_year=2026)).last4 == "4242"


def test_luhn():
    assert luhn_ok("4242424242424242") and luhn_ok("378282246310005")
    assert not luhn_ok("4242424242424243") and not luhn_ok("42a2")


def test_card_details_never_show_the_number_or_cvc():
    details = card("4242424242424242", cvc="987")
    assert "4242424242424242" not in repr(details) and "987" not in str(details)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_charges_under_one_key_charge_once():
    from django.db import connection

    from tests.concurrency import race
    from tests.factories import OrganizationFactory

    assert connection.vendor == "postgresql"
    organization = OrganizationFactory(slug="samekey")
    gateway = TestGateway(organization)
    token = gateway.tokenize(card("4242424242424242")).token

    def call():
        return gateway.charge(source=token, amount=Money(900, "USD"), idempotency_key="payment_attempt:1")

    outcomes = race(*[call] * 8)
    assert all(o == outcomes[0] and o.succeeded for o in outcomes), outcomes
    assert GatewayCharge.all_tenants.filter(idempotency_key="payment_attempt:1").count() == 1
