"""Webhook endpoints in the console: owners and administrators register them (hostile addresses and
events are form errors), see the signing secret and the delivery log, rotate the secret, and
redeliver — each audited. Other roles are refused."""

from __future__ import annotations

import json

import pytest

from portico.accounts.models import StaffRole
from portico.core.models import AuditEvent
from portico.notifications import delivery
from portico.notifications.models import WebhookDelivery, WebhookEndpoint
from tests.billing.factories import open_invoice
from tests.conftest import tenant_client
from tests.factories import staff_user
from tests.notifications.factories import endpoint
from tests.notifications.signature import verify_portico_signature

BACKEND = "portico.accounts.backends.TenantAuthenticationBackend"
ADD = "/console/notifications/webhookendpoint/add/"
LOG = "/console/notifications/webhookdelivery/"


def console(org, role=StaffRole.OWNER):
    client = tenant_client(org)
    client.force_login(staff_user(org, email=f"{role}@renotech.example", role=role), backend=BACKEND)
    return client


def form(url, events=("invoice.finalized", "invoice.paid"), **fields):
    return {
        "url": url,
        "description": "CRM",
        "events": list(events),
        "is_enabled": "on",
        "_save": "Save",
        **fields,
    }


def test_an_owner_registers_an_endpoint_and_sees_its_secret(org, receiver, clock):
    response = console(org).post(ADD, form(receiver.url()))
    assert response.status_code == 302, response.content.decode()[:2000]
    created = WebhookEndpoint.objects.get()
    assert (created.url, created.events, created.is_enabled) == (
        receiver.url(),
        ["invoice.finalized", "invoice.paid"],
        True,
    )
    assert created.secret.startswith("whsec_") and len(created.secret) > 30
    [audited] = AuditEvent.objects.filter(action="webhook_endpoint.created")
    assert audited.actor_label and created.secret not in json.dumps(audited.data)
    page = console(org, StaffRole.ADMINISTRATOR).get(
        f"/console/notifications/webhookendpoint/{created.pk}/change/"
    )
    assert page.status_code == 200 and created.secret in page.content.decode()
    assert "Nothing sent yet" in page.content.decode()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/hooks", "https:// only"),
        ("javascript:alert(1)", "https:// only"),
        ("https://user:secret@93.184.215.14/hooks", "user name and password"),
        ("https://10.0.0.5/hooks", "private network"),
        ("https://192.168.1.20/hooks", "private network"),
        ("https://[fd00::1]/hooks", "private network"),
        ("https://169.254.169.254/latest/meta-data/", "not reachable on the public internet"),
        ("https://0.0.0.0/hooks", "not reachable on the public internet"),
        ("https://127.0.0.1:8000/hooks", "this server itself"),
        ("https://[::1]/hooks", "this server itself"),
        ("https://localhost/hooks", "this server itself"),
        ("https://2130706433/hooks", "this server itself"),  # 127.0.0.1 written as a number
        ("http://93.184.215.14/hooks", "https:// only"),
        ("https://no-such-host.invalid/hooks", "No server answers"),
        ("https://exa mple.com/", "complete address"),
        ("https://example.com:99999/", "not valid"),
        ("", "This field is required"),
    ],
)
def test_a_hostile_address_is_refused_with_a_form_error(org, settings, url, message):
    settings.PORTICO_WEBHOOKS_ALLOW_LOOPBACK = False  # production
    response = console(org).post(ADD, form(url))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_loopback_is_allowed_only_where_the_setting_says(org, settings, receiver):
    settings.PORTICO_WEBHOOKS_ALLOW_LOOPBACK = True
    assert console(org).post(ADD, form(receiver.url())).status_code == 302


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([], "This field is required"),
        (["invoice.finalized", "evil.event"], "Select a valid choice"),
        (["<script>"], "Select a valid choice"),
    ],
)
def test_unknown_or_no_events_are_refused_with_a_form_error(org, receiver, events, message):
    response = console(org).post(ADD, form(receiver.url(), events=events))
    assert response.status_code == 200 and message in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_staff_in_other_roles_cannot_open_webhooks(org):
    target = endpoint(org)
    for role in (StaffRole.FINANCE, StaffRole.SUPPORT, StaffRole.READ_ONLY):
        client = console(org, role)
        assert client.get("/console/notifications/webhookendpoint/").status_code == 403
        assert client.get(f"/console/notifications/webhookendpoint/{target.pk}/change/").status_code == 403
        assert client.get(LOG).status_code == 403


def test_redeliver_from_the_console_sends_the_same_event_again_and_is_audited(
    org, customer, receiver, clock, django_capture_on_commit_callbacks
):
    target = endpoint(org, url=receiver.url())
    with django_capture_on_commit_callbacks(execute=True):
        open_invoice(customer, 5000)
    [sent] = receiver.requests
    row = WebhookDelivery.objects.get()
    assert row.status == WebhookDelivery.Status.DELIVERED

    client = console(org)
    page = client.get(f"/console/notifications/webhookendpoint/{target.pk}/change/").content.decode()
    assert "invoice.finalized" in page and "Delivered" in page  # the delivery log
    clock.advance(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            LOG, {"action": "redeliver", "_selected_action": [row.pk], "index": "0", "post": "yes"}
        )
    assert response.status_code == 302
    assert len(receiver.requests) == 2 and receiver.requests[1].body == sent.body
    again = receiver.requests[1]
    assert verify_portico_signature(
        target.secret, again.body, again.headers["Portico-Signature"], now=clock.now().timestamp()
    )
    row.refresh_from_db()
    assert (row.status, row.attempts) == (WebhookDelivery.Status.DELIVERED, 1)
    [audited] = AuditEvent.objects.filter(action="webhook.redelivered")
    assert (
        audited.actor_label.startswith("owner@renotech.example")
        and audited.data["webhook_id"] == row.webhook_id
    )


def test_support_may_not_redeliver(org, customer, receiver):
    endpoint(org, url=receiver.url())
    open_invoice(customer, 5000)
    from portico.core import outbox

    outbox.deliver_all_due()
    row = WebhookDelivery.objects.get()
    response = console(org, StaffRole.SUPPORT).post(
        LOG, {"action": "redeliver", "_selected_action": [row.pk], "index": "0", "post": "yes"}
    )
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="webhook.redelivered").exists()


def test_rotating_the_secret_signs_the_next_attempts_with_the_new_one(org, customer, receiver, clock):
    target = endpoint(org, url=receiver.url())
    old = target.secret
    response = console(org).post(
        "/console/notifications/webhookendpoint/",
        {"action": "rotate_secret", "_selected_action": [target.pk], "index": "0", "post": "yes"},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.secret != old and target.secret.startswith("whsec_")
    assert AuditEvent.objects.filter(action="webhook_endpoint.secret_rotated").count() == 1
    open_invoice(customer, 5000)
    from portico.core import outbox

    outbox.deliver_all_due()
    delivery.send_all_due()
    [request] = receiver.requests
    header = request.headers["Portico-Signature"]
    now = clock.now().timestamp()
    assert verify_portico_signature(target.secret, request.body, header, now=now)
    assert not verify_portico_signature(old, request.body, header, now=now)


def test_editing_and_deleting_an_endpoint_are_audited(org, receiver):
    target = endpoint(org, url=receiver.url())
    client = console(org)
    change = f"/console/notifications/webhookendpoint/{target.pk}/change/"
    response = client.post(change, form(receiver.url("/v2"), events=["payment.failed"], is_enabled=""))
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.url, target.events, target.is_enabled) == (receiver.url("/v2"), ["payment.failed"], False)
    [changed] = AuditEvent.objects.filter(action="webhook_endpoint.changed")
    assert set(changed.data["changes"]) == {"url", "events", "enabled", "description"}
    response = client.post(f"/console/notifications/webhookendpoint/{target.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not WebhookEndpoint.objects.exists()
    assert AuditEvent.objects.filter(action="webhook_endpoint.deleted").count() == 1
