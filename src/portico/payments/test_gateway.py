"""The built-in `test` gateway: Stripe's test mode, embedded (see `payments.gateways`).

It keeps what Stripe would keep, in our database, so that every process (the web server, the
worker, the reconciliation) sees the same tokens and charges: `TestCardToken` for the cards it
tokenized (never the number: its brand, last 4, expiry, a keyed fingerprint and the test card's
outcome) and `GatewayCharge` for its charges and refunds, one row per idempotency key.

Stripe's test cards (https://docs.stripe.com/testing) behave as they do there:
- 4242 4242 4242 4242 and the other "succeeds" cards are saved and charged;
- 4000 0000 0000 0002 / 9995 / 0069 / 0127 / 0119 are declined (generic, insufficient funds,
  expired, incorrect CVC, processing error) — when saved and when charged;
- 4000 0000 0000 0341 is saved, then declined when charged;
- any other card that passes the Luhn check is a "live" card: refused in test mode.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from portico.core import clock, tenancy
from portico.core.money import Money
from portico.payments.gateways import (
    CardDeclined,
    CardDetails,
    CardToken,
    ChargeResult,
    ChargeStatus,
    DeclineCode,
    Gateway,
    RefundResult,
    SetupSession,
    card_brand,
    check_card,
)
from portico.payments.models import GatewayCharge, TestCardToken

# number → outcome: None succeeds; a decline code is refused when saved and when charged;
# "charge:<code>" is saved and refused when charged.
TEST_CARD_OUTCOMES: dict[str, str | None] = {
    "4242424242424242": None,
    "4000056655665556": None,  # Visa (debit)
    "5555555555554444": None,  # Mastercard
    "2223003122003222": None,  # Mastercard (2-series)
    "5200828282828210": None,  # Mastercard (debit)
    "378282246310005": None,  # American Express
    "6011111111111117": None,  # Discover
    "3056930009020004": None,  # Diners Club
    "3566002020360505": None,  # JCB
    "4000000000000002": DeclineCode.GENERIC,
    "4000000000009995": DeclineCode.INSUFFICIENT_FUNDS,
    "4000000000000069": DeclineCode.EXPIRED_CARD,
    "4000000000000127": DeclineCode.INCORRECT_CVC,
    "4000000000000119": DeclineCode.PROCESSING_ERROR,
    "4000000000000341": f"charge:{DeclineCode.GENERIC}",
}

CHARGE_PREFIX = "charge:"


class IdempotencyKeyReused(ValueError):
    """The same key with other parameters (Stripe answers `idempotency_error`): a bug of ours."""


class TestGateway(Gateway):
    """Behaves like Stripe's test mode, with its state in the database (see the module docstring).

    An instance serves one organization (`gateway_for`); made without one (tests), it serves the
    active tenant."""

    __test__ = False  # not a pytest test class
    name = "test"
    tokenizes_on_server = True

    @property
    def _organization(self):
        organization = self.organization or tenancy.current_organization()
        if organization is None:
            raise RuntimeError("The test gateway serves one organization: pass it, or act for a tenant")
        return organization

    def _fingerprint(self, digits: str) -> str:
        # Keyed, per organization (Stripe's fingerprints are per account): the same card saved twice
        # has the same fingerprint, and the fingerprint gives nothing away about the number.
        key = f"{settings.SECRET_KEY}:test-gateway-fingerprint:{self._organization.pk}".encode()
        return hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()[:32]

    # -- customers and saved methods

    def create_customer(self, customer) -> str:
        return f"cus_test_{secrets.token_hex(8)}"

    def start_setup(self, *, customer_reference: str) -> SetupSession:
        # The card is typed into our own form (the gateway tokenizes on our server), so the session
        # only names the setup; `attach(token=…)` saves the card.
        return SetupSession(reference=f"seti_test_{secrets.token_hex(8)}")

    def tokenize(self, card: CardDetails) -> CardToken:
        digits = check_card(card, clock.today())
        outcome = TEST_CARD_OUTCOMES.get(digits, DeclineCode.TEST_MODE_LIVE_CARD)
        row = TestCardToken.all_tenants.create(
            organization=self._organization,
            token=f"tok_test_{secrets.token_hex(12)}",
            brand=card_brand(digits),
            last4=digits[-4:],
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            holder_name=card.name.strip()[:100],
            # Stripe's test cards are issued in the United States
            country="US" if digits in TEST_CARD_OUTCOMES else "",
            fingerprint=self._fingerprint(digits),
            outcome=str(outcome or ""),
            created_at=clock.now(),
        )
        return _card_token(row)

    def attach(self, *, customer_reference: str, token: str = "", setup_reference: str = "") -> CardToken:
        if not token:
            raise CardDeclined(DeclineCode.GENERIC)  # no card was entered for this setup
        if not customer_reference:
            raise ValueError("attach needs the gateway customer")
        with transaction.atomic():
            row = (
                TestCardToken.all_tenants.select_for_update()
                .filter(organization=self._organization, token=token)
                .first()
            )
            if row is None or (row.customer_reference and row.customer_reference != customer_reference):
                # Not a card this gateway tokenized for this organization, or another customer's.
                raise CardDeclined(DeclineCode.GENERIC)
            if row.outcome and not row.outcome.startswith(CHARGE_PREFIX):
                raise CardDeclined(row.outcome)
            if row.customer_reference != customer_reference:
                row.customer_reference = customer_reference
                row.save(update_fields=["customer_reference"])
        return _card_token(row)

    def detach(self, *, token: str) -> None:
        TestCardToken.all_tenants.filter(organization=self._organization, token=token).update(
            customer_reference=""
        )

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
        if not idempotency_key:
            raise ValueError("A charge needs an idempotency key")
        if amount.minor <= 0:
            raise ValueError("A charge needs a positive amount")
        stored = self._stored(GatewayCharge.Kind.CHARGE, idempotency_key)
        if stored is not None:
            return self._replay(stored, source=source, amount=amount)
        decline = self._decline_for(source, customer_reference)
        now = clock.now()
        try:
            with transaction.atomic():
                row = GatewayCharge.all_tenants.create(
                    organization=self._organization,
                    gateway=self.name,
                    kind=GatewayCharge.Kind.CHARGE,
                    idempotency_key=idempotency_key,
                    reference=f"ch_test_{secrets.token_hex(12)}",
                    source=source,
                    currency=amount.currency,
                    amount_minor=amount.minor,
                    off_session=off_session,
                    status=GatewayCharge.Status.DECLINED if decline else GatewayCharge.Status.SUCCEEDED,
                    decline_code=decline or "",
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError:
            # The same key at the same moment (a double submission): one charge, both see it.
            stored = self._stored(GatewayCharge.Kind.CHARGE, idempotency_key)
            if stored is None:
                raise
            return self._replay(stored, source=source, amount=amount)
        return _result(row)

    def find_charge(self, *, idempotency_key: str) -> ChargeResult | None:
        stored = self._stored(GatewayCharge.Kind.CHARGE, idempotency_key)
        return _result(stored) if stored is not None else None

    def refund(
        self, *, charge_reference: str, amount: Money, idempotency_key: str, reason: str = ""
    ) -> RefundResult:
        if not idempotency_key:
            raise ValueError("A refund needs an idempotency key")
        if amount.minor <= 0:
            return RefundResult(succeeded=False, failure_message=str(_("Enter an amount greater than zero.")))
        stored = self._stored(GatewayCharge.Kind.REFUND, idempotency_key)
        if stored is not None:
            if stored.source != charge_reference or stored.amount != amount:
                raise IdempotencyKeyReused(idempotency_key)
            return RefundResult(succeeded=True, reference=stored.reference)
        try:
            with transaction.atomic():
                charge = (
                    GatewayCharge.all_tenants.select_for_update()
                    .filter(
                        organization=self._organization,
                        gateway=self.name,
                        kind=GatewayCharge.Kind.CHARGE,
                        reference=charge_reference,
                    )
                    .first()
                )
                if charge is None or charge.status != GatewayCharge.Status.SUCCEEDED:
                    return RefundResult(succeeded=False, failure_message=str(_("No such charge to refund.")))
                if amount.currency != charge.currency:
                    return RefundResult(
                        succeeded=False, failure_message=str(_("The refund's currency is not the charge's."))
                    )
                refunded = (
                    GatewayCharge.all_tenants.filter(
                        gateway=self.name, kind=GatewayCharge.Kind.REFUND, source=charge_reference
                    ).aggregate(total=Sum("amount_minor"))["total"]
                    or 0
                )
                refundable = charge.amount_minor - refunded
                if amount.minor > refundable:
                    return RefundResult(
                        succeeded=False,
                        failure_message=str(
                            _("Only %(amount)s of this charge can still be refunded.")
                            % {"amount": Money(refundable, charge.currency)}
                        ),
                    )
                now = clock.now()
                row = GatewayCharge.all_tenants.create(
                    organization=self._organization,
                    gateway=self.name,
                    kind=GatewayCharge.Kind.REFUND,
                    idempotency_key=idempotency_key,
                    reference=f"re_test_{secrets.token_hex(12)}",
                    source=charge_reference,
                    currency=amount.currency,
                    amount_minor=amount.minor,
                    status=GatewayCharge.Status.SUCCEEDED,
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError:
            stored = self._stored(GatewayCharge.Kind.REFUND, idempotency_key)
            if stored is None:
                raise
            return RefundResult(succeeded=True, reference=stored.reference)
        return RefundResult(succeeded=True, reference=row.reference)

    # -- internals

    def _stored(self, kind: str, idempotency_key: str) -> GatewayCharge | None:
        row = GatewayCharge.all_tenants.filter(
            gateway=self.name, kind=kind, idempotency_key=idempotency_key
        ).first()
        if row is not None and row.organization_id != self._organization.pk:
            raise IdempotencyKeyReused(idempotency_key)  # keys derive from our row ids: never shared
        return row

    @staticmethod
    def _replay(stored: GatewayCharge, *, source: str, amount: Money) -> ChargeResult:
        if stored.source != source or stored.amount != amount:
            raise IdempotencyKeyReused(stored.idempotency_key)
        return _result(stored)

    def _decline_for(self, source: str, customer_reference: str) -> str | None:
        """Why this card is declined, or None: its test card's outcome, known only for our tokens."""
        row = TestCardToken.all_tenants.filter(organization=self._organization, token=source).first()
        if row is None:
            return DeclineCode.GENERIC  # not a token this gateway issued
        if customer_reference and row.customer_reference and row.customer_reference != customer_reference:
            return DeclineCode.GENERIC  # another customer's saved card
        if row.outcome.startswith(CHARGE_PREFIX):
            return row.outcome[len(CHARGE_PREFIX) :]
        return row.outcome or None


def _card_token(row: TestCardToken) -> CardToken:
    return CardToken(
        token=row.token,
        brand=row.brand,
        last4=row.last4,
        exp_month=row.exp_month,
        exp_year=row.exp_year,
        holder_name=row.holder_name,
        country=row.country,
        fingerprint=row.fingerprint,
    )


def _result(row: GatewayCharge) -> ChargeResult:
    if row.status == GatewayCharge.Status.SUCCEEDED:
        return ChargeResult(ChargeStatus.SUCCEEDED, reference=row.reference)
    if row.status == GatewayCharge.Status.DECLINED:
        return ChargeResult(ChargeStatus.DECLINED, reference=row.reference, decline_code=row.decline_code)
    return ChargeResult(ChargeStatus.PROCESSING, reference=row.reference)
