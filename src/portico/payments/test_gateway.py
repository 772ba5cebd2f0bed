"""The built-in `test` gateway: Stripe's test mode, embedded (see `payments.gateways`)."""

from __future__ import annotations

import secrets
import threading

from portico.core import clock
from portico.core.money import Money
from portico.payments.gateways import (
    CardDetails,
    CardToken,
    ChargeResult,
    ChargeStatus,
    DeclineCode,
    Gateway,
    card_brand,
    check_card,
)

# -- the test gateway -------------------------------------------------------------------------------

# Stripe's test cards (https://docs.stripe.com/testing): number → outcome at charge time.
TEST_CARD_OUTCOMES = {
    "4242424242424242": None,
    "4000056655665556": None,  # Visa (debit)
    "5555555555554444": None,  # Mastercard
    "2223003122003222": None,  # Mastercard (2-series)
    "378282246310005": None,  # American Express
    "6011111111111117": None,  # Discover
    "4000000000000002": DeclineCode.GENERIC,
    "4000000000009995": DeclineCode.INSUFFICIENT_FUNDS,
    "4000000000000069": DeclineCode.EXPIRED_CARD,
    "4000000000000127": DeclineCode.INCORRECT_CVC,
    "4000000000000119": DeclineCode.PROCESSING_ERROR,
}


class TestGateway(Gateway):
    """Behaves like Stripe's test mode. The token carries the test card's outcome, as Stripe's own
    test tokens do (`tok_chargeDeclinedInsufficientFunds`), so any process can charge it."""

    __test__ = False  # not a pytest test class
    name = "test"
    tokenizes_on_server = True

    _lock = threading.Lock()
    # (idempotency key, source, amount) → result, like Stripe's 24-hour cache of idempotent requests
    _charges: dict[tuple, ChargeResult] = {}

    def tokenize(self, card: CardDetails) -> CardToken:
        digits = check_card(card, clock.today())
        outcome = TEST_CARD_OUTCOMES.get(digits, DeclineCode.TEST_MODE_LIVE_CARD)
        return CardToken(
            token=f"tok_test_{outcome or 'ok'}_{secrets.token_hex(8)}",
            brand=card_brand(digits),
            last4=digits[-4:],
            exp_month=card.exp_month,
            exp_year=card.exp_year,
        )

    def charge(
        self, *, source: str, amount: Money, idempotency_key: str, description: str = ""
    ) -> ChargeResult:
        if not idempotency_key:
            raise ValueError("A charge needs an idempotency key")
        if amount.minor <= 0:
            raise ValueError("A charge needs a positive amount")
        request = (idempotency_key, source, amount)
        with self._lock:
            if request in self._charges:
                return self._charges[request]
            outcome = _outcome_of(source)
            if outcome is None:
                result = ChargeResult(ChargeStatus.SUCCEEDED, reference=f"ch_test_{secrets.token_hex(12)}")
            else:
                result = ChargeResult(ChargeStatus.DECLINED, decline_code=outcome)
            self._charges[request] = result
            return result

    def find_charge(self, *, idempotency_key: str) -> ChargeResult | None:
        # Like Stripe's idempotency cache, this one lives with the gateway: here, in this process.
        with self._lock:
            for (key, _source, _amount), result in self._charges.items():
                if key == idempotency_key:
                    return result
        return None


def _outcome_of(token: str) -> DeclineCode | None:
    if not token.startswith("tok_test_"):
        return DeclineCode.GENERIC  # not a token this gateway issued
    code = token[len("tok_test_") :].rsplit("_", 1)[0]
    if code == "ok":
        return None
    try:
        return DeclineCode(code)
    except ValueError:
        return DeclineCode.GENERIC
