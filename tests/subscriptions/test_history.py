"""A subscription's history (`subscriptions.history.documents_of`): its periods' invoices and the
invoices and credit notes its services issued, linked by rows (`SubscriptionDocument`), never matched
on memo text. Shown on the portal's subscription page and the console's.

The subscription: 3 seats of starter ($10.00) and 2 × storage ($2.50) from 10 Mar 2026 (term 10 Mar →
10 Apr, 31 days), first invoice $60.00 (35.00 and the 25.00 setup fee). On 20 Mar, 21 of 31 days are
left: the upgrade to pro credits 3 × $10 × 21/31 = $20.32 and charges 3 × $20 × 21/31 = $40.65."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from portico.billing.models import CreditNote, Invoice
from portico.core import tenancy
from portico.subscriptions import history, services
from portico.subscriptions.models import SubscriptionDocument
from tests.billing.factories import open_invoice
from tests.subscriptions.factories import ACTOR, subscribe, world


@pytest.fixture
def w(org):
    return world(org)


@pytest.fixture
def sub(customer, w, clock):
    return subscribe(customer, w.starter, quantity=3, addons=[(w.storage, 2)])


def _upgrade(sub, w, clock):
    clock.set("2026-03-20T15:00:00+00:00")
    services.change_plan(subscription=sub, plan=w.pro, quantity=3, actor=ACTOR)


def test_a_proration_invoice_and_credit_note_are_the_subscriptions(org, sub, w, clock):
    _upgrade(sub, w, clock)
    with tenancy.tenant(org):
        documents = history.documents_of(sub)
    assert [i.total_minor for i in documents.invoices] == [4065, 6000]  # the newest first
    assert [n.total_minor for n in documents.credit_notes] == [2032]
    kinds = sorted(SubscriptionDocument.all_tenants.filter(subscription=sub).values_list("kind", flat=True))
    assert kinds == ["credit_note", "invoice", "invoice"]  # the first term's invoice, the change's two


def test_a_manual_invoice_with_the_same_memo_is_not_the_subscriptions(org, sub, customer, w, clock):
    memo = f"Subscription {sub.number}"
    with tenancy.tenant(org):
        manual = open_invoice(customer, 999, memo=memo, source=Invoice.Source.SUBSCRIPTION)
        documents = history.documents_of(sub)
    assert manual.memo == memo
    assert manual.pk not in [i.pk for i in documents.invoices]
    assert [i.total_minor for i in documents.invoices] == [6000]


def test_a_renamed_memo_loses_nothing(org, sub, w, clock):
    _upgrade(sub, w, clock)
    Invoice.all_tenants.filter(customer=sub.customer).update(memo="Renamed by staff")
    CreditNote.all_tenants.filter(customer=sub.customer).update(reason="Renamed by staff")
    with tenancy.tenant(org):
        documents = history.documents_of(sub)
    assert len(documents.invoices) == 2 and len(documents.credit_notes) == 1


def test_another_subscriptions_documents_are_not_listed(org, sub, customer, w, clock):
    other = subscribe(customer, w.pro, quantity=1)
    with tenancy.tenant(org):
        mine, theirs = history.documents_of(sub), history.documents_of(other)
    assert {i.pk for i in mine.invoices}.isdisjoint({i.pk for i in theirs.invoices})
    assert [i.total_minor for i in theirs.invoices] == [2000]


def test_a_document_belongs_to_one_subscription_and_is_of_one_kind(org, sub, customer, w, clock):
    other = subscribe(customer, w.pro, quantity=1)
    invoice = history.invoices_of(sub).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriptionDocument.all_tenants.create(
            organization=org, subscription=other, kind="invoice", invoice=invoice
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriptionDocument.all_tenants.create(organization=org, subscription=other, kind="credit_note")


@pytest.mark.parametrize("changes", [1, 4])
def test_the_history_costs_two_queries_however_many_documents(
    org, sub, w, clock, changes, django_assert_num_queries
):
    clock.set("2026-03-20T15:00:00+00:00")
    for quantity in range(4, 4 + changes):  # each up: an invoice and a credit note
        services.change_quantity(subscription=sub, quantity=quantity, actor=ACTOR)
    with tenancy.tenant(org), django_assert_num_queries(2):
        documents = history.documents_of(sub)
    assert (len(documents.invoices), len(documents.credit_notes)) == (1 + changes, changes)


def test_the_portal_page_lists_the_change_documents_and_not_the_memo_lookalike(
    portal_client, org, sub, customer, w, clock
):
    _upgrade(sub, w, clock)
    with tenancy.tenant(org):
        manual = open_invoice(customer, 999, memo=f"Subscription {sub.number}")
        documents = history.documents_of(sub)
    page = portal_client.get(reverse("portal:subscription", kwargs={"number": sub.number})).content.decode()
    for invoice in documents.invoices:
        assert reverse("portal:invoice", kwargs={"number": invoice.number}) in page
    assert documents.credit_notes[0].number in page and "$20.32" in page
    assert reverse("portal:invoice", kwargs={"number": manual.number}) not in page


def test_documents_issued_before_the_links_existed_are_linked_by_the_migration(
    org, customer, clock, migrator
):
    """Before 0005 the history matched memo text; the migration links those documents once."""
    w = world(org)
    sub = subscribe(customer, w.starter, quantity=3, addons=[(w.storage, 2)])
    _upgrade(sub, w, clock)
    linked = sorted(
        SubscriptionDocument.all_tenants.filter(subscription=sub).values_list(
            "kind", "invoice_id", "credit_note_id"
        )
    )
    migrator(("subscriptions", "0003_cancellation_credited"))  # the links' table dropped
    migrator(("subscriptions", "0005_subscription_documents"))
    relinked = sorted(
        SubscriptionDocument.all_tenants.filter(subscription=sub).values_list(
            "kind", "invoice_id", "credit_note_id"
        )
    )
    first = sub.periods.get().invoice_id
    # the change's invoice and credit note again; the first term's invoice is its period's already
    assert relinked == [row for row in linked if row[1] != first]
    with tenancy.tenant(org):
        assert [i.total_minor for i in history.documents_of(sub).invoices] == [4065, 6000]
