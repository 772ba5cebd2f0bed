import datetime as dt

from portico.billing import selectors
from portico.billing.invariants import ledger_violations
from portico.billing.models import CreditApplication, CreditNote, Invoice, Payment, PaymentAllocation, Refund
from portico.core import clock as core_clock
from portico.demo.loader import load_demo

LEDGER_MODELS = (Invoice, Payment, PaymentAllocation, CreditNote, CreditApplication, Refund)


def _counts():
    return {model.__name__: model._base_manager.count() for model in LEDGER_MODELS}


def test_the_demo_ledger_is_idempotent(db):
    load_demo()
    first = _counts()
    load_demo()
    assert _counts() == first
    assert ledger_violations() == []
    from portico.payments.models import PaymentMethod

    assert PaymentMethod.all_tenants.count() == 3  # Acme's two cards, Bluebird's declining one


def test_the_demo_shows_every_state_of_the_ledger(db, clock):
    demo = load_demo()
    assert ledger_violations() == []
    acme = demo.customers["acme"]
    invoices = list(Invoice.all_tenants.filter(customer=acme))
    assert len(invoices) >= 12
    assert {i.status for i in invoices} == {"draft", "open", "partially_paid", "paid", "void"}
    today = clock.now().astimezone(dt.UTC).date()
    overdue = [i for i in invoices if i.is_overdue_on(today)]
    assert any(i.status == "partially_paid" for i in overdue) and any(i.status == "open" for i in overdue)
    assert any(i.due_date >= today for i in invoices if i.is_open)
    kinds = {c.kind for c in selectors.unused_credits_of(acme)}
    assert kinds == {"credit_note", "advance"}
    assert CreditNote.all_tenants.filter(customer=acme, applied_minor__gt=0).count() >= 2
    assert Refund.all_tenants.filter(customer=acme).exists()
    assert Payment.all_tenants.filter(customer=acme, channel="online", card_last4="4242").exists()
    gbp = Invoice.all_tenants.filter(organization=demo.northwind).exclude(status="draft")
    assert gbp.count() >= 3 and {i.currency for i in gbp} == {"GBP"}
    assert {i.number[:3] for i in gbp} == {"NW-"}
    # saved cards (test gateway): a default Visa, and a Mastercard expiring next month
    from portico.payments.gateways import payment_settings
    from portico.payments.methods import active_methods

    cards = {m.last4: m for m in active_methods(acme)}
    assert set(cards) == {"4242", "4444"}
    assert cards["4242"].is_default and not cards["4444"].is_default
    assert {m.gateway for m in cards.values()} == {"test"}
    assert (cards["4444"].exp_year, cards["4444"].exp_month) == (2026, 4)  # the demo's clock: March 2026
    settings_row = payment_settings(demo.renotech)
    assert (
        settings_row.gateway == "test"
        and "Reference: your invoice number" in settings_row.offline_instructions
    )
    # the demo moved the clock only while it wrote history
    assert clock.now() == dt.datetime(2026, 3, 10, 15, tzinfo=dt.UTC) == clock_now()


def clock_now():
    return core_clock.now()


def test_a_demo_card_payment_is_a_real_test_gateway_charge_staff_can_refund_to_the_card(db, clock):
    from portico.core.audit import Actor
    from portico.core.money import Money
    from portico.core.tenancy import tenant
    from portico.payments.models import GatewayCharge
    from portico.payments.refunds import refund_to_card

    demo = load_demo()
    with tenant(demo.renotech):
        payment = Payment.objects.filter(customer=demo.customers["acme"], channel="online").first()
        charge = GatewayCharge.objects.get(gateway="test", reference=payment.gateway_reference)
        assert charge.amount_minor == payment.amount_minor and charge.status == "succeeded"
        refund = refund_to_card(payment=payment, amount=Money(100, payment.currency), actor=Actor.system("t"))
        assert refund.amount_minor == 100 and refund.gateway_reference.startswith("re_test_")
    assert ledger_violations() == []


def test_the_demo_subscriptions_show_each_state_and_load_twice_the_same(
    db, clock, django_capture_on_commit_callbacks
):
    from portico.catalog.models import Addon, Coupon, Plan, Product
    from portico.subscriptions.models import BillingPeriod, CouponRedemption, Subscription, SubscriptionItem

    def counts():
        models = (
            Subscription,
            SubscriptionItem,
            CouponRedemption,
            BillingPeriod,
            Plan,
            Addon,
            Coupon,
            Product,
        )
        return {model.__name__: model._base_manager.count() for model in models} | _counts()

    with django_capture_on_commit_callbacks(execute=True):  # the auto-charge runs after commit
        demo = load_demo()
    first = counts()
    with django_capture_on_commit_callbacks(execute=True):
        load_demo()
    assert counts() == first
    assert ledger_violations() == []
    acme = demo.customers["acme"]
    mine = {s.status: s for s in Subscription.all_tenants.filter(customer=acme)}
    assert set(mine) == {"live", "in_trial", "paused", "non_renewing"}
    live = mine["live"]
    assert live.auto_charge and live.items.filter(addon__code="priority-support").exists()
    assert live.redemptions.get().code.code == "WELCOME20"
    # its first invoice was charged to the saved default card (after the demo's commit)
    invoice = BillingPeriod.all_tenants.get(subscription=live).invoice
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    others = set(Subscription.all_tenants.exclude(customer=acme).values_list("status", flat=True))
    assert {"cancelled", "unpaid", "future"} <= others
    # unpaid the real way: its renewal billed by the bill run, charged to a declining card, retried
    # by dunning three times, then the final action
    from portico.core.models import AuditEvent
    from portico.payments.models import GatewayCharge

    unpaid = Subscription.all_tenants.get(status="unpaid")
    renewal = BillingPeriod.all_tenants.filter(subscription=unpaid).order_by("start").last()
    assert BillingPeriod.all_tenants.filter(subscription=unpaid).count() == 2
    assert unpaid.dunning_invoice_id == renewal.invoice_id and unpaid.dunning_attempts == 3
    assert renewal.invoice.balance_minor == renewal.invoice.total_minor == 9900
    declined = GatewayCharge.all_tenants.filter(kind="charge", status="declined")
    assert declined.filter(amount_minor=9900).count() == 4  # the renewal's charge and three retries
    actions = list(
        AuditEvent.all_tenants.filter(object_id=str(unpaid.pk), action__startswith="subscription.")
        .order_by("at", "id")
        .values_list("action", flat=True)
    )
    assert actions[-5:] == [
        "subscription.dunning_started",
        "subscription.dunning_retry_failed",
        "subscription.dunning_retry_failed",
        "subscription.dunning_retry_failed",
        "subscription.marked_unpaid",
    ]
    renotech = Plan.all_tenants.filter(organization=demo.renotech)
    assert {p.product.name for p in renotech} >= {"Maintenance", "Cloud backup"}
    assert {p.interval_unit for p in renotech.filter(product__name="Maintenance")} == {"month", "year"}
    assert {p.pricing_model for p in renotech.filter(product__name="Cloud backup")} == {"per_unit", "tiered"}
    # Cloud backup is taxed (the organization's tax rate); a subscription to it shows the tax to come
    assert all(p.tax_rate_id for p in renotech.filter(product__name="Cloud backup"))
    assert not any(p.tax_rate_id for p in renotech.filter(product__name="Maintenance"))
    from portico.subscriptions import previews
    from portico.subscriptions.models import Subscription

    backup = [
        s
        for s in Subscription.all_tenants.filter(
            organization=demo.renotech, plan__product__name="Cloud backup"
        )
        if previews.next_invoice(s) is not None
    ]
    assert backup and all(previews.next_invoice(s).summary.tax.minor > 0 for s in backup)
    assert {c.discount_type for c in Coupon.all_tenants.filter(organization=demo.renotech)} >= {
        "percent",
        "fixed",
    }
    # the demo's clock was moved only while it wrote history
    assert clock.now() == dt.datetime(2026, 3, 10, 15, tzinfo=dt.UTC)
