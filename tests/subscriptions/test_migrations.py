"""The subscriptions app's data migrations, both ways, on rows made before them."""

from __future__ import annotations

from portico.subscriptions.models import Subscription
from tests.factories import CustomerFactory, OrganizationFactory
from tests.subscriptions.factories import subscribe, world

BEFORE = ("subscriptions", "0003_cancellation_credited")
AFTER = ("subscriptions", "0004_retention_offer_customer_downgrade_timing_form_tokens")


def test_the_retention_offered_flag_becomes_a_time_and_back(clock, migrator):
    migrate = migrator
    organization = OrganizationFactory(slug="offers")
    customer = CustomerFactory(organization=organization)
    w = world(organization)
    offered, never = subscribe(customer, w.starter), subscribe(customer, w.starter)
    Subscription.all_tenants.filter(pk=offered.pk).update(retention_offered_at=clock.now())
    old = migrate(BEFORE).get_model("subscriptions", "Subscription")
    flags = dict(old.objects.values_list("pk", "retention_offered"))
    assert flags == {offered.pk: True, never.pk: False}
    old.objects.filter(pk=offered.pk).update(updated_at=clock.now())
    new = migrate(AFTER).get_model("subscriptions", "Subscription")
    times = dict(new.objects.values_list("pk", "retention_offered_at"))
    assert times == {offered.pk: clock.now(), never.pk: None}
