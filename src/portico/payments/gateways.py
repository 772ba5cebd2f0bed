"""The payment-gateway interface and the built-in `test` gateway.

A gateway turns card details into a token (in the browser for real gateways, on the server for the
test gateway) and charges a token for an amount under an idempotency key. Portico keeps only what a
gateway hands back: the token, the brand, the last four digits and the expiry — never the card
number or the security code, in the database or in the logs.

Saved cards (a later issue) are tokens the gateway keeps for a customer: `charge(source=...)` takes
either a one-off token or a saved card's token, so they fit without changing the interface.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from portico.core import clock
from portico.core.errors import DomainError
from portico.core.money import Money
from portico.payments.errors import Code


class ChargeStatus(StrEnum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"


class DeclineCode(StrEnum):
    """Stripe's decline codes, the ones a customer can act on."""

    GENERIC = "generic_decline"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    EXPIRED_CARD = "expired_card"
    INCORRECT_CVC = "incorrect_cvc"
    PROCESSING_ERROR = "processing_error"
    TEST_MODE_LIVE_CARD = "test_mode_live_card"


# What the customer reads: what happened and what to do, never the gateway's internals.
DECLINE_MESSAGES = {
    DeclineCode.GENERIC: _("Your card was declined. Please use another card or contact your bank."),
    DeclineCode.INSUFFICIENT_FUNDS: _("Your card has insufficient funds. Please use another card."),
    DeclineCode.EXPIRED_CARD: _("Your card has expired. Please use another card."),
    DeclineCode.INCORRECT_CVC: _("Your card's security code is incorrect. Please check it and try again."),
    DeclineCode.PROCESSING_ERROR: _("We could not process your card. Please try again in a moment."),
    DeclineCode.TEST_MODE_LIVE_CARD: _(
        "This is a test portal: real cards are not accepted. Use a test card such as 4242 4242 4242 4242."
    ),
}


class CardError(DomainError):
    """Card details that cannot be a card (checked before anything is charged or written)."""

    code = Code.CARD_INVALID
    field = "number"
    message = _("Your card details are incorrect. Please check them and try again.")


@dataclass(frozen=True)
class CardDetails:
    """What the customer typed. Lives only in memory for the length of one request."""

    number: str
    exp_month: int
    exp_year: int
    cvc: str
    name: str = ""

    def __repr__(self) -> str:  # never let the number or CVC reach a log through a repr
        return f"CardDetails(****{self.digits[-4:]}, {self.exp_month:02d}/{self.exp_year})"

    __str__ = __repr__

    @property
    def digits(self) -> str:
        return "".join(c for c in self.number if c.isdigit())


@dataclass(frozen=True)
class CardToken:
    """All that Portico keeps of a card."""

    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class ChargeResult:
    status: ChargeStatus
    reference: str = ""
    decline_code: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status == ChargeStatus.SUCCEEDED

    @property
    def decline_message(self) -> str:
        if self.succeeded:
            return ""
        return str(DECLINE_MESSAGES.get(self.decline_code, DECLINE_MESSAGES[DeclineCode.GENERIC]))


class Gateway:
    """What every gateway does. `name` is stored on payments (`Payment.gateway`)."""

    name: str = ""
    # True when card details reach our server to be tokenized (the test gateway); real gateways
    # collect them in the browser (their own card fields) and post only a token.
    tokenizes_on_server: bool = False

    def tokenize(self, card: CardDetails) -> CardToken:
        raise NotImplementedError

    def charge(
        self, *, source: str, amount: Money, idempotency_key: str, description: str = ""
    ) -> ChargeResult:
        """Charge `source` (a one-off or saved card token). A retry with the same key has no second effect."""
        raise NotImplementedError

    def find_charge(self, *, idempotency_key: str) -> ChargeResult | None:
        """The outcome of the charge asked for under this key, or None if the gateway never got it.

        Reconciliation asks this about attempts a crash left pending (`payments.services.reconcile`).
        """
        raise NotImplementedError


# -- card checks ------------------------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_brand(digits: str) -> str:
    if digits.startswith("4"):
        return "visa"
    if digits[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(digits[:4] or 0) <= 2720:
        return "mastercard"
    if digits[:2] in {"34", "37"}:
        return "amex"
    if digits.startswith("6011") or digits.startswith("65"):
        return "discover"
    if digits[:2] in {"36", "38", "39", "30"}:
        return "diners"
    if digits[:2] == "35":
        return "jcb"
    return "unknown"


def check_card(card: CardDetails, today: dt.date) -> str:
    """Refuse what cannot be a usable card (as Stripe's card element does) and return its digits."""
    digits = card.digits
    if not luhn_ok(digits):
        raise CardError(_("Your card number is incorrect."), field="number")
    if not 1 <= card.exp_month <= 12:
        raise CardError(_("Your card's expiration month is invalid."), field="exp_month")
    if (card.exp_year, card.exp_month) < (today.year, today.month):
        raise CardError(_("Your card's expiration date is in the past."), field="exp_year")
    if card.exp_year > today.year + 50:
        raise CardError(_("Your card's expiration year is invalid."), field="exp_year")
    cvc_length = 4 if card_brand(digits) == "amex" else 3
    if not (card.cvc.isdigit() and len(card.cvc) == cvc_length):
        raise CardError(_("Your card's security code is incomplete."), field="cvc")
    return digits


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


GATEWAYS: dict[str, type[Gateway]] = {"test": TestGateway}


def get_gateway(name: str | None = None) -> Gateway:
    """The gateway `settings.PAYMENT_GATEWAY` selects (or the one named)."""
    name = name or settings.PAYMENT_GATEWAY
    try:
        return GATEWAYS[name]()
    except KeyError:
        raise LookupError(f"No online payment gateway {name!r} is available") from None


def online_gateway() -> Gateway | None:
    """The gateway customers pay through, or None when the organization takes no online payments
    (`PAYMENT_GATEWAY=offline`, or a gateway this build does not have yet)."""
    try:
        return get_gateway()
    except LookupError:
        return None
