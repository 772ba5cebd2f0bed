"""`consumer(..., for_organization=)`: a consumer that serves only some organizations is asked once
per `emit` / `emit_many` call, and the others' events get no delivery row for it."""

from portico.core import outbox
from portico.core.models import OutboxDelivery, OutboxEvent

asked: list[tuple[int, str]] = []
serving: set[int] = set()


def _serves(organization_id: int, topic: str) -> bool:
    asked.append((organization_id, topic))
    return organization_id in serving


outbox.consumer("test.selective", name="test.selective", for_organization=_serves)(lambda event: None)
outbox.consumer("test.selective", name="test.everyone")(lambda event: None)


def _reset():
    asked.clear()
    serving.clear()


def test_an_organization_the_consumer_does_not_serve_gets_no_delivery_for_it(org, other_org):
    _reset()
    serving.add(other_org.pk)
    mine = outbox.emit("test.selective", organization=org, payload={"n": 1})
    theirs = outbox.emit("test.selective", organization=other_org, payload={"n": 1})
    assert set(OutboxDelivery.all_tenants.filter(event=mine).values_list("consumer", flat=True)) == {
        "test.everyone"
    }
    assert set(OutboxDelivery.all_tenants.filter(event=theirs).values_list("consumer", flat=True)) == {
        "test.everyone",
        "test.selective",
    }
    assert mine.delivery_count == 1 and theirs.delivery_count == 2
    assert asked == [(org.pk, "test.selective"), (other_org.pk, "test.selective")]


def test_emit_many_asks_once_for_the_whole_batch(org):
    _reset()
    events = outbox.emit_many(
        "test.selective", organization=org, events=[(None, {"n": n}) for n in range(50)]
    )
    assert len(events) == 50 and asked == [(org.pk, "test.selective")]
    assert OutboxEvent.all_tenants.filter(topic="test.selective").count() == 50
    assert set(OutboxDelivery.all_tenants.values_list("consumer", flat=True)) == {"test.everyone"}
    _reset()
    assert outbox.emit_many("test.selective", organization=org, events=[]) == [] and asked == []
