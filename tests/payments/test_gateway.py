"""The built-in test gateway behaves like Stripe's test mode and keeps only a token, brand, last 4, expiry."""

import pytest

from portico.core.money import Money
from portico.payments.gateways import (
    CardDetails,
    CardError,
    ChargeStatus,
    DeclineCode,
    get_gateway,
    luhn_ok,
)
from portico.payments.test_gateway import TestGateway


def card(number, exp_month=12, exp_year=2030, cvc="123"):
    return CardDetails(number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc, name="Maria Lopez")


def charge(number, key="k1", **kwargs):
    gateway = TestGateway()
    token = gateway.tokenize(card(number, **kwargs))
    return gateway.charge(source=token.token, amount=Money(12500, "USD"), idempotency_key=f"{key}-{number}")


@pytest.mark.usefixtures("clock")
@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("4000 0000 0000 0002", DeclineCode.GENERIC),
        ("4000 0000 0000 9995", DeclineCode.INSUFFICIENT_FUNDS),
        ("4000 0000 0000 0069", DeclineCode.EXPIRED_CARD),
        ("4000 0000 0000 0127", DeclineCode.INCORRECT_CVC),
    ],
)
def test_stripe_decline_cards_are_declined_with_a_reason_the_customer_can_act_on(number, code):
    result = charge(number)
    assert result.status == ChargeStatus.DECLINED
    assert result.decline_code == code
    assert result.decline_message


@pytest.mark.usefixtures("clock")
def test_the_decline_messages_say_what_happened():
    assert "insufficient funds" in charge("4000000000009995").decline_message
    assert "expired" in charge("4000000000000069").decline_message
    assert "security code" in charge("4000000000000127").decline_message
    assert "declined" in charge("4000000000000002").decline_message


@pytest.mark.usefixtures("clock")
def test_4242_succeeds_and_the_token_keeps_only_brand_last4_and_expiry():
    gateway = get_gateway("test")
    token = gateway.tokenize(card("4242 4242 4242 4242", exp_month=4, exp_year=2031))
    assert (token.brand, token.last4, token.exp_month, token.exp_year) == ("visa", "4242", 4, 2031)
    assert "4242424242424242" not in repr(token) and "123" not in token.token
    result = gateway.charge(source=token.token, amount=Money(100, "USD"), idempotency_key="k-4242")
    assert result.succeeded and result.reference.startswith("ch_test_")


@pytest.mark.usefixtures("clock")
def test_the_same_idempotency_key_charges_once():
    gateway = TestGateway()
    token = gateway.tokenize(card("4242424242424242"))
    first = gateway.charge(source=token.token, amount=Money(100, "USD"), idempotency_key="same-key-1")
    second = gateway.charge(source=token.token, amount=Money(100, "USD"), idempotency_key="same-key-1")
    assert first.reference == second.reference


@pytest.mark.usefixtures("clock")
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
def test_impossible_cards_are_refused_before_any_charge(number, month, year, cvc, field):
    with pytest.raises(CardError) as refused:
        TestGateway().tokenize(card(number, exp_month=month, exp_year=year, cvc=cvc))
    assert refused.value.field == field


@pytest.mark.usefixtures("clock")
def test_a_card_expiring_this_month_is_still_accepted():
    assert TestGateway().tokenize(card("4242424242424242", exp_month=3, exp_year=2026)).last4 == "4242"


@pytest.mark.usefixtures("clock")
def test_a_real_looking_card_is_refused_in_test_mode():
    result = charge("4111 1111 1111 1111")
    assert result.decline_code == DeclineCode.TEST_MODE_LIVE_CARD


def test_luhn():
    assert luhn_ok("4242424242424242") and luhn_ok("378282246310005")
    assert not luhn_ok("4242424242424243") and not luhn_ok("42a2")


def test_card_details_never_show_the_number_or_cvc():
    details = card("4242424242424242", cvc="987")
    assert "4242424242424242" not in repr(details) and "987" not in str(details)
