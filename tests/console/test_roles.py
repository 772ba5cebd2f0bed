"""Console staff roles, walked per role × every admin of the console site's registry.

Each role's staff member requests every page of every registered admin (list, add, change, delete,
history and the admin's own pages such as finalize or refund) and posts every list action. What the
declaration in `console.roles` denies answers 403 on GET and POST and changes nothing; what it
allows answers as it does for the owner (the admin's own rules still apply: an issued invoice
cannot be deleted by anyone). Separate tests show the allowed changes happen.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import URLPattern, path

from portico.accounts import services as access
from portico.accounts.models import StaffRole, User, access_policy_of
from portico.api.services import create_key
from portico.billing import services as ledger
from portico.billing.models import Invoice, InvoiceLine, StatementExport
from portico.catalog.models import Item, TaxRate
from portico.console import roles
from portico.console.site import TenantAdmin, console_site
from portico.core.audit import Actor
from portico.core.models import AuditEvent, Organization, OutboxDelivery
from portico.core.money import Money
from portico.payments.gateways import payment_settings
from portico.payments.models import Dispute, PaymentAttempt, WebhookEvent
from portico.portal.models import preferences_of
from tests.accounts.sso_factories import sso_world
from tests.billing.factories import credit_note, draft_invoice, open_invoice, pay
from tests.catalog.factories import catalog_world
from tests.conftest import tenant_client
from tests.console.projects_world import project_world
from tests.console.subscriptions_world import subscription_world
from tests.console.test_console_edits import customer_form
from tests.engagement.conversation_factories import conversation_world
from tests.engagement.factories import web_tab_world
from tests.engagement.factories_documents import document_world
from tests.engagement.review_factories import review_world
from tests.factories import ContactFactory, CustomerFactory, portal_user, staff_user
from tests.notifications.factories import email_world, webhook_world

ACTOR = Actor.system("tests")
BACKEND = "portico.accounts.backends.TenantAuthenticationBackend"
LIMITED = [StaffRole.FINANCE, StaffRole.SUPPORT, StaffRole.READ_ONLY]


def _email(role) -> str:
    return f"{role}@renotech.example"


@pytest.fixture
def staff(org):
    """One signed-in client per role (the owner's is the baseline)."""
    clients = {}
    for role in StaffRole:
        client = tenant_client(org)
        client.force_login(staff_user(org, email=_email(role), role=role), backend=BACKEND)
        clients[role] = client
    return clients


@pytest.fixture
def world(org, clock):
    """At least one row of every model the console shows, all RenoTech's."""
    customer = CustomerFactory(organization=org, display_name="Acme Interiors")
    contact = ContactFactory(customer=customer, email="maria@acme.example", is_primary=True)
    portal_user(contact)
    access.invite_contact(contact=ContactFactory(customer=customer, email="tom@acme.example"), actor=ACTOR)
    access_policy_of(org)
    preferences_of(org)
    ledger.billing_settings(org)
    payment_settings(org)
    create_key(organization=org, name="CRM sync", scope="write", actor=ACTOR)  # the API keys page
    rate = TaxRate.all_tenants.create(organization=org, name="Sales tax", percent="8")
    Item.all_tenants.create(
        organization=org, name="Design", currency="USD", unit_price_minor=5000, tax_rate=rate
    )
    catalog_world(org)  # products, plans with tiers, addons, coupons with codes
    subscription_world(org)  # subscriptions in several states, their settings
    draft = draft_invoice(customer, 1000)
    invoice = open_invoice(customer, 10000)
    payment = pay(customer, 6000, (invoice, 4000))
    ledger.refund_payment(payment=payment, amount=Money(1000, "USD"), actor=ACTOR)
    note = credit_note(customer, 2000)
    ledger.apply_credit(credit_note=note, invoice=invoice, amount=Money(500, "USD"), actor=ACTOR)
    StatementExport.all_tenants.create(
        organization=org,
        customer=customer,
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 3, 1),
        currency="USD",
        line_count=3,
        created_at=clock.now(),
    )
    attempt = PaymentAttempt.all_tenants.create(
        organization=org,
        customer=customer,
        form_token="form",
        currency="USD",
        amount_minor=1500,
        gateway="test",
        created_at=clock.now(),
    )
    attempt.invoices.add(invoice)
    # what the gateway's webhooks write: a received event and a dispute on the payment
    WebhookEvent.all_tenants.create(
        organization=org,
        gateway="stripe",
        event_id="evt_1",
        type="charge.dispute.created",
        object_reference="dp_1",
        created=clock.now(),
        received_at=clock.now(),
        outcome="dispute dp_1 recorded (open)",
    )
    Dispute.all_tenants.create(
        organization=org,
        payment=payment,
        gateway="stripe",
        reference="dp_1",
        currency="USD",
        amount_minor=6000,
        opened_at=clock.now(),
        updated_at=clock.now(),
    )
    delivery = OutboxDelivery.all_tenants.filter(organization=org).order_by("pk").first()
    OutboxDelivery.all_tenants.filter(pk=delivery.pk).update(status=OutboxDelivery.Status.FAILED)
    webhook_world(org)  # a webhook endpoint and a delivery of it
    email_world(org, customer)  # a customer email overridden, one logged
    project_world(customer)  # a project, its task, staff, time in every state and milestones
    web_tab_world(org, customer)  # web tabs, one shown to chosen customers
    review_world(org, customer)  # a review answered, the chat widget
    document_world(org, customer)  # shared documents and share links to them
    conversation_world(org, customer)  # conversations, one answered, one closed
    sso_world(org, customer)  # single sign-on connections, a customer's rules
    return {"customer": customer, "draft": draft, "invoice": invoice, "payment": payment, "note": note}


def rows_of(model, organization):
    if model is Organization:
        return Organization.objects.filter(pk=organization.pk)
    return model._base_manager.filter(organization=organization)


def snapshot(organization) -> dict:
    return {
        model._meta.label: sorted(map(repr, rows_of(model, organization).values()))
        for model in console_site._registry
    }


def pages_of(model_admin, pk) -> list[tuple[str, str]]:
    """Every named page of the admin, (url, permission it needs), ids filled in with `pk`."""
    opts = model_admin.model._meta
    prefix = f"/console/{opts.app_label}/{opts.model_name}/"
    pages = []
    for pattern in model_admin.get_urls():
        permission = model_admin.url_permission(pattern.name)
        if isinstance(pattern, URLPattern) and permission is not None:
            pages.append((prefix + re.sub(r"<[^>]+>", str(pk), str(pattern.pattern)), permission))
    return pages


def base_actions(model_admin) -> list[str]:
    return [name for _func, name, _desc in model_admin._get_base_actions()]


@pytest.mark.parametrize("role", [r for r in StaffRole if r != StaffRole.OWNER])
def test_each_role_gets_exactly_the_pages_its_role_allows(org, world, staff, role):
    """Allowed: what the owner gets (200, a redirect, or the admin's own 403). Denied: 403 on GET
    and POST. One row per model, reused for every page of its admin."""
    user = User.objects.get(email=_email(role))
    before = snapshot(org)
    walked = set()
    for model, model_admin in console_site._registry.items():
        label = model._meta.label_lower
        pk = rows_of(model, org).order_by("pk").values_list("pk", flat=True).first()
        assert pk is not None, f"the world has no {label}: give it one, so its admin is walked"
        for url, permission in pages_of(model_admin, pk):
            status = staff[role].get(url).status_code
            if roles.allows(user, label, permission):
                # a 403 only where the admin refuses the owner too
                assert status in (200, 302) or staff[StaffRole.OWNER].get(url).status_code == status, (
                    role,
                    label,
                    url,
                    status,
                )
            else:
                assert status == 403, (role, "GET", label, url, status)
                response = staff[role].post(url, {"post": "yes", "_save": "Save"})
                assert response.status_code == 403, (role, "POST", label, url)
        walked.add(label)
    assert snapshot(org) == before
    assert {"billing.invoice", "accounts.user", "core.outboxdelivery"} <= walked


def test_a_list_action_the_role_may_not_run_answers_403_and_changes_nothing(org, world, staff):
    before = snapshot(org)
    tried = set()
    for model, model_admin in console_site._registry.items():
        label = model._meta.label_lower
        opts = model._meta
        changelist = f"/console/{opts.app_label}/{opts.model_name}/"
        selected = list(rows_of(model, org).values_list("pk", flat=True))
        for action in base_actions(model_admin):
            for role in [*LIMITED, StaffRole.ADMINISTRATOR]:
                user = User.objects.get(email=_email(role))
                if roles.allows(user, label, roles.permission_for_action(action)):
                    continue
                response = staff[role].post(
                    changelist, {"action": action, "_selected_action": selected, "index": "0", "post": "yes"}
                )
                assert response.status_code == 403, (role, label, action, response.status_code)
                tried.add((label, action))
    assert snapshot(org) == before
    assert ("billing.invoice", "finalize_selected") in tried
    assert ("customers.contactperson", "invite_contacts") in tried


def test_the_list_shows_only_the_actions_of_the_role(org, world, staff):
    page = staff[StaffRole.FINANCE].get("/console/billing/invoice/").content.decode()
    assert 'value="finalize_selected"' in page
    page = staff[StaffRole.SUPPORT].get("/console/billing/invoice/").content.decode()
    assert 'value="finalize_selected"' not in page and "Finalize selected drafts" not in page


def test_finance_finalizes_sends_and_voids_invoices_and_support_and_read_only_may_not(
    org, world, staff, mailbox
):
    draft = world["draft"]
    for role in (StaffRole.SUPPORT, StaffRole.READ_ONLY):
        assert staff[role].post(f"/console/billing/invoice/{draft.pk}/finalize/").status_code == 403
    draft.refresh_from_db()
    assert draft.status == Invoice.Status.DRAFT
    response = staff[StaffRole.FINANCE].post(f"/console/billing/invoice/{draft.pk}/finalize/")
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Invoice.Status.OPEN
    response = staff[StaffRole.FINANCE].post(f"/console/billing/invoice/{draft.pk}/void/", {"reason": "typo"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Invoice.Status.VOID
    event = AuditEvent.all_tenants.get(action="invoice.voided", object_id=str(draft.pk))
    assert event.actor_label == "finance@renotech.example (finance)"


def test_finance_refunds_and_applies_credit_and_support_may_not(org, world, staff):
    note, invoice = world["note"], world["invoice"]
    form = {"amount": "1.00", "method": "bank_transfer", "reason": "goodwill"}
    assert (
        staff[StaffRole.SUPPORT].post(f"/console/billing/creditnote/{note.pk}/refund/", form).status_code
        == 403
    )
    assert staff[StaffRole.SUPPORT].get(f"/console/billing/creditnote/{note.pk}/refund/").status_code == 403
    note.refresh_from_db()
    assert note.refunded_minor == 0
    response = staff[StaffRole.FINANCE].post(f"/console/billing/creditnote/{note.pk}/refund/", form)
    assert response.status_code == 302
    response = staff[StaffRole.FINANCE].post(
        f"/console/billing/creditnote/{note.pk}/apply/", {"invoice": invoice.pk, "amount": "2.00"}
    )
    assert response.status_code == 302
    note.refresh_from_db()
    assert (note.refunded_minor, note.applied_minor) == (100, 700)


def test_finance_records_payments_and_support_may_not(org, world, staff):
    customer, invoice = world["customer"], world["invoice"]
    form = {
        "customer": customer.pk,
        "idempotency_key": "k1",
        "amount": "10.00",
        "method": "bank_transfer",
        "received_on": "2026-03-10",
        "reference": "",
        f"invoice_{invoice.pk}": "10.00",
    }
    url = "/console/billing/invoice/record-payment/"
    assert staff[StaffRole.SUPPORT].post(url, form).status_code == 403
    assert staff[StaffRole.SUPPORT].get("/console/billing/payment/add/").status_code == 403
    invoice.refresh_from_db()
    balance = invoice.balance_minor
    assert staff[StaffRole.FINANCE].post(url, form).status_code == 302
    invoice.refresh_from_db()
    assert invoice.balance_minor == balance - 1000


def test_support_edits_customers_and_invites_contacts_and_finance_may_not(org, world, staff, mailbox):
    customer = world["customer"]
    url = f"/console/customers/customer/{customer.pk}/change/"
    assert staff[StaffRole.FINANCE].get(url).status_code == 200  # a read-only page
    assert staff[StaffRole.FINANCE].post(url, customer_form(customer, phone="+1 555 0199")).status_code == 403
    customer.refresh_from_db()
    assert customer.phone != "+1 555 0199"
    assert staff[StaffRole.SUPPORT].post(url, customer_form(customer, phone="+1 555 0199")).status_code == 302
    customer.refresh_from_db()
    assert customer.phone == "+1 555 0199"

    lena = ContactFactory(customer=customer, email="lena@acme.example", has_portal_access=False)
    action = {"action": "invite_contacts", "_selected_action": [lena.pk], "index": "0"}
    assert staff[StaffRole.FINANCE].post("/console/customers/contactperson/", action).status_code == 403
    assert not lena.invitations.exists()
    assert staff[StaffRole.SUPPORT].post("/console/customers/contactperson/", action).status_code == 302
    assert lena.invitations.exists()


def test_a_read_only_page_does_not_offer_to_edit_the_contacts_of_a_customer(org, world, staff):
    customer = world["customer"]
    page = staff[StaffRole.FINANCE].get(f"/console/customers/customer/{customer.pk}/change/").content.decode()
    assert 'name="contacts-0-email"' not in page
    page = staff[StaffRole.SUPPORT].get(f"/console/customers/customer/{customer.pk}/change/").content.decode()
    assert 'name="contacts-0-email"' in page


def test_the_invoice_page_offers_only_the_tools_of_the_role(org, world, staff):
    draft = world["draft"]
    url = f"/console/billing/invoice/{draft.pk}/change/"
    assert (
        f"/console/billing/invoice/{draft.pk}/finalize/" in staff[StaffRole.FINANCE].get(url).content.decode()
    )
    assert (
        f"/console/billing/invoice/{draft.pk}/finalize/"
        not in staff[StaffRole.SUPPORT].get(url).content.decode()
    )


def test_support_retries_a_failed_delivery_and_read_only_may_not(org, world, staff):
    failed = OutboxDelivery.all_tenants.get(organization=org, status=OutboxDelivery.Status.FAILED)
    action = {"action": "retry", "_selected_action": [failed.pk], "index": "0"}
    assert staff[StaffRole.READ_ONLY].post("/console/core/outboxdelivery/", action).status_code == 403
    failed.refresh_from_db()
    assert failed.status == OutboxDelivery.Status.FAILED
    assert staff[StaffRole.SUPPORT].post("/console/core/outboxdelivery/", action).status_code == 302
    failed.refresh_from_db()
    assert failed.status != OutboxDelivery.Status.FAILED


def _user_form(user, **changes) -> dict:
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "contact": "",
        "is_active": "on",
        "is_staff": "on",
        "staff_role": user.staff_role,
        "last_login_0": "",
        "last_login_1": "",
    }
    data.update(changes)
    return data


def test_only_an_owner_changes_a_staff_role_and_the_change_is_audited(org, staff):
    reader = User.objects.get(email=_email(StaffRole.READ_ONLY))
    url = f"/console/accounts/user/{reader.pk}/change/"
    form = _user_form(reader, staff_role=StaffRole.FINANCE)
    for role in (StaffRole.ADMINISTRATOR, *LIMITED):
        assert staff[role].post(url, form).status_code == 403, role
    reader.refresh_from_db()
    assert reader.staff_role == StaffRole.READ_ONLY
    assert not AuditEvent.all_tenants.filter(action="staff.role_changed").exists()

    response = staff[StaffRole.OWNER].post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    reader.refresh_from_db()
    assert reader.staff_role == StaffRole.FINANCE
    event = AuditEvent.all_tenants.get(action="staff.role_changed")
    assert (event.data["old"], event.data["new"]) == ("read_only", "finance")
    assert event.actor_label == "owner@renotech.example (owner)"


def test_the_last_owner_cannot_be_demoted(org, staff):
    owner = User.objects.get(email=_email(StaffRole.OWNER))
    response = staff[StaffRole.OWNER].post(
        f"/console/accounts/user/{owner.pk}/change/", _user_form(owner, staff_role=StaffRole.FINANCE)
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.staff_role == StaffRole.OWNER
    assert not AuditEvent.all_tenants.filter(action="staff.role_changed").exists()


def test_the_console_header_shows_the_role(org, staff):
    page = staff[StaffRole.FINANCE].get("/console/").content.decode()
    assert "role: Finance" in page
    assert "role: Owner" in staff[StaffRole.OWNER].get("/console/").content.decode()


def test_a_new_staff_member_without_a_role_can_only_read(org):
    user = User.objects.create_user("new@renotech.example", "x" * 12, organization=org, is_staff=True)
    assert user.staff_role == StaffRole.READ_ONLY


def test_a_model_registered_without_a_declaration_is_denied_to_every_role_but_owner_and_administrator(org):
    class UndeclaredAdmin(TenantAdmin):
        actions = ["touch"]

        @staticmethod
        def touch(modeladmin, request, queryset):  # pragma: no cover - never offered
            raise AssertionError

    model_admin = UndeclaredAdmin(InvoiceLine, console_site)
    # one of its own pages, as an admin's `get_urls` adds them (finalize, refund...)
    extra_page = model_admin._guarded(
        path(
            "<int:pk>/frobnicate/",
            lambda request: HttpResponse("done"),
            name="billing_invoiceline_frobnicate",
        )
    )
    assert InvoiceLine._meta.label_lower not in roles.PERMISSIONS
    for role in StaffRole:
        request = RequestFactory().get("/console/", HTTP_HOST=org.host)
        request.organization = org
        request.user = staff_user(org, email=f"probe-{role}@renotech.example", role=role)
        full = role in (StaffRole.OWNER, StaffRole.ADMINISTRATOR)
        answers = [
            model_admin.has_view_permission(request),
            model_admin.has_add_permission(request),
            model_admin.has_change_permission(request),
            model_admin.has_delete_permission(request),
            "touch" in model_admin.get_actions(request),
            _opens(extra_page, request),
        ]
        assert answers == [full] * 6, role


def _opens(pattern, request) -> bool:
    try:
        return pattern.callback(request).status_code == 200
    except PermissionDenied:
        return False


def test_the_demo_has_staff_in_every_role(db):
    from portico.demo.loader import load_demo

    demo = load_demo()
    roles_in_demo = dict(
        User.all_tenants.filter(organization=demo.renotech, is_staff=True).values_list("email", "staff_role")
    )
    assert roles_in_demo["owner@renotech.example"] == StaffRole.OWNER
    assert roles_in_demo["finance@renotech.example"] == StaffRole.FINANCE
    assert roles_in_demo["support@renotech.example"] == StaffRole.SUPPORT
    assert roles_in_demo["readonly@renotech.example"] == StaffRole.READ_ONLY
    assert roles_in_demo["admin@renotech.example"] == StaffRole.ADMINISTRATOR
    assert (
        load_demo() and User.all_tenants.get(email="finance@renotech.example").staff_role == StaffRole.FINANCE
    )
