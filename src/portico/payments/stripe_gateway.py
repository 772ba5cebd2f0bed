"""The `stripe` gateway: Customers, SetupIntents, PaymentMethods, PaymentIntents and Refunds through
stripe-python, with the organization's own keys (`PaymentSettings`). `settings.STRIPE_API_BASE`
points it at any Stripe-compatible server (localstripe in the tests).

Idempotency. Stripe honours `Idempotency-Key`, and we send one on every request that moves money;
but the guarantee "one key, at most one charge" does not rest on the server remembering keys
(localstripe does not). A charge is a PaymentIntent made *unconfirmed* (which charges nothing),
then a `GatewayCharge` row mapping our key to it, committed, and only then the confirmation. So:
- a retry with the key finds the row and continues that PaymentIntent, never a second one;
- no row ⇒ nothing was ever confirmed under the key ⇒ nothing charged (`find_charge` → None);
- a PaymentIntent succeeds at most once, so two confirmations racing cannot charge twice.
`charge` must therefore run outside a transaction (as `payments.services` calls it), or the row
would not be committed before the confirmation. Refunds have no confirmation step: the refund
row is locked while the refund is made, and a retry first looks for a refund carrying our key in
its metadata at the gateway, so a crash between the refund and the row does not refund twice.
"""

from __future__ import annotations

import logging

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from portico.core import clock
from portico.core.errors import DomainError
from portico.core.money import Money
from portico.payments.errors import Code
from portico.payments.gateways import (
    CardDeclined,
    CardToken,
    ChargeResult,
    ChargeStatus,
    DeclineCode,
    Gateway,
    GatewayEvent,
    RefundResult,
    SetupSession,
)
from portico.payments.models import GatewayCharge

log = logging.getLogger(__name__)

STRIPE_JS_URL = "https://js.stripe.com/v3/"
KEY_METADATA = "portico_idempotency_key"


class GatewayNotConfigured(DomainError):
    code = Code.GATEWAY_NOT_CONFIGURED
    message = _(
        "Card payments are not set up yet: the business has not entered its Stripe keys. "
        "Please contact them or pay another way."
    )


class GatewayUnavailable(DomainError):
    code = Code.GATEWAY_UNAVAILABLE
    message = _("We could not reach our payment processor. Please try again in a moment.")


class SetupRefused(DomainError):
    """A card setup the customer cannot save: not completed, or not theirs."""

    code = Code.METHOD_REFUSED
    message = _("This card could not be saved. Please enter it again.")


class StripeGateway(Gateway):
    name = "stripe"

    # -- the client
    @property
    def api_base(self) -> str:
        return (settings.STRIPE_API_BASE or "").rstrip("/")

    def _secret_key(self) -> str:
        key = getattr(self.config, "stripe_secret_key", "") or settings.STRIPE_SECRET_KEY
        if not key:
            raise GatewayNotConfigured()
        return key

    def _client(self) -> stripe.StripeClient:
        # One client per organization's key: never the module-wide `stripe.api_key`/`api_base`.
        base = {"api": self.api_base} if self.api_base else None
        return stripe.StripeClient(self._secret_key(), base_addresses=base, max_network_retries=2)

    def _call(self, fn, *args, **kwargs):
        """A Stripe request; anything but a card error becomes a customer-safe `GatewayUnavailable`
        (the log keeps the error's type and code, never the key)."""
        try:
            return fn(*args, **kwargs)
        except stripe.CardError:
            raise
        except stripe.StripeError as error:
            log.warning(
                "stripe request failed: %s (status %s, code %s)",
                type(error).__name__,
                error.http_status,
                error.code,
            )
            raise GatewayUnavailable() from error

    # -- customers and saved methods
    def create_customer(self, customer) -> str:
        params = {"name": str(customer), "metadata": {"portico_customer": str(customer.pk)}}
        email = customer.email or getattr(customer.primary_contact, "email", "")
        if email:
            params["email"] = email
        created = self._call(
            self._client().v1.customers.create,
            params=params,
            options={"idempotency_key": f"customer:{customer.organization_id}:{customer.pk}"},
        )
        return created.id

    def start_setup(self, *, customer_reference: str) -> SetupSession:
        intent = self._call(
            self._client().v1.setup_intents.create,
            params={"customer": customer_reference, "usage": "off_session", "payment_method_types": ["card"]},
        )
        publishable_key = getattr(self.config, "stripe_publishable_key", "")
        if not publishable_key:
            raise GatewayNotConfigured()
        return SetupSession(
            reference=intent.id,
            client_secret=intent.client_secret,
            publishable_key=publishable_key,
            js_url=f"{self.api_base}/js.stripe.com/v3/" if self.api_base else STRIPE_JS_URL,
        )

    def attach(self, *, customer_reference: str, token: str = "", setup_reference: str = "") -> CardToken:
        client = self._client()
        if setup_reference:
            return self._attach_setup(client, customer_reference, setup_reference)
        if not token.startswith("pm_"):
            raise SetupRefused()
        try:
            method = self._call(
                client.v1.payment_methods.attach, token, params={"customer": customer_reference}
            )
        except stripe.CardError as error:
            raise CardDeclined(_decline_code(_error_body(error))) from error
        return _card_token(method)

    def _attach_setup(self, client, customer_reference: str, setup_reference: str) -> CardToken:
        """A SetupIntent the browser confirmed: saved only if it succeeded *for this customer*; the
        portal posts the reference back, and it could be anyone's."""
        if not setup_reference.startswith("seti_"):
            raise SetupRefused()
        try:
            intent = client.v1.setup_intents.retrieve(setup_reference)
        except stripe.InvalidRequestError as error:  # unknown id
            raise SetupRefused() from error
        except stripe.StripeError as error:
            raise GatewayUnavailable() from error
        if getattr(intent, "customer", None) != customer_reference:
            log.warning("setup %s refused: it belongs to another customer", setup_reference)
            raise SetupRefused()
        if intent.status != "succeeded" or not intent.payment_method:
            raise SetupRefused(_("This card was not confirmed. Please enter it again."))
        method_id = (
            intent.payment_method if isinstance(intent.payment_method, str) else intent.payment_method.id
        )
        method = self._call(client.v1.payment_methods.retrieve, method_id)
        owner = getattr(method, "customer", None)
        if owner not in (None, customer_reference):
            raise SetupRefused()
        if owner is None:
            # Stripe attaches a SetupIntent's method to its customer; a compatible server may not.
            method = self._call(
                client.v1.payment_methods.attach, method_id, params={"customer": customer_reference}
            )
        return _card_token(method)

    def detach(self, *, token: str) -> None:
        try:
            self._client().v1.payment_methods.detach(token)
        except stripe.InvalidRequestError:
            pass  # already gone (or never attached): nothing to forget
        except stripe.StripeError as error:
            raise GatewayUnavailable() from error

    # -- charges
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
        client = self._client()
        row = self._charge_row(GatewayCharge.Kind.CHARGE, idempotency_key)
        if row is None:
            row = self._create_intent(
                client,
                source=source,
                amount=amount,
                idempotency_key=idempotency_key,
                customer_reference=customer_reference,
                off_session=off_session,
                description=description,
            )
        elif (row.source, row.amount_minor, row.currency) != (source, amount.minor, amount.currency):
            # Stripe answers such a request with an idempotency error, and so do we.
            raise ValueError(f"Idempotency key {idempotency_key!r} was used for another charge")
        intent = self._call(client.v1.payment_intents.retrieve, row.reference)
        if intent.status == "requires_confirmation":
            intent = self._confirm(client, row, intent)
        return self._settle_row(row, client, intent)

    def _create_intent(
        self, client, *, source, amount, idempotency_key, customer_reference, off_session, description
    ):
        if not customer_reference and source.startswith("pm_"):
            # A saved PaymentMethod is charged together with the customer it belongs to.
            method = self._call(client.v1.payment_methods.retrieve, source)
            customer_reference = getattr(method, "customer", None) or ""
        metadata = {KEY_METADATA: idempotency_key}
        if description:
            metadata["description"] = description[:500]
        params = {
            "amount": amount.minor,
            "currency": amount.currency.lower(),
            "payment_method": source,
            "payment_method_types": ["card"],
            "confirm": False,  # charges nothing until our row is committed (module docstring)
            "metadata": metadata,
        }
        if customer_reference:
            params["customer"] = customer_reference
        intent = self._call(
            client.v1.payment_intents.create, params=params, options={"idempotency_key": idempotency_key}
        )
        now = clock.now()
        try:
            with transaction.atomic():
                return GatewayCharge.all_tenants.create(
                    organization_id=self.organization.pk,
                    gateway=self.name,
                    kind=GatewayCharge.Kind.CHARGE,
                    idempotency_key=idempotency_key,
                    reference=intent.id,
                    source=source,
                    currency=amount.currency,
                    amount_minor=amount.minor,
                    off_session=off_session,
                    status=GatewayCharge.Status.PENDING,
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError:
            # The same key, at the same moment, from another request: its PaymentIntent is the one.
            if intent.id != getattr(
                self._charge_row(GatewayCharge.Kind.CHARGE, idempotency_key), "reference", ""
            ):
                self._cancel_quietly(client, intent.id)
            return self._charge_row(GatewayCharge.Kind.CHARGE, idempotency_key)

    def _confirm(self, client, row: GatewayCharge, intent):
        params = {"off_session": True} if row.off_session else None
        try:
            return client.v1.payment_intents.confirm(
                intent.id, params=params, options={"idempotency_key": f"{row.idempotency_key}:confirm"}
            )
        except stripe.CardError:
            pass  # the PaymentIntent records the decline (`last_payment_error`), read it below
        except stripe.InvalidRequestError as error:
            # Confirmed (or cancelled) by a racing request meanwhile: its state tells. Still waiting
            # for confirmation means Stripe refused ours: nothing was charged.
            intent = self._call(client.v1.payment_intents.retrieve, intent.id)
            if intent.status == "requires_confirmation":
                log.warning("stripe refused to confirm %s: %s", intent.id, _error_body(error).get("message"))
                raise GatewayUnavailable() from error
            return intent
        except stripe.StripeError as error:
            log.warning("stripe confirm of %s failed: %s", intent.id, type(error).__name__)
            raise GatewayUnavailable() from error
        return self._call(client.v1.payment_intents.retrieve, intent.id)

    def find_charge(self, *, idempotency_key: str) -> ChargeResult | None:
        row = self._charge_row(GatewayCharge.Kind.CHARGE, idempotency_key)
        if row is None:
            return None  # never confirmed under this key: nothing charged
        client = self._client()
        intent = self._call(client.v1.payment_intents.retrieve, row.reference)
        if intent.status == "requires_confirmation":
            # The request that made it stopped before confirming. Cancel it, so that it can never
            # be charged later; if a confirmation won the race, its state answers instead.
            try:
                client.v1.payment_intents.cancel(intent.id)
                return None
            except stripe.InvalidRequestError:
                intent = self._call(client.v1.payment_intents.retrieve, row.reference)
            except stripe.StripeError as error:
                raise GatewayUnavailable() from error
        return self._settle_row(row, client, intent)

    def _settle_row(self, row: GatewayCharge, client, intent) -> ChargeResult:
        result = self._result_of(client, row, intent)
        status = {
            ChargeStatus.SUCCEEDED: GatewayCharge.Status.SUCCEEDED,
            ChargeStatus.DECLINED: GatewayCharge.Status.DECLINED,
            ChargeStatus.PROCESSING: GatewayCharge.Status.PROCESSING,
        }[result.status]
        if (row.status, row.decline_code) != (status, result.decline_code):
            GatewayCharge.all_tenants.filter(pk=row.pk).update(
                status=status, decline_code=result.decline_code, updated_at=clock.now()
            )
        return result

    def _result_of(self, client, row: GatewayCharge, intent) -> ChargeResult:
        status = intent.status
        if status == "succeeded":
            return ChargeResult(ChargeStatus.SUCCEEDED, reference=intent.id)
        if status == "requires_action":
            # 3-D Secure wanted. Portico confirms on the server, with nobody to authenticate (and
            # off-session, nobody there at all): cancel it so it can never succeed behind a decline.
            self._cancel_quietly(client, intent.id)
            return ChargeResult(
                ChargeStatus.DECLINED, reference=intent.id, decline_code=DeclineCode.AUTHENTICATION_REQUIRED
            )
        if status in ("requires_payment_method", "canceled"):
            error = _as_dict(getattr(intent, "last_payment_error", None))
            return ChargeResult(ChargeStatus.DECLINED, reference=intent.id, decline_code=_decline_code(error))
        # processing, requires_capture, or a confirmation still in flight elsewhere: wait.
        return ChargeResult(ChargeStatus.PROCESSING, reference=intent.id)

    def _cancel_quietly(self, client, intent_id: str) -> None:
        try:
            client.v1.payment_intents.cancel(intent_id)
        except stripe.StripeError as error:
            log.info("could not cancel %s: %s", intent_id, type(error).__name__)

    def _charge_row(self, kind: str, idempotency_key: str) -> GatewayCharge | None:
        return GatewayCharge.all_tenants.filter(
            gateway=self.name, kind=kind, idempotency_key=idempotency_key
        ).first()

    # -- refunds
    def refund(
        self, *, charge_reference: str, amount: Money, idempotency_key: str, reason: str = ""
    ) -> RefundResult:
        if not idempotency_key:
            raise ValueError("A refund needs an idempotency key")
        if amount.minor <= 0:
            raise ValueError("A refund needs a positive amount")
        client = self._client()
        now = clock.now()
        with transaction.atomic():
            row, _created = GatewayCharge.all_tenants.get_or_create(
                gateway=self.name,
                kind=GatewayCharge.Kind.REFUND,
                idempotency_key=idempotency_key,
                defaults={
                    "organization_id": self.organization.pk,
                    "source": charge_reference,
                    "currency": amount.currency,
                    "amount_minor": amount.minor,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            # Held while we ask Stripe: a concurrent request with this key waits, then finds the refund.
            row = GatewayCharge.all_tenants.select_for_update().get(pk=row.pk)
            if (row.source, row.amount_minor, row.currency) != (
                charge_reference,
                amount.minor,
                amount.currency,
            ):
                raise ValueError(f"Idempotency key {idempotency_key!r} was used for another refund")
            if row.reference:
                return RefundResult(True, reference=row.reference)
            refund = self._find_refund(client, charge_reference, idempotency_key)
            if refund is None:
                params = {
                    "payment_intent": charge_reference,
                    "amount": amount.minor,
                    "metadata": {
                        KEY_METADATA: idempotency_key,
                        **({"reason": reason[:500]} if reason else {}),
                    },
                }
                try:
                    refund = client.v1.refunds.create(
                        params=params, options={"idempotency_key": idempotency_key}
                    )
                except stripe.InvalidRequestError as error:
                    message = _error_body(error).get("message") or ""
                    log.warning(
                        "stripe refused refund %s of %s: %s", idempotency_key, charge_reference, message
                    )
                    return RefundResult(
                        False, failure_message=str(_("The payment processor refused this refund."))
                    )
                except stripe.StripeError as error:
                    raise GatewayUnavailable() from error
            succeeded = getattr(refund, "status", "") in ("succeeded", "pending")
            row.reference = refund.id
            row.status = GatewayCharge.Status.SUCCEEDED if succeeded else GatewayCharge.Status.DECLINED
            row.updated_at = clock.now()
            row.save(update_fields=["reference", "status", "updated_at"])
        if not succeeded:
            return RefundResult(
                False,
                reference=refund.id,
                failure_message=str(_("The payment processor refused this refund.")),
            )
        return RefundResult(True, reference=refund.id)

    def _find_refund(self, client, charge_reference: str, idempotency_key: str):
        """The refund an earlier request made under this key (it carries the key in its metadata)."""
        refunds = self._call(
            client.v1.refunds.list, params={"payment_intent": charge_reference, "limit": 100}
        )
        for refund in refunds.data:
            if _as_dict(getattr(refund, "metadata", None)).get(KEY_METADATA) == idempotency_key:
                return refund
        return None

    # -- webhooks
    def parse_event(self, *, body: bytes, headers) -> GatewayEvent:
        from portico.payments import stripe_events  # the webhooks' module, loaded when one arrives

        return stripe_events.parse(
            body=body, headers=headers, secret=getattr(self.config, "stripe_webhook_secret", "")
        )


# -- reading Stripe's objects --------------------------------------------------------------------------


def _as_dict(obj) -> dict:
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    return obj.to_dict()


def _error_body(error: stripe.StripeError) -> dict:
    return ((error.json_body or {}).get("error") or {}) if isinstance(error.json_body, dict) else {}


def _decline_code(error: dict) -> str:
    """Stripe's most specific reason we know (`decline_code`, else `code`); others are generic."""
    for candidate in (error.get("decline_code"), error.get("code")):
        if candidate in DeclineCode._value2member_map_:
            return DeclineCode(candidate)
    return DeclineCode.GENERIC


def _card_token(method) -> CardToken:
    data = _as_dict(method)
    card = data.get("card") or {}
    billing = data.get("billing_details") or {}
    address = billing.get("address") or {}
    return CardToken(
        token=data["id"],
        brand=(card.get("brand") or "unknown").lower(),
        last4=card.get("last4") or "",
        exp_month=int(card.get("exp_month") or 0),
        exp_year=int(card.get("exp_year") or 0),
        holder_name=billing.get("name") or "",
        country=address.get("country") or card.get("country") or "",
        fingerprint=card.get("fingerprint") or "",
    )
