"""Webhooks in (issue 10, item 5): a Stripe event is verified by its signature, applied once however
often it arrives, in whatever order, and a dispute is recorded, emailed and shown to staff."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.parse
import urllib.request

import pytest
from django.db import connection, transaction
from django.test import Client

from portico.billing.invariants import ledger_violations
from portico.billing.models import Invoice, Payment, Refund
from portico.core import clock as core_clock
from portico.core.audit import Actor, AuditEvent
from portico.core.money import Money
from portico.core.outbox import OutboxEvent
from portico.core.tenancy import tenant
from portico.payments import services
from portico.payments.gateways import CardToken, SignatureError, gateway_for, payment_settings
from portico.payments.methods import save_method, start_setup
from portico.payments.models import Dispute, GatewayCharge, PaymentAttempt, PaymentMethod, WebhookEvent
from portico.payments.stripe_events import parse, sign
from tests.billing.factories import open_invoice, pay
from tests.concurrency import race
from tests.conftest import tenant_client
from tests.factories import CustomerFactory, OrganizationFactory, staff_user
from tests.localstripe import STRIPE_KEYS
from tests.payments.test_stripe_gateway import confirm_in_browser

ACTOR = Actor.system("tests")
SECRET = "whsec_portico_test"
OTHER_SECRET = "whsec_northwind_test"


def use_stripe(organization, secret=SECRET):
    config = payment_settings(organization)
    config.gateway, config.stripe_webhook_secret = "stripe", secret
    config.save()
    return organization


@pytest.fixture
def stripe_webhooks(org, clock):
    return use_stripe(org)


def stripe_event(type_: str, obj: dict, event_id: str = "evt_1", created: int | None = None) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": type_,
        "created": created or int(core_clock.now().timestamp()),
        "data": {"object": obj},
    }


def deliver(
    payload: dict,
    slug: str = "renotech",
    secret: str = SECRET,
    timestamp: int | None = None,
    client: Client | None = None,
    gateway: str = "stripe",
):
    """POST the event as Stripe does: raw JSON, signed. The default client's host is nobody's."""
    body = json.dumps(payload).encode()
    timestamp = timestamp or int(core_clock.now().timestamp())
    return (client or Client()).post(
        f"/payments/webhooks/{gateway}/{slug}/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body=body, secret=secret, timestamp=timestamp),
    )


def pending_attempt(customer, invoices, reference="pi_1", form_token="form-1") -> PaymentAttempt:
    """A checkout whose charge Stripe has (the gateway's `GatewayCharge` names its PaymentIntent) and
    whose request has not come back from Stripe yet: the attempt is pending."""
    organization = customer.organization
    with transaction.atomic():
        locked = services._lock_for_checkout(customer, invoices)
        allocations = services.plan_allocations(locked)
        attempt = services._start_attempt(
            organization=organization,
            customer=customer,
            form_token=form_token,
            allocations=allocations,
            total=Money.sum((a for _i, a in allocations), customer.currency),
            card=CardToken(token="pm_card_visa", brand="visa", last4="4242", exp_month=12, exp_year=2030),
            gateway=gateway_for(organization, "stripe"),
            actor=ACTOR,
        )
    now = core_clock.now()
    GatewayCharge.objects.create(
        organization=organization,
        gateway="stripe",
        idempotency_key=attempt.idempotency_key,
        reference=reference,
        source="pm_card_visa",
        currency=attempt.currency,
        amount_minor=attempt.amount_minor,
        status=GatewayCharge.Status.PROCESSING,
        created_at=now,
        updated_at=now,
    )
    return attempt


def intent(reference="pi_1", amount=12550, **fields) -> dict:
    return {"id": reference, "object": "payment_intent", "amount": amount, "currency": "usd", **fields}


def card_payment(customer, minor=5000, reference="pi_2") -> Payment:
    """A card payment kept as an advance (all of it unused, so all of it can be refunded)."""
    return pay(
        customer,
        minor,
        method=Payment.Method.CARD,
        channel=Payment.Channel.ONLINE,
        gateway="stripe",
        gateway_reference=reference,
    )


def refunded_charge(payment_intent="pi_2", refunds=(("re_1", 1500),), charge="ch_2") -> dict:
    return {
        "id": charge,
        "object": "charge",
        "payment_intent": payment_intent,
        "amount_refunded": sum(a for _r, a in refunds),
        "refunds": {
            "object": "list",
            "data": [{"id": r, "object": "refund", "amount": a, "status": "succeeded"} for r, a in refunds],
        },
    }


def dispute(status="needs_response", reference="dp_1", **fields) -> dict:
    return {
        "id": reference,
        "object": "dispute",
        "amount": 5000,
        "currency": "usd",
        "charge": "ch_2",
        "payment_intent": "pi_2",
        "reason": "fraudulent",
        "status": status,
        **fields,
    }


@pytest.fixture
def invoices(customer, clock):
    return [open_invoice(customer, 10000), open_invoice(customer, 2550)]


# -- the signature ------------------------------------------------------------------------------------


def test_a_stripe_signature_is_verified_and_the_event_read(clock):
    body = json.dumps(stripe_event("payment_intent.succeeded", intent())).encode()
    now = int(clock.now().timestamp())
    header = sign(body=body, secret=SECRET, timestamp=now)
    event = parse(body=body, headers={"Stripe-Signature": header}, secret=SECRET)
    assert (event.id, event.type, event.object_reference) == ("evt_1", "payment_intent.succeeded", "pi_1")
    assert event.created == clock.now() and event.created.tzinfo is not None
    assert event.data["amount"] == 12550
    # While a secret is rolled Stripe signs with both: one matching v1 among several is enough.
    rolled = f"t={now},v1={'0' * 64},{header.split(',')[1]}"
    assert parse(body=body, headers={"stripe-signature": rolled}, secret=SECRET).id == "evt_1"


@pytest.mark.parametrize(
    "case",
    ["forged", "other secret", "body changed", "stale", "from the future", "no header", "no secret", "no v1"],
)
def test_a_signature_that_does_not_verify_is_refused(clock, case):
    body = json.dumps(stripe_event("payment_intent.succeeded", intent())).encode()
    now = int(clock.now().timestamp())
    header = sign(body=body, secret=SECRET, timestamp=now)
    secret = SECRET
    if case == "forged":
        header = f"t={now},v1={'ab' * 32}"
    elif case == "other secret":
        header = sign(body=body, secret=OTHER_SECRET, timestamp=now)
    elif case == "body changed":
        body = body.replace(b"12550", b"1")
    elif case == "stale":
        header = sign(body=body, secret=SECRET, timestamp=now - 301)
    elif case == "from the future":
        header = sign(body=body, secret=SECRET, timestamp=now + 301)
    elif case == "no header":
        header = ""
    elif case == "no secret":
        secret = ""
    elif case == "no v1":
        header = f"t={now},v0={header.split('v1=')[1]}"
    with pytest.raises(SignatureError):
        parse(body=body, headers={"Stripe-Signature": header}, secret=secret)


def test_a_signed_body_that_is_not_an_event_is_refused(clock):
    body = b'{"id": "evt_1", "type": "x"'
    header = sign(body=body, secret=SECRET, timestamp=int(clock.now().timestamp()))
    with pytest.raises(SignatureError):
        parse(body=body, headers={"Stripe-Signature": header}, secret=SECRET)


# -- the endpoint -------------------------------------------------------------------------------------


def test_a_forged_event_answers_400_and_changes_nothing(customer, invoices, stripe_webhooks, clock):
    attempt = pending_attempt(customer, invoices)
    response = deliver(stripe_event("payment_intent.succeeded", intent()), secret="whsec_guessed")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "webhook_signature"
    assert not WebhookEvent.objects.exists() and not Payment.objects.exists()
    attempt.refresh_from_db()
    assert attempt.status == PaymentAttempt.Status.PENDING


def test_a_replayed_event_with_a_stale_timestamp_answers_400(customer, invoices, stripe_webhooks, clock):
    pending_attempt(customer, invoices)
    response = deliver(
        stripe_event("payment_intent.succeeded", intent()), timestamp=int(clock.now().timestamp()) - 600
    )
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists() and not Payment.objects.exists()


def test_a_succeeded_event_books_the_pending_attempt_once_however_often_it_arrives(
    customer, invoices, stripe_webhooks, clock
):
    attempt = pending_attempt(customer, invoices)
    payload = stripe_event("payment_intent.succeeded", intent(), event_id="evt_paid")
    for _ in range(3):
        response = deliver(payload)
        assert (response.status_code, response.json()) == (200, {"received": True})
    attempt.refresh_from_db()
    assert attempt.status == PaymentAttempt.Status.SUCCEEDED
    payment = Payment.objects.get(customer=customer)
    assert (payment.amount_minor, payment.gateway_reference) == (12550, "pi_1")
    assert attempt.payment == payment
    assert {i.status for i in Invoice.objects.filter(customer=customer)} == {Invoice.Status.PAID}
    row = WebhookEvent.objects.get()
    assert (row.event_id, row.type, row.object_reference, row.gateway) == (
        "evt_paid",
        "payment_intent.succeeded",
        "pi_1",
        "stripe",
    )
    assert row.outcome == f"booked {payment.number}"
    assert (
        AuditEvent.objects.filter(action="payment_attempt.confirmed", actor_label="stripe webhook").count()
        == 1
    )
    assert ledger_violations() == []


def test_the_request_finishing_after_the_webhook_books_nothing_more(
    customer, invoices, stripe_webhooks, clock
):
    attempt = pending_attempt(customer, invoices)
    assert deliver(stripe_event("payment_intent.succeeded", intent())).status_code == 200
    # The request comes back from Stripe and books its charge (`complete_attempt`'s last step).
    services._book(attempt, "pi_1", ACTOR)
    assert Payment.objects.filter(customer=customer).count() == 1
    assert ledger_violations() == []


def test_a_failed_event_after_the_success_does_not_undo_it(customer, invoices, stripe_webhooks, clock):
    attempt = pending_attempt(customer, invoices)
    deliver(stripe_event("payment_intent.succeeded", intent(), event_id="evt_paid"))
    failed = intent(last_payment_error={"code": "card_declined", "decline_code": "insufficient_funds"})
    response = deliver(stripe_event("payment_intent.payment_failed", failed, event_id="evt_failed"))
    assert response.status_code == 200
    attempt.refresh_from_db()
    assert attempt.status == PaymentAttempt.Status.SUCCEEDED and attempt.payment is not None
    assert WebhookEvent.objects.get(event_id="evt_failed").outcome == "attempt already succeeded"
    assert Payment.objects.count() == 1


def test_a_failed_event_declines_a_pending_attempt_and_frees_its_invoices(
    customer, invoices, stripe_webhooks, clock
):
    attempt = pending_attempt(customer, invoices)
    failed = intent(last_payment_error={"code": "card_declined", "decline_code": "insufficient_funds"})
    assert deliver(stripe_event("payment_intent.payment_failed", failed)).status_code == 200
    attempt.refresh_from_db()
    assert (attempt.status, attempt.decline_code) == (PaymentAttempt.Status.DECLINED, "insufficient_funds")
    assert "insufficient funds" in attempt.decline_reason
    assert services.reserved_amounts([i.pk for i in invoices]) == {}  # another checkout may pay them
    # A success arriving late for it is still money received: booked, and staff told.
    deliver(stripe_event("payment_intent.succeeded", intent(), event_id="evt_late"))
    attempt.refresh_from_db()
    assert attempt.status == PaymentAttempt.Status.SUCCEEDED
    assert "was declined" in WebhookEvent.objects.get(event_id="evt_late").outcome


def test_an_event_about_a_charge_we_never_made_is_stored_and_ignored(stripe_webhooks):
    assert deliver(stripe_event("payment_intent.succeeded", intent("pi_elsewhere"))).status_code == 200
    assert deliver(stripe_event("customer.created", {"id": "cus_1"}, event_id="evt_2")).status_code == 200
    outcomes = dict(WebhookEvent.objects.values_list("event_id", "outcome"))
    assert outcomes == {"evt_1": "no payment attempt of ours; ignored", "evt_2": "ignored"}
    assert not Payment.objects.exists()


def test_the_webhook_answers_on_any_host_for_the_organization_in_its_path(
    org, other_org, customer, invoices, stripe_webhooks
):
    pending_attempt(customer, invoices)
    on_other_tenant_host = tenant_client(other_org)
    response = deliver(stripe_event("payment_intent.succeeded", intent()), client=on_other_tenant_host)
    assert response.status_code == 200
    assert WebhookEvent.all_tenants.get().organization == org
    assert Payment.all_tenants.get().organization == org


def test_another_organizations_slug_with_this_ones_secret_is_refused_and_touches_neither(
    org, other_org, customer, invoices, stripe_webhooks
):
    use_stripe(other_org, secret=OTHER_SECRET)
    attempt = pending_attempt(customer, invoices)
    response = deliver(stripe_event("payment_intent.succeeded", intent()), slug="northwind", secret=SECRET)
    assert response.status_code == 400
    assert deliver(stripe_event("payment_intent.succeeded", intent()), slug="nobody").status_code == 404
    assert deliver(stripe_event("payment_intent.succeeded", intent()), gateway="paypal").status_code == 404
    assert not WebhookEvent.all_tenants.exists() and not Payment.all_tenants.exists()
    attempt.refresh_from_db()
    assert attempt.status == PaymentAttempt.Status.PENDING
    # The same event signed with northwind's secret reaches northwind, which has no such charge.
    assert (
        deliver(
            stripe_event("payment_intent.succeeded", intent()), slug="northwind", secret=OTHER_SECRET
        ).status_code
        == 200
    )
    with tenant(other_org):
        assert WebhookEvent.objects.get().outcome == "no payment attempt of ours; ignored"
    assert not WebhookEvent.objects.exists()  # renotech's
    attempt.refresh_from_db()
    assert attempt.status == PaymentAttempt.Status.PENDING


def test_only_post_is_answered(stripe_webhooks):
    assert Client().get("/payments/webhooks/stripe/renotech/").status_code == 405


def test_an_organization_without_a_signing_secret_refuses_every_event(org, customer, clock):
    use_stripe(org, secret="")
    assert deliver(stripe_event("customer.created", {"id": "cus_1"}), secret="").status_code == 400
    assert not WebhookEvent.objects.exists()


# -- refunds ------------------------------------------------------------------------------------------


def test_a_refund_made_in_the_dashboard_is_booked_once(customer, stripe_webhooks, clock):
    payment = card_payment(customer)
    payload = stripe_event("charge.refunded", refunded_charge(), event_id="evt_refund")
    assert deliver(payload).status_code == 200
    assert deliver(payload).status_code == 200
    # Stripe's refund.updated about the same refund, a different event: nothing more either.
    refund_obj = {
        "id": "re_1",
        "object": "refund",
        "amount": 1500,
        "charge": "ch_2",
        "payment_intent": "pi_2",
        "status": "succeeded",
    }
    assert deliver(stripe_event("refund.updated", refund_obj, event_id="evt_refund_2")).status_code == 200
    refund = Refund.objects.get()
    assert (refund.payment, refund.amount_minor, refund.gateway_reference) == (payment, 1500, "re_1")
    payment.refresh_from_db()
    assert (payment.unused_minor, payment.refunded_minor) == (3500, 1500)
    assert WebhookEvent.objects.count() == 2
    assert WebhookEvent.objects.get(event_id="evt_refund_2").outcome == "refund re_1 already booked"
    assert ledger_violations() == []


def test_a_refund_beyond_the_unused_money_books_what_it_can_and_tells_staff(customer, stripe_webhooks, clock):
    invoice = open_invoice(customer, 4000)
    payment = pay(
        customer,
        5000,
        (invoice, 4000),
        method=Payment.Method.CARD,
        channel=Payment.Channel.ONLINE,
        gateway="stripe",
        gateway_reference="pi_2",
    )
    response = deliver(stripe_event("charge.refunded", refunded_charge(refunds=(("re_1", 2500),))))
    assert response.status_code == 200
    assert Refund.objects.get().amount_minor == 1000
    outcome = WebhookEvent.objects.get().outcome
    assert "booked $10.00 of $25.00" in outcome and payment.number in outcome
    payment.refresh_from_db()
    assert (payment.unused_minor, payment.refunded_minor) == (0, 1000)
    assert ledger_violations() == []


# -- saved methods ------------------------------------------------------------------------------------


def saved_method(customer, token, *, is_default=False, minutes_ago=0):
    return PaymentMethod.objects.create(
        customer=customer,
        gateway="stripe",
        token=token,
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2030,
        is_default=is_default,
        created_at=core_clock.now() - dt.timedelta(minutes=minutes_ago),
    )


def test_a_card_detached_at_stripe_is_removed_and_the_newest_other_becomes_default(
    customer, stripe_webhooks, clock
):
    default = saved_method(customer, "pm_1", is_default=True, minutes_ago=30)
    older = saved_method(customer, "pm_2", minutes_ago=20)
    newer = saved_method(customer, "pm_3", minutes_ago=10)
    payload = stripe_event("payment_method.detached", {"id": "pm_1", "object": "payment_method"})
    assert deliver(payload).status_code == 200
    assert deliver({**payload, "id": "evt_again"}).status_code == 200
    default.refresh_from_db(), older.refresh_from_db(), newer.refresh_from_db()
    assert (default.status, default.is_default, default.removed_at) == (
        PaymentMethod.Status.REMOVED,
        False,
        clock.now(),
    )
    assert newer.is_default and not older.is_default
    assert WebhookEvent.objects.get(event_id="evt_again").outcome == "already removed"
    removed = AuditEvent.objects.get(action="payment_method.removed")
    assert removed.actor_label == "stripe webhook"


def test_a_card_updated_at_stripe_gets_its_new_expiry(customer, stripe_webhooks, clock):
    method = saved_method(customer, "pm_1", is_default=True)
    card = {"brand": "visa", "last4": "1881", "exp_month": 3, "exp_year": 2032}
    payload = {"id": "pm_1", "object": "payment_method", "card": card}
    assert deliver(stripe_event("payment_method.automatically_updated", payload)).status_code == 200
    method.refresh_from_db()
    assert (method.last4, method.exp_month, method.exp_year, method.status) == ("1881", 3, 2032, "active")
    assert AuditEvent.objects.filter(action="payment_method.updated").count() == 1
    assert deliver(stripe_event("payment_method.updated", payload, event_id="evt_2")).status_code == 200
    assert WebhookEvent.objects.get(event_id="evt_2").outcome == "unchanged"


# -- disputes -----------------------------------------------------------------------------------------


def test_a_dispute_is_recorded_emailed_to_owners_and_administrators_and_shown_in_the_console(
    org, customer, stripe_webhooks, clock, mailbox, django_capture_on_commit_callbacks
):
    owner = staff_user(org, email="owner@renotech.example", role="owner")
    staff_user(org, email="admin@renotech.example", role="administrator")
    staff_user(org, email="finance@renotech.example", role="finance")
    payment = card_payment(customer)
    payload = stripe_event("charge.dispute.created", dispute(), event_id="evt_dispute")
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(payload).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(payload).status_code == 200  # delivered twice: one dispute, one email
    row = Dispute.objects.get()
    assert (row.payment, row.amount_minor, row.currency, row.status, row.reason, row.charge_reference) == (
        payment,
        5000,
        "USD",
        Dispute.Status.OPEN,
        "fraudulent",
        "ch_2",
    )
    assert AuditEvent.objects.filter(action="dispute.opened").count() == 1
    assert OutboxEvent.objects.filter(topic="payment.disputed").count() == 1
    [message] = mailbox.to("owner@renotech.example")
    assert "$50.00" in message["Subject"]
    body = mailbox.body(message)
    assert payment.number in body and "Acme Interiors" in body and "fraudulent" in body
    assert f"/console/payments/dispute/{row.pk}/change/" in body
    assert len(mailbox.to("admin@renotech.example")) == 1
    assert mailbox.to("finance@renotech.example") == []
    assert len(mailbox.messages) == 1  # one message to both

    console = tenant_client(org)
    console.force_login(owner, backend="portico.accounts.backends.TenantAuthenticationBackend")
    listing = console.get("/console/payments/dispute/")
    assert listing.status_code == 200 and "dp_1" in listing.content.decode()
    page = console.get(f"/console/billing/payment/{payment.pk}/change/")
    assert page.status_code == 200 and "dp_1" in page.content.decode()
    events = console.get("/console/payments/webhookevent/")
    assert "evt_dispute" in events.content.decode()
    assert console.get("/console/payments/dispute/add/").status_code == 403
    assert console.post(f"/console/payments/dispute/{row.pk}/delete/").status_code == 403


@pytest.mark.parametrize("role", ["finance", "support", "read_only"])
def test_every_staff_role_sees_disputes_and_none_changes_them(org, customer, stripe_webhooks, role):
    card_payment(customer)
    deliver(stripe_event("charge.dispute.created", dispute()))
    row = Dispute.objects.get()
    console = tenant_client(org)
    console.force_login(
        staff_user(org, email=f"{role}@renotech.example", role=role),
        backend="portico.accounts.backends.TenantAuthenticationBackend",
    )
    assert console.get("/console/payments/dispute/").status_code == 200
    assert console.get(f"/console/payments/dispute/{row.pk}/change/").status_code == 200
    assert console.get("/console/payments/dispute/add/").status_code == 403
    assert console.post(f"/console/payments/dispute/{row.pk}/delete/").status_code == 403


def test_dispute_updates_move_it_forward_only(customer, stripe_webhooks, clock):
    card_payment(customer)
    # closed (won) arrives first; the created and an older update arrive after it
    deliver(stripe_event("charge.dispute.closed", dispute("won"), event_id="evt_3"))
    deliver(stripe_event("charge.dispute.created", dispute(), event_id="evt_1"))
    deliver(stripe_event("charge.dispute.updated", dispute("under_review"), event_id="evt_2"))
    row = Dispute.objects.get()
    assert row.status == Dispute.Status.WON
    assert WebhookEvent.objects.count() == 3
    deliver(stripe_event("charge.dispute.created", dispute(reference="dp_2"), event_id="evt_4"))
    deliver(stripe_event("charge.dispute.updated", dispute("warning_under_review", "dp_2"), event_id="evt_5"))
    assert Dispute.objects.get(reference="dp_2").status == Dispute.Status.UNDER_REVIEW
    deliver(stripe_event("charge.dispute.closed", dispute("lost", "dp_2"), event_id="evt_6"))
    assert Dispute.objects.get(reference="dp_2").status == Dispute.Status.LOST
    assert AuditEvent.objects.filter(action="dispute.updated").count() == 2


# -- a real delivery from localstripe ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_localstripe_delivers_the_payment_intent_succeeded_of_our_payment_and_nothing_is_booked_twice(
    stripe_org, customer, live_server, localstripe
):
    """localstripe signs and posts its own events (`/_config/webhooks/<id>`): a real sender, its JSON
    and its signature, through our URL, about a payment our request booked a moment before."""
    hook = urllib.parse.urlencode(
        {
            "url": f"{live_server.url}/payments/webhooks/stripe/{stripe_org.slug}/",
            "secret": STRIPE_KEYS["stripe_webhook_secret"],
            "events[]": "payment_intent.succeeded",
        }
    ).encode()
    urllib.request.urlopen(
        urllib.request.Request(f"{localstripe}/_config/webhooks/portico", data=hook), timeout=10
    ).read()
    invoice = open_invoice(customer, 2500)
    session = start_setup(organization=stripe_org, customer=customer, actor=ACTOR)
    confirm_in_browser(localstripe, session)
    method = save_method(
        organization=stripe_org, customer=customer, actor=ACTOR, setup_reference=session.reference
    )
    outcome = services.pay_invoices(
        organization=stripe_org,
        customer=customer,
        invoice_numbers=[invoice.number],
        method=method,
        form_token="webhook-form",
        actor=ACTOR,
    )
    assert outcome.succeeded
    payment = Payment.objects.get(customer=customer)
    row, deadline = None, time.monotonic() + 10
    while row is None and time.monotonic() < deadline:
        time.sleep(0.2)
        # (a row with its outcome: the live server may share the test's SQLite connection, so a
        # delivery still inside its transaction shows)
        row = (
            WebhookEvent.all_tenants.filter(
                organization=stripe_org, object_reference=payment.gateway_reference
            )
            .exclude(outcome="")
            .first()
        )
    assert row is not None, "localstripe's webhook never arrived"
    assert (row.type, row.gateway, row.event_id[:4]) == ("payment_intent.succeeded", "stripe", "evt_")
    assert row.outcome == f"already booked as {payment.number}"
    assert Payment.objects.filter(customer=customer).count() == 1


# -- PostgreSQL: one event, five deliveries at once ----------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_five_times_at_once_is_applied_once():
    assert connection.vendor == "postgresql"
    organization = use_stripe(OrganizationFactory(slug="racing"))
    customer = CustomerFactory(organization=organization, currency="USD")
    with tenant(organization):
        payment = card_payment(customer)
    payload = stripe_event("charge.refunded", refunded_charge(), event_id="evt_race")
    statuses = race(*[lambda: deliver(payload, slug="racing").status_code for _ in range(5)])
    assert statuses == [200] * 5, statuses
    assert WebhookEvent.all_tenants.filter(organization=organization).count() == 1
    refund = Refund.all_tenants.get(payment=payment)
    assert refund.amount_minor == 1500
    payment.refresh_from_db()
    assert (payment.unused_minor, payment.refunded_minor) == (3500, 1500)
    assert ledger_violations() == []


def test_the_webhook_of_a_console_refund_that_arrives_first_books_it_once_with_its_release(
    customer, stripe_webhooks, clock
):
    """Staff refund an applied card payment to the card; Stripe's event about that refund arrives
    before the console's request has booked it. The event books it the way the request would —
    releasing the allocation, so the invoice reopens — and the request then finds it booked."""
    from portico.payments import refunds

    invoice = open_invoice(customer, 4000)
    payment = pay(
        customer,
        4000,
        (invoice, 4000),
        method=Payment.Method.CARD,
        channel=Payment.Channel.ONLINE,
        gateway="stripe",
        gateway_reference="pi_2",
    )
    pending = refunds._reserve(payment, Money(2500, "USD"), ACTOR, "damaged goods", "form-1")
    refund_obj = {
        "id": "re_console",
        "object": "refund",
        "amount": 2500,
        "charge": "ch_2",
        "payment_intent": "pi_2",
        "status": "succeeded",
        "metadata": {"portico_idempotency_key": pending.idempotency_key},
    }
    assert deliver(stripe_event("refund.created", refund_obj, event_id="evt_console")).status_code == 200
    refund = Refund.objects.get()
    assert (refund.amount_minor, refund.gateway_reference) == (2500, "re_console")
    # The request's own booking, after its gateway call returned: nothing more.
    assert refunds._book(pending, "re_console", ACTOR) == refund
    assert Refund.objects.count() == 1
    invoice.refresh_from_db()
    payment.refresh_from_db()
    assert invoice.balance_minor == 2500 and invoice.status != Invoice.Status.PAID
    assert (payment.refunded_minor, payment.unused_minor) == (2500, 0)
    pending.refresh_from_db()
    assert pending.status == pending.Status.SUCCEEDED and pending.refund == refund
    assert "requested in the console" in WebhookEvent.objects.get().outcome
    assert ledger_violations() == []
