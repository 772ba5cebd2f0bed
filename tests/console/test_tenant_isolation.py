"""Every admin of the console, walked as one organization's staff with another organization's ids.

The admins come from the console site's registry, so a new admin is walked as soon as it is
registered; `northwind_world` must give it a row (the test says so when it does not). For each
row of Northwind's: not listed, 404 on every page addressed by its id (change, delete, history,
and the admin's own views), 404 on POST to them, and the actions of the list do nothing to it.
Nothing of Northwind's changes, whatever RenoTech's owner sends.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import URLPattern

from portico.accounts import services as access
from portico.accounts.models import User, access_policy_of
from portico.api.services import create_key
from portico.billing import services as ledger
from portico.billing.models import StatementExport
from portico.catalog.models import Item, TaxRate
from portico.console.site import console_site
from portico.core.audit import Actor
from portico.core.models import Organization
from portico.core.money import Money
from portico.payments.gateways import payment_settings
from portico.payments.models import Dispute, PaymentAttempt, WebhookEvent
from portico.portal.models import preferences_of
from tests.accounts.sso_factories import sso_world
from tests.billing.factories import credit_note, draft_invoice, line, open_invoice, pay
from tests.catalog.factories import catalog_world
from tests.conftest import tenant_client
from tests.console.projects_world import project_world
from tests.console.subscriptions_world import subscription_world
from tests.engagement.conversation_factories import conversation_world
from tests.engagement.factories import web_tab_world
from tests.engagement.factories_documents import document_world
from tests.engagement.review_factories import review_world
from tests.factories import ContactFactory, CustomerFactory, portal_user, staff_user
from tests.notifications.factories import email_world, webhook_world

ACTOR = Actor.system("tests")
MAX_ROWS = 3  # of each model: enough to show the scoping, few enough to keep the walk quick


@pytest.fixture
def northwind_world(other_org, clock):
    """At least one row of every model the console shows, all Northwind's."""
    customer = CustomerFactory(organization=other_org, display_name="Northwind Client")
    contact = ContactFactory(customer=customer, email="maria@acme.example", is_primary=True)
    portal_user(contact)
    staff_user(other_org, email="owner@northwind.example")
    create_key(organization=other_org, name="CRM sync", scope="write", actor=ACTOR)  # the API keys page
    access.invite_contact(contact=ContactFactory(customer=customer, email="tom@nw.example"), actor=ACTOR)
    access_policy_of(other_org)
    preferences_of(other_org)
    ledger.billing_settings(other_org)
    payment_settings(other_org)
    rate = TaxRate.all_tenants.create(organization=other_org, name="VAT", percent="20")
    Item.all_tenants.create(
        organization=other_org, name="Design", currency="GBP", unit_price_minor=5000, tax_rate=rate
    )
    catalog_world(other_org)  # products, plans with tiers, addons, coupons with codes
    subscription_world(other_org)  # subscriptions in several states, their settings
    draft_invoice(customer, 1000)
    invoice = open_invoice(customer, 10000)
    payment = pay(customer, 6000, (invoice, 4000))
    ledger.refund_payment(payment=payment, amount=Money(1000, "GBP"), actor=ACTOR)
    note = credit_note(customer, 2000)
    ledger.apply_credit(credit_note=note, invoice=invoice, amount=Money(500, "GBP"), actor=ACTOR)
    ledger.create_credit_note(customer=customer, lines=[line(700, "GBP")], actor=ACTOR)  # a draft
    StatementExport.all_tenants.create(
        organization=other_org,
        customer=customer,
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 3, 1),
        currency="GBP",
        line_count=3,
        created_at=clock.now(),
    )
    attempt = PaymentAttempt.all_tenants.create(
        organization=other_org,
        customer=customer,
        form_token="nw-form",
        currency="GBP",
        amount_minor=1500,
        gateway="test",
        created_at=clock.now(),
    )
    attempt.invoices.add(invoice)
    # what the gateway's webhooks write: a received event and a dispute on the payment
    WebhookEvent.all_tenants.create(
        organization=other_org,
        gateway="stripe",
        event_id="evt_1",
        type="charge.dispute.created",
        object_reference="dp_1",
        created=clock.now(),
        received_at=clock.now(),
        outcome="dispute dp_1 recorded (open)",
    )
    Dispute.all_tenants.create(
        organization=other_org,
        payment=payment,
        gateway="stripe",
        reference="dp_1",
        currency="GBP",
        amount_minor=6000,
        opened_at=clock.now(),
        updated_at=clock.now(),
    )
    webhook_world(other_org)  # a webhook endpoint and a delivery of it
    email_world(other_org, customer)  # a customer email overridden, one logged
    project_world(customer)  # a project, its task, staff, time in every state and milestones
    web_tab_world(other_org, customer)  # web tabs, one shown to chosen customers
    review_world(other_org, customer)  # a review answered, the chat widget
    document_world(other_org, customer)  # shared documents and share links to them
    conversation_world(other_org, customer)  # conversations, one answered, one closed
    sso_world(other_org, customer)  # single sign-on connections, a customer's rules
    return other_org


def rows_of(model, organization):
    if model is Organization:
        return Organization.objects.filter(pk=organization.pk)
    return model._base_manager.filter(organization=organization)


def snapshot(organization) -> dict:
    """Every value of every row of the organization's, in every model the console shows."""
    return {
        model._meta.label: sorted(map(repr, rows_of(model, organization).values()))
        for model in console_site._registry
    }


def urls_by_id(model_admin, pk) -> list[str]:
    """The admin's pages addressed by an object id: Django's and the admin's own."""
    opts = model_admin.model._meta
    prefix = f"/console/{opts.app_label}/{opts.model_name}/"
    urls = []
    for pattern in model_admin.get_urls():
        route = str(pattern.pattern)
        if isinstance(pattern, URLPattern) and pattern.name and "<" in route:
            urls.append(prefix + re.sub(r"<[^>]+>", str(pk), route))
    return urls


def test_every_console_admin_hides_another_organizations_rows(org, northwind_world):
    staff = tenant_client(org)
    staff.force_login(
        staff_user(org, email="owner@renotech.example"),
        backend="portico.accounts.backends.TenantAuthenticationBackend",
    )
    before = snapshot(northwind_world)
    walked = []
    for model, model_admin in console_site._registry.items():
        label = model._meta.label
        rows = list(rows_of(model, northwind_world).values_list("pk", flat=True)[:MAX_ROWS])
        assert rows, f"northwind_world has no {label}: give the walker one, so its admin is walked"
        opts = model._meta
        changelist = f"/console/{opts.app_label}/{opts.model_name}/"
        listing = staff.get(changelist)
        assert listing.status_code in (200, 403), (label, listing.status_code)
        page = listing.content.decode()
        for pk in rows:
            change = f"{changelist}{pk}/change/"
            assert f'href="{change}"' not in page and f'href="{change}?' not in page, (label, "listed")
            for url in urls_by_id(model_admin, pk):
                assert staff.get(url).status_code == 404, (label, "GET", url)
                assert staff.post(url, _hostile_form(model)).status_code == 404, (label, "POST", url)
        if listing.status_code == 200:
            for action in model_admin.get_actions(_request_of(org)):
                staff.post(
                    changelist, {"action": action, "_selected_action": rows, "index": "0", "post": "yes"}
                )
        walked.append(label)
    assert snapshot(northwind_world) == before
    assert {
        "accounts.AccessPolicy",
        "portal.PortalConfiguration",
        "billing.BillingSettings",
        "payments.PaymentSettings",
    } <= set(walked)


def _hostile_form(model) -> dict:
    """A plausible edit of every simple field (what a tampered form would send)."""
    data = {"post": "yes", "_save": "Save", "reason": "tampered", "amount": "1"}
    for field in model._meta.concrete_fields:
        if field.is_relation or not field.editable:
            continue
        internal = field.get_internal_type()
        if internal == "BooleanField":
            data[field.name] = "on"
        elif "Integer" in internal:
            data[field.name] = "3"
        elif internal in ("CharField", "TextField", "EmailField"):
            data[field.name] = "x@hacked.example" if internal == "EmailField" else "Hacked"
        elif internal == "JSONField":
            data[field.name] = '["invoices"]'
    return data


def _request_of(organization):
    from django.test import RequestFactory

    request = RequestFactory().get("/console/", HTTP_HOST=organization.host)
    request.organization = organization
    request.user = User.all_tenants.get(email="owner@renotech.example")
    return request


def test_another_organizations_access_policy_cannot_force_mfa_on_its_customers(org, other_org):
    staff = tenant_client(org)
    staff.force_login(staff_user(org), backend="portico.accounts.backends.TenantAuthenticationBackend")
    theirs = access_policy_of(other_org)
    assert staff.get(f"/console/accounts/accesspolicy/{theirs.pk}/change/").status_code == 404
    response = staff.post(
        f"/console/accounts/accesspolicy/{theirs.pk}/change/",
        {"invitation_days": "7", "portal_mfa_required": "on"},
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert not theirs.portal_mfa_required
    page = staff.get("/console/accounts/accesspolicy/").content.decode()
    assert other_org.name not in page and org.name in page
