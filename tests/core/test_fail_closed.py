"""Tenancy fails closed: with no organization active a tenant query raises, and everything that runs
without a host (tasks, management commands) acts for an organization it names.

The models, tasks and commands are found structurally, so a new one is covered (or fails here)
without anyone remembering to add it."""

from __future__ import annotations

import importlib
import io
import pkgutil

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command, get_commands
from django.db.models import Count
from django_tasks.base import Task

import portico
from portico.billing.models import Invoice
from portico.core import clock, outbox, tenancy
from portico.core.models import OutboxDelivery
from portico.core.tenancy import NoActiveTenant, TenantModel, TenantSettingsModel, tenant
from portico.customers.models import Customer
from tests.billing.factories import open_invoice
from tests.factories import CustomerFactory

TENANT_MODELS = sorted(
    (m for m in apps.get_models() if issubclass(m, TenantModel)), key=lambda m: m._meta.label
)


def test_the_registry_holds_tenant_and_settings_models():
    labels = {m._meta.label for m in TENANT_MODELS}
    assert {
        "customers.Customer",
        "billing.Invoice",
        "core.OutboxDelivery",
        "portal.PortalConfiguration",
    } <= labels
    assert {"billing.BillingSettings", "accounts.AccessPolicy"} <= {
        m._meta.label for m in TENANT_MODELS if issubclass(m, TenantSettingsModel)
    }


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m._meta.label)
def test_a_tenant_query_without_an_active_organization_raises(model, db):
    with tenant(None):
        queries = [
            lambda: list(model.objects.all()),
            lambda: model.objects.filter(pk=1).first(),
            lambda: model.objects.get(pk=1),
            model.objects.count,
            model.objects.exists,
            lambda: model.objects.aggregate(n=Count("pk")),
            lambda: model.objects.update(organization_id=1),
            lambda: model.objects.all().delete(),
            lambda: list(model.objects.iterator()),
            lambda: list(model.all_tenants.filter(pk__in=model.objects.values("pk"))),
            lambda: list(model.all_tenants.union(model.objects.all())),
        ]
        for query in queries:
            with pytest.raises(NoActiveTenant, match=model._meta.label):
                query()
        # What says that it spans tenants, and an empty result, still work.
        assert list(model.all_tenants.all()) == []
        assert list(model.objects.none()) == []


def test_a_query_built_without_an_organization_stays_closed_when_one_is_active(org):
    with tenant(None):
        built_early = Customer.objects.all()
    with pytest.raises(NoActiveTenant):
        list(built_early)


def test_rows_are_created_for_a_named_organization_without_an_active_one(org, other_org):
    with tenant(None):
        customer = CustomerFactory(organization=other_org)
        walk_in = Customer.objects.create(organization=org, display_name="Walk-in")
        customer.display_name = "Renamed"
        customer.save()
    assert Customer.all_tenants.get(pk=customer.pk).display_name == "Renamed"
    assert walk_in.organization == org


def test_related_managers_are_scoped_by_their_row_without_an_active_organization(org, other_org):
    mine, theirs = CustomerFactory(organization=org), CustomerFactory(organization=other_org)
    invoice = open_invoice(mine, 1000)
    with tenant(other_org):
        other_invoice = open_invoice(theirs, 2000)
    with tenant(None):
        assert list(Customer.all_tenants.get(pk=mine.pk).invoices.all()) == [invoice]
        assert list(Customer.all_tenants.get(pk=theirs.pk).invoices.all()) == [other_invoice]


# -- tasks ----------------------------------------------------------------------------------------


def _portico_tasks() -> dict[str, Task]:
    found = {}
    for module_info in pkgutil.walk_packages(portico.__path__, "portico."):
        if ".migrations" in module_info.name or module_info.name.endswith(("settings", "settings_test")):
            continue
        try:
            module = importlib.import_module(module_info.name)
        except ImportError:
            continue
        for value in vars(module).values():
            if isinstance(value, Task) and value.module_path.startswith("portico."):
                found[value.module_path] = value
    return found


delivered: list[tuple[int, int]] = []


@outbox.consumer("test.fail_closed", name="test.fail_closed")
def _count_customers(event):
    # A consumer reads tenant data through the default manager: it must be acting for the event's.
    delivered.append((event.organization_id, Customer.objects.count()))


def _run_render_invoice_pdf(task, org, other_org):
    invoices = []
    for organization in (org, other_org):
        with tenant(organization):
            invoices.append(open_invoice(CustomerFactory(organization=organization), 1000))
    Invoice.all_tenants.filter(pk__in=[i.pk for i in invoices]).update(pdf="")
    with tenant(None):
        for invoice in invoices:
            task.call(invoice.pk)
    assert all(Invoice.all_tenants.get(pk=i.pk).pdf.name for i in invoices)


def _run_deliver_task(task, org, other_org):
    delivered.clear()
    ids = []
    for organization, customers in ((org, 1), (other_org, 2)):
        for _ in range(customers):
            CustomerFactory(organization=organization)
        event = outbox.emit("test.fail_closed", organization=organization, payload={})
        ids += OutboxDelivery.all_tenants.filter(event=event).values_list("pk", flat=True)
    with tenant(None):
        task.call(ids)
    assert sorted(delivered) == sorted([(org.pk, 1), (other_org.pk, 2)])


def _run_prepare_statement_export(task, org, other_org):
    from portico.billing.models import StatementExport

    exports = []
    for organization in (org, other_org):
        customer = CustomerFactory(organization=organization)
        with tenant(organization):
            open_invoice(customer, 1000)
        exports.append(
            StatementExport.all_tenants.create(
                organization=organization,
                customer=customer,
                start="2026-01-01",
                end="2026-12-31",
                currency="USD",
                line_count=1,
                created_at="2026-03-10T00:00:00Z",
            )
        )
    with tenant(None):
        for export in exports:
            assert task.call(export.pk) == StatementExport.Status.READY


def _webhooks_of_both(org, other_org):
    """An endpoint per organization on one receiver, and an event of each fanned out, unsent."""
    from tests.notifications.factories import endpoint
    from tests.notifications.receiver import Receiver

    server = Receiver().start()
    for organization in (org, other_org):
        endpoint(organization, url=server.url(f"/{organization.slug}"))
        with tenant(organization):
            open_invoice(CustomerFactory(organization=organization), 1000)
    with tenant(None):
        outbox.deliver_all_due()
    return server


def _run_send_webhooks(task, org, other_org):
    from portico.notifications.models import WebhookEndpoint

    server = _webhooks_of_both(org, other_org)
    try:
        ids = list(WebhookEndpoint.all_tenants.values_list("pk", flat=True))
        with tenant(None):
            assert task.call(ids) == "2 delivered, 0 to retry, 0 failed"
        assert sorted(r.path for r in server.requests) == sorted([f"/{org.slug}", f"/{other_org.slug}"])
    finally:
        server.stop()


TASK_RUNS = {
    "portico.billing.documents.render_invoice_pdf": _run_render_invoice_pdf,
    "portico.notifications.delivery.send_task": _run_send_webhooks,
    "portico.core.outbox.deliver_task": _run_deliver_task,
    "portico.billing.exports.prepare_statement_export": _run_prepare_statement_export,
}


def test_every_task_is_run_here():
    assert set(_portico_tasks()) == set(TASK_RUNS)


@pytest.mark.parametrize("path", sorted(TASK_RUNS))
def test_a_task_acts_for_its_rows_organization_with_none_active(path, org, other_org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    TASK_RUNS[path](_portico_tasks()[path], org, other_org)


# -- management commands --------------------------------------------------------------------------


def _run_check_ledger(org, other_org):
    for organization in (org, other_org):
        with tenant(organization):
            open_invoice(CustomerFactory(organization=organization), 1000)
    with tenant(None):
        call_command("check_ledger", stdout=io.StringIO())
        broken = Invoice.all_tenants.filter(organization=other_org)
        broken.update(paid_minor=100, balance_minor=900)
        errors = io.StringIO()
        with pytest.raises(CommandError, match="ledger invariant"):
            call_command("check_ledger", stdout=io.StringIO(), stderr=errors)
        problems = errors.getvalue().splitlines()
        assert problems and all(p.startswith(f"{other_org.slug}: ") for p in problems)
        call_command("check_ledger", organization=org.slug, stdout=io.StringIO())


def _run_reconcile_payments(org, other_org):
    out = io.StringIO()
    with tenant(None):
        call_command("reconcile_payments", stdout=out)
    assert "Payment attempts:" in out.getvalue()


def _run_deliver_outbox(org, other_org):
    delivered.clear()
    for organization in (org, other_org):
        CustomerFactory(organization=organization)
        outbox.emit("test.fail_closed", organization=organization, payload={})
    out = io.StringIO()
    with tenant(None):
        call_command("deliver_outbox", once=True, stdout=out)
    assert sorted(delivered) == sorted([(org.pk, 1), (other_org.pk, 1)])
    assert "2 delivered" in out.getvalue()


def _run_notify_expiring_cards(org, other_org):
    from portico.payments.models import PaymentMethod

    for organization in (org, other_org):
        customer = CustomerFactory(organization=organization)
        PaymentMethod.all_tenants.create(
            organization=organization,
            customer=customer,
            gateway="test",
            token=f"tok_test_fail_closed_{organization.pk}",
            brand="visa",
            last4="4242",
            exp_month=clock.today().month,
            exp_year=clock.today().year,
            is_default=True,
            created_at=clock.now(),
        )
    out = io.StringIO()
    with tenant(None):
        call_command("notify_expiring_cards", stdout=out)
    assert "2 sent" in out.getvalue()
    assert set(PaymentMethod.all_tenants.values_list("expiry_notice_for", flat=True)) == {
        f"{clock.today():%Y-%m}"
    }


def _run_periodic(org, other_org):
    out = io.StringIO()
    with tenant(None):
        call_command("periodic", once=True, stdout=out)
    assert "payments.reconcile: payment attempts:" in out.getvalue()
    assert "payments.card_expiry: card expiry notices: 0 sent" in out.getvalue()
    assert "billing.overdue: overdue invoices: 0 emitted" in out.getvalue()
    assert "notifications.webhooks: webhooks: 0 delivered" in out.getvalue()


def _run_billrun(org, other_org):
    from portico.billing.models import Invoice
    from tests.subscriptions.billrun_world import ONE_LATE, seed

    for organization in (org, other_org):
        with tenant(organization):
            seed(organization, 1)
    out = io.StringIO()
    with tenant(None):
        call_command("billrun", "--at", ONE_LATE.isoformat(), stdout=out)
    # Each organization's subscription renewed for February, in its own tenant and currency.
    invoices = Invoice.all_tenants.filter(organization__in=[org, other_org])
    assert sorted(invoices.values_list("organization__slug", "currency")) == sorted(
        [(org.slug, org.base_currency), (other_org.slug, other_org.base_currency)]
    )
    assert "renewed 2" in out.getvalue()


def _run_demo(org, other_org):
    with tenant(None):
        call_command("demo", stdout=io.StringIO())
    from portico.core.models import Organization

    demo_orgs = Organization.objects.filter(slug__in=["renotech", "northwind"])
    assert demo_orgs.count() == 2
    assert Customer.all_tenants.filter(organization__in=demo_orgs).exclude(organization=org).exists()


def _run_deliver_webhooks(org, other_org):
    server = _webhooks_of_both(org, other_org)
    try:
        out = io.StringIO()
        with tenant(None):
            call_command("deliver_webhooks", once=True, stdout=out)
        assert "Webhooks: 2 delivered" in out.getvalue()
        assert sorted(r.path for r in server.requests) == sorted([f"/{org.slug}", f"/{other_org.slug}"])
    finally:
        server.stop()


def _run_receive_conversation_mail(org, other_org):
    import smtplib
    import socket
    import threading
    import time

    from django.test import override_settings

    from portico.engagement.reply_addresses import CUSTOMER, reply_address
    from tests.engagement.conversation_factories import conversation
    from tests.engagement.test_conversation_smtp import DOMAIN, _free_port, reply
    from tests.factories import ContactFactory, CustomerFactory

    threads = []
    inbound = override_settings(PORTICO_INBOUND_DOMAIN=DOMAIN)
    inbound.enable()
    for organization in (org, other_org):
        with tenant(organization):
            contact = ContactFactory(
                customer=CustomerFactory(organization=organization),
                email=f"maria@{organization.slug}.example",
            )
            threads.append(reply_address(conversation(contact), kind=CUSTOMER, recipient_id=contact.pk))
            threads[-1] = (threads[-1], contact)
    port, out = _free_port(), io.StringIO()
    try:
        # a new thread starts with no organization active, as the command does in production
        runner = threading.Thread(
            target=call_command,
            args=("receive_conversation_mail",),
            kwargs={"port": port, "messages": 2, "stdout": out},
        )
        runner.start()
        for _attempt in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for n, (address, _contact) in enumerate(threads):
                smtp.send_message(reply(address, f"Reply {n}\n\n> quoted", f"<reply{n}@acme.example>"))
        runner.join(20)
    finally:
        inbound.disable()
    assert "Stopped after 2 messages." in out.getvalue()
    from portico.engagement.models import ConversationMessage

    bodies = ConversationMessage.all_tenants.filter(via="email").values_list("organization__slug", "body")
    assert sorted(bodies) == sorted([(org.slug, "Reply 0"), (other_org.slug, "Reply 1")])


COMMAND_RUNS = {
    "check_ledger": _run_check_ledger,
    "deliver_webhooks": _run_deliver_webhooks,
    "reconcile_payments": _run_reconcile_payments,
    "deliver_outbox": _run_deliver_outbox,
    "demo": _run_demo,
    "notify_expiring_cards": _run_notify_expiring_cards,
    "periodic": _run_periodic,
    "billrun": _run_billrun,
    "receive_conversation_mail": _run_receive_conversation_mail,
}
# Commands whose work happens in other threads (a server's): they need the data committed.
TRANSACTIONAL = {"receive_conversation_mail"}


def test_every_command_of_portico_is_run_here():
    ours = {name for name, app in get_commands().items() if app.startswith("portico")}
    assert ours == set(COMMAND_RUNS)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=[pytest.mark.django_db(transaction=True)] if name in TRANSACTIONAL else [])
        for name in sorted(COMMAND_RUNS)
    ],
)
def test_a_command_acts_for_each_organization_with_none_active(name, org, other_org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    assert tenancy.current_organization() == org  # the fixture's; each run below deactivates it
    COMMAND_RUNS[name](org, other_org)
