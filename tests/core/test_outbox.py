"""The transactional outbox: events exist exactly when their change commits, each consumer gets each
event at least once, failures are retried with backoff and end visibly failed."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import transaction

from portico.core import outbox
from portico.core.models import AuditEvent, OutboxDelivery, OutboxEvent
from tests.conftest import tenant_client
from tests.factories import staff_user

Status = OutboxDelivery.Status

# Real consumers of test topics: they record what they receive, and fail while told to.
received: list[tuple[str, int]] = []
failing: dict[str, Exception] = {}


def _record(name):
    def handle(event):
        if name in failing:
            raise failing[name]
        received.append((name, event.pk))

    return handle


outbox.consumer("test.thing_happened", name="test.first")(_record("first"))
outbox.consumer("test.thing_happened", name="test.second")(_record("second"))
outbox.consumer("test.flaky", name="test.flaky")(_record("flaky"))


@pytest.fixture(autouse=True)
def _fresh_consumers():
    received.clear()
    failing.clear()
    yield
    received.clear()
    failing.clear()


def emit(org, topic="test.thing_happened", **kwargs):
    return outbox.emit(topic, organization=org, payload={"n": 1}, **kwargs)


def test_a_rolled_back_change_emits_nothing(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        emit(org)
        raise RuntimeError("the change failed")
    assert not OutboxEvent.all_tenants.exists() and not OutboxDelivery.all_tenants.exists()
    assert outbox.deliver_all_due().claimed == 0
    assert received == []


def test_each_consumer_gets_a_committed_event_once(org, clock, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event = emit(org)
    assert sorted(received) == [("first", event.pk), ("second", event.pk)]
    deliveries = OutboxDelivery.all_tenants.filter(event=event)
    assert {(d.consumer, d.status, d.attempts, d.delivered_at) for d in deliveries} == {
        ("test.first", Status.DELIVERED, 1, clock.now()),
        ("test.second", Status.DELIVERED, 1, clock.now()),
    }
    clock.advance(days=1)
    assert outbox.deliver_all_due().claimed == 0
    assert len(received) == 2


def test_nothing_is_delivered_before_commit(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        emit(org, topic="test.flaky")
    assert received == [] and len(callbacks) == 1
    assert OutboxDelivery.all_tenants.get().status == Status.PENDING


def test_an_event_without_consumers_is_stored_with_no_deliveries(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        event = emit(org, topic="test.nobody_listens")
    assert event.delivery_count == 0 and not event.deliveries.exists()
    assert OutboxEvent.all_tenants.get().topic == "test.nobody_listens"
    assert callbacks == []


def test_an_idempotency_key_emits_an_event_once_per_organization(
    org, other_org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = emit(org, key="thing:1")
        again = emit(org, key="thing:1")
        elsewhere = emit(other_org, key="thing:1")
    assert again.pk == first.pk and elsewhere.pk != first.pk
    assert OutboxEvent.all_tenants.filter(organization=org).count() == 1
    assert sorted(received) == sorted(
        [("first", first.pk), ("second", first.pk), ("first", elsewhere.pk), ("second", elsewhere.pk)]
    )


def test_a_failing_consumer_is_retried_with_backoff_then_marked_failed(
    org, clock, django_capture_on_commit_callbacks
):
    failing["flaky"] = ConnectionRefusedError("[Errno 111] Connection refused")
    start = clock.now()
    with django_capture_on_commit_callbacks(execute=True):
        emit(org, topic="test.flaky")
    delivery = OutboxDelivery.all_tenants.get()
    waits = []
    while delivery.status == Status.PENDING:
        assert "Connection refused" in delivery.last_error
        waits.append((delivery.available_at - clock.now()).total_seconds())
        clock.set(delivery.available_at - dt.timedelta(seconds=1))
        assert outbox.deliver_all_due().claimed == 0  # not before its time
        clock.set(delivery.available_at)
        outbox.deliver_all_due()
        delivery.refresh_from_db()
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert (delivery.status, delivery.attempts) == (Status.FAILED, outbox.MAX_ATTEMPTS)
    assert delivery.last_error == "ConnectionRefusedError: [Errno 111] Connection refused"
    assert clock.now() - start == dt.timedelta(seconds=sum(waits))
    clock.advance(days=30)
    assert outbox.deliver_all_due().claimed == 0  # failed stays failed until someone retries
    failed = AuditEvent.all_tenants.get(action="outbox.delivery_failed")
    assert failed.data["attempts"] == 10 and "Connection refused" in failed.data["error"]
    assert received == []


def test_staff_see_a_failed_delivery_and_retry_it(org, other_org, clock, django_capture_on_commit_callbacks):
    failing["flaky"] = RuntimeError("the integration is down")
    with django_capture_on_commit_callbacks(execute=True):
        emit(org, topic="test.flaky")
    OutboxDelivery.all_tenants.update(status=Status.FAILED, attempts=outbox.MAX_ATTEMPTS)
    delivery = OutboxDelivery.all_tenants.get()

    staff = tenant_client(org)
    staff.force_login(staff_user(org), backend="portico.accounts.backends.TenantAuthenticationBackend")
    page = staff.get("/console/core/outboxdelivery/?status__exact=failed").content.decode()
    assert "test.flaky" in page and "Failed" in page
    detail = staff.get(f"/console/core/outboxdelivery/{delivery.pk}/change/").content.decode()
    assert "the integration is down" in detail

    outsider = tenant_client(other_org)
    outsider.force_login(
        staff_user(other_org, email="staff@northwind.example"),
        backend="portico.accounts.backends.TenantAuthenticationBackend",
    )
    assert "test.flaky" not in outsider.get("/console/core/outboxdelivery/").content.decode()
    assert outsider.get(f"/console/core/outboxdelivery/{delivery.pk}/change/").status_code in (302, 404)

    del failing["flaky"]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            "/console/core/outboxdelivery/",
            {"action": "retry", "_selected_action": [delivery.pk]},
        )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.DELIVERED, 1)
    assert received == [("flaky", delivery.event_id)]
    assert AuditEvent.all_tenants.filter(action="outbox.delivery_retried", organization=org).count() == 1


def test_a_delivery_left_by_a_dead_worker_is_delivered_again_after_its_lease(
    org, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        event = emit(org, topic="test.flaky")
    dead_token, [claimed] = outbox.claim()  # a worker takes it, then dies before delivering
    assert claimed.status == Status.IN_PROGRESS and claimed.claimed_until == clock.now() + outbox.LEASE

    clock.advance(minutes=4)
    assert outbox.deliver_all_due().claimed == 0  # its lease still holds
    assert received == []
    clock.advance(minutes=1, seconds=1)
    assert outbox.deliver_all_due().delivered == 1
    assert received == [("flaky", event.pk)]
    claimed.refresh_from_db()
    assert (claimed.status, claimed.attempts) == (Status.DELIVERED, 2)

    # The dead worker's late report changes nothing: its token no longer holds the lease.
    outbox._record_failure(claimed, dead_token, RuntimeError("late"))
    claimed.refresh_from_db()
    assert claimed.status == Status.DELIVERED and claimed.last_error == ""


def test_the_sweeper_command_delivers_what_is_due_and_says_so(
    org, clock, capsys, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        emit(org)
        emit(org, topic="test.flaky")
    failing["flaky"] = RuntimeError("down")
    call_command("deliver_outbox", "--once")
    assert (
        capsys.readouterr().out.strip()
        == "Outbox: 2 delivered, 1 to retry, 0 failed; 1 waiting, 0 failed in all"
    )
    call_command("deliver_outbox", "--once")
    assert (
        capsys.readouterr().out.strip()
        == "Outbox: 0 delivered, 0 to retry, 0 failed; 1 waiting, 0 failed in all"
    )
