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


def test_subscriptions_made_before_the_public_ids_each_get_their_own(clock, migrator):
    organization = OrganizationFactory(slug="older-subs")
    customer = CustomerFactory(organization=organization)
    w = world(organization)
    made = [subscribe(customer, w.starter).pk for _ in range(3)]
    old = migrator(("subscriptions", "0009_subscription_public_id_nullable")).get_model(
        "subscriptions", "Subscription"
    )
    old.objects.update(public_id=None)  # as they were before step 1
    migrator(("subscriptions", "0011_subscription_public_id_required"))
    public_ids = dict(Subscription.all_tenants.values_list("pk", "public_id"))
    assert set(public_ids) == set(made)
    assert all(len(i) == 14 and i.isalnum() for i in public_ids.values()), public_ids
    assert len(set(public_ids.values())) == 3
