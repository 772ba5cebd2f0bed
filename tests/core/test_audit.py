from django.test import RequestFactory

from portico.billing.models import Invoice
from portico.core.audit import Actor, audit
from portico.core.models import AuditEvent
from portico.core.money import Money
from portico.core.templatetags.audit import action_label


def test_an_event_records_actor_object_customer_address_browser_and_data(org, customer, portal_login, clock):
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Firefox/140")
    request.user = portal_login
    event = audit(
        Actor.from_request(request), "customer.details_changed", customer, amount=Money(1250, "USD")
    )
    stored = AuditEvent.all_tenants.get(pk=event.pk)
    assert (stored.organization, stored.customer, stored.actor_user) == (org, customer, portal_login)
    assert stored.actor_kind == AuditEvent.ActorKind.PORTAL
    assert (stored.ip_address, stored.user_agent) == ("203.0.113.9", "Firefox/140")
    assert stored.object_repr == "Acme Interiors" and stored.at == clock.now()
    assert stored.data == {"amount": {"minor": 1250, "currency": "USD"}}


def test_audit_actions_read_as_sentences():
    assert action_label("invoice.finalized") == "Invoice finalized"
    assert action_label("credit_note.refunded") == "Credit note refunded"
    assert str(action_label("login.succeeded")) == "Signed in"


def test_auditing_a_loop_of_objects_inserts_one_row_each_and_reads_nothing(org, customer, clock):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.billing.factories import ACTOR, draft_invoice

    for _ in range(5):
        draft_invoice(customer)
    invoices = list(Invoice.all_tenants.filter(customer=customer))  # neither organization nor customer loaded
    with CaptureQueriesContext(connection) as queries:
        for invoice in invoices:
            audit(ACTOR, "invoice.reviewed", invoice)
    statements = [q["sql"].lstrip().split()[0].upper() for q in queries]
    assert statements == ["INSERT"] * len(invoices)
    events = AuditEvent.all_tenants.filter(action="invoice.reviewed")
    assert sorted(events.values_list("organization_id", "customer_id", "object_id")) == sorted(
        (org.pk, customer.pk, str(i.pk)) for i in invoices
    )
