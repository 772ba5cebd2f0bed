"""Plans and addons carry a tax rate (issue 11: "taxes" in the bill run and the proration table): the
bill run, the services and the previews tax each line the same way, through `subscriptions.pricing`.
Amounts by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portico.billing.models import Invoice, InvoiceLine
from portico.catalog.models import TaxRate
from portico.subscriptions import previews, services
from portico.subscriptions.billrun import run_bill_run
from portico.subscriptions.models import BillingPeriod, Status, Subscription
from tests.catalog.factories import addon, plan
from tests.subscriptions.factories import ACTOR, subscribe

D = dt.date


@pytest.fixture
def sales_tax(org):
    return TaxRate.objects.create(organization=org, name="Sales tax", percent=Decimal("8.25"))


@pytest.fixture
def vat(org):
    return TaxRate.objects.create(organization=org, name="VAT", percent=Decimal("20"), is_inclusive=True)


def lines_of(invoice):
    return [
        (line.description.split(" (")[0], line.net_minor, line.tax_name, line.tax_minor, line.total_minor)
        for line in InvoiceLine.objects.filter(invoice=invoice).order_by("position")
    ]


def test_the_bill_run_taxes_the_plan_and_each_addon_by_its_own_rate(org, customer, clock, sales_tax, vat):
    # $49.99 a month + 8.25 % = 4.124175 → $4.12; the addon 3 × $2.50 = $7.50 with 20 % inside: 1.25.
    monthly = plan(org, "monthly", price_minor=4999, tax_rate=sales_tax)
    extra = addon(org, "extra", tax_rate=vat)
    clock.set("2026-01-15T15:00:00+00:00")
    sub = subscribe(customer, monthly, addons=[(extra, 3)])
    first = Invoice.all_tenants.get(customer=customer)
    assert lines_of(first) == [
        ("Monthly", 4999, "Sales tax", 412, 5411),
        ("Extra", 625, "VAT", 125, 750),
    ]
    assert (first.tax_minor, first.total_minor) == (537, 6161)
    forecast = previews.next_invoice(Subscription.objects.get(pk=sub.pk))
    assert (forecast.summary.tax.minor, forecast.total.minor) == (537, 6161)

    report = run_bill_run(dt.datetime(2026, 2, 15, 18, tzinfo=dt.UTC))
    assert report.invoices == 1
    renewal = BillingPeriod.objects.get(subscription=sub, start=D(2026, 2, 15)).invoice
    assert lines_of(renewal) == lines_of(first)
    assert (renewal.tax_minor, renewal.total_minor) == (537, 6161)


def test_the_setup_fee_is_taxed_as_its_plan(org, customer, clock, sales_tax):
    # $20.00 + $25.00 setup, both at 8.25 %: 1.65 and 2.0625 → 2.06.
    taxed = plan(org, "taxed", price_minor=2000, setup_fee_minor=2500, tax_rate=sales_tax)
    subscribe(customer, taxed)
    invoice = Invoice.all_tenants.get(customer=customer)
    assert lines_of(invoice) == [
        ("Taxed", 2000, "Sales tax", 165, 2165),
        ("Setup fee: Taxed", 2500, "Sales tax", 206, 2706),
    ]
    assert invoice.total_minor == 4871


def test_a_mid_term_upgrade_taxes_its_charge_and_its_credit(org, customer, clock, sales_tax):
    # A term of 31 days (10 March – 10 April), the change on 20 March: 21 days left.
    # Credit 21/31 × $10.00 = 6.774… → 6.77, +8.25 % = 0.5585… → 0.56: 7.33.
    # Charge 21/31 × $30.00 = 20.322… → 20.32, +8.25 % = 1.6764 → 1.68: 22.00.
    basic = plan(org, "basic", price_minor=1000, tax_rate=sales_tax)
    better = plan(org, "better", price_minor=3000, tax_rate=sales_tax, product_row=basic.product, position=1)
    sub = subscribe(customer, basic)
    clock.set("2026-03-20T15:00:00+00:00")
    preview = services.preview_change(subscription=sub, plan=better, quantity=1)
    assert (preview.invoice.tax.minor, preview.invoice.total.minor) == (168, 2200)
    assert (preview.credit_note.tax.minor, preview.credit_note.total.minor) == (56, 733)
    services.change_plan(subscription=sub, plan=better, actor=ACTOR)
    upgrade = Invoice.all_tenants.filter(customer=customer).order_by("id").last()
    assert (upgrade.tax_minor, upgrade.total_minor) == (168, 2200)
    credit = upgrade.customer.credit_notes.get()
    assert (credit.tax_minor, credit.total_minor) == (56, 733)
    assert Subscription.objects.get(pk=sub.pk).status == Status.LIVE
