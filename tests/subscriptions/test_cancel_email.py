"""The "subscription cancelled" email follows the `subscription.cancelled` event, whoever cancels
(issue 11: the bill run, dunning and the services send it one way): once per cancellation, after
commit, and not at all when the subscription was reactivated before it left."""

from __future__ import annotations

from portico.core import outbox
from portico.subscriptions import services
from tests.subscriptions.factories import ACTOR, subscribe, world


def test_a_customers_cancellation_is_emailed_once(org, customer, mailbox, django_capture_on_commit_callbacks):
    w = world(org)
    sub = subscribe(customer, w.starter, quantity=2)
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel(subscription=sub, actor=ACTOR)
    outbox.deliver_all_due()
    cancelled = [m for m in mailbox.messages if "cancelled" in m["Subject"].lower()]
    assert len(cancelled) == 1 and sub.number in cancelled[0]["Subject"]
    assert cancelled[0]["To"] == customer.email
    outbox.deliver_all_due()
    assert len([m for m in mailbox.messages if "cancelled" in m["Subject"].lower()]) == 1


def test_no_cancellation_email_once_reactivated_before_it_left(org, customer, mailbox, clock):
    w = world(org)
    sub = subscribe(customer, w.starter, quantity=2)
    services.cancel(subscription=sub, actor=ACTOR)  # its event waits in the outbox (not delivered)
    services.reactivate(subscription=sub, actor=ACTOR)
    outbox.deliver_all_due()
    assert [m for m in mailbox.messages if "cancelled" in m["Subject"].lower()] == []
