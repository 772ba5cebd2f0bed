"""One object of every kind the API addresses, in one organization."""

from __future__ import annotations

from decimal import Decimal

from portico.billing import services as ledger
from portico.billing.services import LineInput
from portico.catalog.models import Addon, Coupon, CouponCode, Item, Plan, Product, TaxRate
from portico.core import clock
from portico.core.audit import Actor
from portico.core.money import Money
from portico.core.tenancy import tenant
from portico.payments.models import PaymentMethod
from portico.subscriptions import services as subscriptions
from tests.factories import ContactFactory, CustomerFactory


def build_world(organization, tag: str = "") -> dict[str, object]:
    """`tag` tells apart the codes and names of a second world in the same organization."""
    with tenant(organization):
        customer = CustomerFactory(organization=organization)
        tax_rate = TaxRate.objects.create(organization=organization, name="Tax", percent=Decimal("8.25"))
        product = Product.objects.create(
            organization=organization, name=f"Product of {organization.slug}{tag}"
        )
        currency = customer.currency
        plan = Plan.objects.create(
            organization=organization, product=product, code=f"basic{tag}", name="Basic", price_minor=3000,
            currency=currency,
        )  # fmt: skip
        addon = Addon.objects.create(
            organization=organization,
            code=f"seats{tag}",
            name="Seats",
            charge_type="recurring",
            interval_unit="month",
            interval_count=1,
            price_minor=500,
            currency=currency,
        )
        coupon = Coupon.objects.create(organization=organization, name="Launch", percent=Decimal(10))
        addon.plans.add(plan)
        coupon.plans.add(plan)
        coupon.addons.add(addon)
        tiered = Plan.objects.create(
            organization=organization,
            product=product,
            code=f"tiered{tag}",
            name="Tiered",
            pricing_model="tiered",
            currency=currency,
        )
        tiered.tiers.create(up_to=10, unit_price=Decimal(2))
        tiered.tiers.create(up_to=None, unit_price=Decimal(1))
        ledger_objects = _ledger(customer)
        code = CouponCode.objects.create(organization=organization, coupon=coupon, code=f"LAUNCH{tag}")
        # live, with an addon and a coupon; its first term invoiced
        subscription = subscriptions.create_subscription(
            customer=customer, plan=plan, actor=Actor.system(), addons=[(addon, 2)], coupon_code=code.code,
        )  # fmt: skip
        contact = ContactFactory(customer=customer, is_primary=True)
        return {
            **ledger_objects,
            **_projects(customer, tax_rate, tag),
            "customer": customer,
            "contact": contact,
            "conversation": _conversation(contact),
            "tax_rate": tax_rate,
            "item": Item.objects.create(organization=organization, name="Hour", unit_price_minor=9000),
            "product": product,
            "plan": plan,
            "addon": addon,
            "coupon": coupon,
            "coupon_code": code,
            "subscription": subscription,
        }


def _conversation(contact):
    """A general thread the contact started."""
    from tests.engagement.conversation_factories import conversation

    return conversation(contact)


def _ledger(customer) -> dict[str, object]:
    """An issued invoice with a line, partly paid by a payment (with money left unused), an issued
    credit note for it, and a saved card."""
    system, currency = Actor.system(), customer.currency
    invoice = ledger.create_invoice(
        customer=customer, actor=system, lines=[LineInput("Consulting", Money(10000, currency))]
    )
    invoice = ledger.finalize_invoice(invoice=invoice, actor=system)
    payment = ledger.record_payment(
        customer=customer,
        amount=Money(2500, currency),
        allocations=[(invoice, Money(2000, currency))],
        method="bank_transfer",
        received_on=clock.today(),
        actor=system,
    )
    credit_note = ledger.issue_credit_note(
        customer=customer, lines=[LineInput("Discount", Money(1000, currency))], invoice=invoice, actor=system
    )
    method = PaymentMethod.objects.create(
        organization=customer.organization,
        customer=customer,
        gateway="test",
        token=f"tok_test_{customer.pk}",
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2035,
        is_default=True,
        created_at=clock.now(),
    )
    return {
        "invoice": invoice,
        "invoice_line": invoice.lines.get(),
        "payment": payment,
        "credit_note": credit_note,
        "payment_method": method,
        "document": _document(customer),
    }


def _document(customer):
    from tests.engagement.factories_documents import shared_document

    return shared_document(customer.organization, title="Contract", customer=customer)


def _projects(customer, tax_rate, tag: str) -> dict[str, object]:
    """An hourly project (task rates) with a task, a staff member on it, an entry awaiting approval
    and a pending milestone."""
    from portico.projects import services as projects
    from portico.projects.models import Project

    system, currency = Actor.system(), customer.currency
    project = projects.create_project(
        customer=customer,
        code=f"KIT{tag}",
        name="Kitchen remodel",
        actor=system,
        billing_method=Project.BillingMethod.TASK_RATE,
        rate=Money(10000, currency),
        tax_rate=tax_rate,
    )
    task = projects.create_task(project=project, name="Design", rate=Money(12000, currency), actor=system)
    staff = projects.create_staff_member(
        organization=customer.organization,
        name="Riley",
        email=f"riley{tag}@{customer.organization.slug}.example",
        default_rate_minor=9000,
        actor=system,
    )
    projects.set_project_member(project=project, staff_member=staff, actor=system)
    entry = projects.log_time(
        project=project,
        task=task,
        staff_member=staff,
        date=clock.today(),
        hours=Decimal("1.50"),
        actor=system,
    )
    milestone = projects.create_milestone(
        project=project, name="Plans", amount=Money(50000, currency), actor=system
    )
    return {
        "project": project,
        "task": task,
        "staff_member": staff,
        "time_entry": entry,
        "milestone": milestone,
    }
