"""The payment-gateway interface, and which gateway an organization uses.

A gateway keeps the cards; Portico keeps only what it hands back: a token (Stripe's `pm_…`), the
brand, the last four digits, the expiry, the holder's name and country — never the card number or
the security code, in the database, the logs, emails or error reports.

Three gateways implement `Gateway`, one per organization (`PaymentSettings.gateway`, else
`settings.PAYMENT_GATEWAY`):
- `stripe` (`payments.stripe_gateway`): card entry in the browser through Stripe.js, so a card number
  never reaches our server (PCI SAQ A); tested against localstripe;
- `test` (`payments.test_gateway`): Stripe's test mode, embedded — it tokenizes typed test cards on
  our server and keeps its tokens and charges in the database (`TestCardToken`, `GatewayCharge`),
  so every process sees them;
- `offline`: no online payments; bank-transfer instructions, payments recorded by staff.

Every call that moves money carries an idempotency key: the same key again has no second effect,
and `find_charge(key)` says what happened under a key (the reconciliation asks it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from portico.core import clock
from portico.core.cards import luhn_ok
from portico.core.errors import DomainError
from portico.core.money import Money
from portico.payments.errors import Code


class ChargeStatus(StrEnum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    # The gateway has it and has not decided yet (bank debits, 3-D Secure pending): wait.
    PROCESSING = "processing"


class DeclineCode(StrEnum):
    """Stripe's decline codes, the ones a customer can act on."""

    GENERIC = "generic_decline"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    EXPIRED_CARD = "expired_card"
    INCORRECT_CVC = "incorrect_cvc"
    PROCESSING_ERROR = "processing_error"
    TEST_MODE_LIVE_CARD = "test_mode_live_card"
    # An off-session charge the bank wants the customer present for (3-D Secure)
    AUTHENTICATION_REQUIRED = "authentication_required"


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
    DeclineCode.AUTHENTICATION_REQUIRED: _(
        "Your bank asks you to confirm this payment. Please pay it from the portal."
    ),
}


class CardError(DomainError):
    """Card details that cannot be a card (checked before anything is charged or written)."""

    code = Code.CARD_INVALID
    field = "number"
    message = _("Your card details are incorrect. Please check them and try again.")


class CardDeclined(DomainError):
    """The gateway refused to save a card (a decline when attaching it): nothing was saved."""

    code = Code.CARD_DECLINED
    field = "number"

    def __init__(self, decline_code: str = "generic_decline"):
        self.decline_code = decline_code
        message = DECLINE_MESSAGES.get(decline_code, DECLINE_MESSAGES[DeclineCode.GENERIC])
        super().__init__(message)


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
    """All that Portico keeps of a card (a one-off token, or a saved method's details)."""

    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    holder_name: str = ""
    country: str = ""
    fingerprint: str = ""


@dataclass(frozen=True)
class SetupSession:
    """What the browser needs to collect a card for saving (Stripe's SetupIntent).

    `reference` names the session at the gateway (`seti_…`); the portal posts it back, and
    `Gateway.attach` checks that it belongs to the customer before anything is saved."""

    reference: str
    client_secret: str = ""
    publishable_key: str = ""
    js_url: str = ""  # Stripe.js (or a Stripe-compatible server's copy of it)


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    reference: str = ""
    failure_message: str = ""


@dataclass(frozen=True)
class GatewayEvent:
    """A webhook event, verified and read: `type` is the gateway's own name for it
    (`payment_intent.succeeded`, `charge.refunded`, `charge.dispute.created`, …)."""

    id: str
    type: str
    created: dt.datetime
    object_reference: str
    data: dict


class SignatureError(DomainError):
    """A webhook whose signature does not verify: answered 400, nothing applied."""

    code = Code.WEBHOOK_SIGNATURE
    message = _("The webhook signature does not verify.")


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
    """What every gateway does. `name` is stored on payments, methods and attempts.

    An instance serves one organization (`gateway_for`); `config` is its `PaymentSettings`."""

    name: str = ""
    # False for `offline`: no card is taken, staff record the payments.
    online: bool = True
    # True when card details reach our server to be tokenized (the test gateway); real gateways
    # collect them in the browser (Stripe.js) and the portal posts only a token or a setup reference.
    tokenizes_on_server: bool = False

    def __init__(self, organization=None, config=None):
        self.organization = organization
        self.config = config

    # -- customers and saved methods
    def customer_reference(self, customer) -> str:
        """The gateway's id for our customer, made on first need and remembered (`GatewayCustomer`)."""
        from portico.payments.models import GatewayCustomer

        ref = GatewayCustomer.all_tenants.filter(customer=customer, gateway=self.name).first()
        if ref is not None:
            return ref.reference
        reference = self.create_customer(customer)
        ref, _created = GatewayCustomer.all_tenants.get_or_create(
            customer=customer,
            gateway=self.name,
            defaults={
                "organization_id": customer.organization_id,
                "reference": reference,
                "created_at": clock.now(),
            },
        )
        return ref.reference

    def create_customer(self, customer) -> str:
        raise NotImplementedError

    def start_setup(self, *, customer_reference: str) -> SetupSession:
        """Begin collecting a card to save for this gateway customer."""
        raise NotImplementedError

    def tokenize(self, card: CardDetails) -> CardToken:
        """Typed card → one-off token (only gateways that `tokenizes_on_server`)."""
        raise NotImplementedError

    def attach(self, *, customer_reference: str, token: str = "", setup_reference: str = "") -> CardToken:
        """Save a card for the customer: a token from `tokenize`, or a setup the browser completed.
        Refuses (CardError / a DomainError) a card the gateway declines or a setup of another customer."""
        raise NotImplementedError

    def detach(self, *, token: str) -> None:
        """Forget a saved card at the gateway. Already gone is not an error."""
        raise NotImplementedError

    # -- money
    def charge(
        self,
        *,
        source: str,
        amount: Money,
        idempotency_key: str,
        customer_reference: str = "",
        off_session: bool = False,
        description: str = "",
    ) -> ChargeResult:
        """Charge `source` (a one-off token or a saved method's token). A retry with the same key has
        no second effect: it answers what the first request did."""
        raise NotImplementedError

    def find_charge(self, *, idempotency_key: str) -> ChargeResult | None:
        """The outcome of the charge asked for under this key, or None if the gateway never got it.

        Reconciliation asks this about attempts a crash left pending (`payments.services.reconcile`)."""
        raise NotImplementedError

    def refund(
        self, *, charge_reference: str, amount: Money, idempotency_key: str, reason: str = ""
    ) -> RefundResult:
        """Return part or all of a charge to the card, once per key."""
        raise NotImplementedError

    # -- webhooks
    def parse_event(self, *, body: bytes, headers) -> GatewayEvent:
        """Verify a webhook's signature and read it; raises `SignatureError`."""
        raise SignatureError()


class OfflineGateway(Gateway):
    """No online payments: customers pay by bank transfer (`PaymentSettings.offline_instructions`)
    and staff record the payments in the console."""

    name = "offline"
    online = False


# -- card checks ------------------------------------------------------------------------------------


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


# -- which gateway ----------------------------------------------------------------------------------

GATEWAYS: dict[str, str] = {
    "test": "portico.payments.test_gateway.TestGateway",
    "stripe": "portico.payments.stripe_gateway.StripeGateway",
    "offline": "portico.payments.gateways.OfflineGateway",
}


def gateway_class(name: str) -> type[Gateway]:
    from django.utils.module_loading import import_string

    try:
        return import_string(GATEWAYS[name])
    except KeyError:
        raise LookupError(f"No payment gateway {name!r}") from None


def payment_settings(organization):
    from portico.core.tenancy import related_setting
    from portico.payments.models import PaymentSettings

    return related_setting(organization, "payment_settings", PaymentSettings)


def gateway_name(organization) -> str:
    """The organization's gateway: its own choice, else the instance's `PAYMENT_GATEWAY`."""
    if organization is None:
        return settings.PAYMENT_GATEWAY
    return payment_settings(organization).gateway or settings.PAYMENT_GATEWAY


def gateway_for(organization, name: str | None = None) -> Gateway:
    """The gateway one organization pays through (or, with `name`, that one of its gateways: an
    attempt or a method made before the organization switched is settled by the gateway that made it)."""
    name = name or gateway_name(organization)
    config = payment_settings(organization) if organization is not None else None
    return gateway_class(name)(organization, config)


def bank_transfer_instructions(organization) -> str:
    """How the organization's customers pay by bank transfer (plain text, may be empty). Shown on
    invoices whatever the gateway (businesses often offer both), and instead of "Pay" when offline."""
    return payment_settings(organization).offline_instructions


def online_gateway(organization) -> Gateway | None:
    """The gateway customers pay through online, or None (the `offline` gateway)."""
    gateway = gateway_for(organization)
    return gateway if gateway.online else None


def get_gateway(name: str | None = None, organization=None) -> Gateway:
    """Deprecated spelling of `gateway_for`, kept for the reconciliation's callers."""
    return gateway_for(organization, name)
