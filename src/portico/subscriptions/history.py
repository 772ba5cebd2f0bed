"""A subscription's documents: the invoices of its billed periods (`BillingPeriod.invoice`, the bill
run's renewals included) and the invoices and credit notes its services issued
(`SubscriptionDocument`: proration, conversions, resumes, reactivations, cancellation credits).

Linked by rows, never matched on memo text: a manual invoice with the same memo is not the
subscription's, and renaming a memo loses nothing. Two queries, whatever the number of documents.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from portico.billing.models import CreditNote, Invoice
from portico.subscriptions.models import BillingPeriod, Subscription, SubscriptionDocument


@dataclass(frozen=True)
class Documents:
    invoices: list[Invoice]  # issued (void ones included), the newest first
    credit_notes: list[CreditNote]  # issued, the newest first

    def __bool__(self) -> bool:
        return bool(self.invoices or self.credit_notes)


def invoices_of(subscription: Subscription):
    """The subscription's issued invoices, as a query (the newest first)."""
    periods = BillingPeriod.all_tenants.filter(subscription_id=subscription.pk, invoice__isnull=False)
    linked = SubscriptionDocument.all_tenants.filter(
        subscription_id=subscription.pk, kind=SubscriptionDocument.Kind.INVOICE
    )
    return (
        Invoice.all_tenants.filter(
            organization_id=subscription.organization_id, customer_id=subscription.customer_id
        )
        .filter(Q(pk__in=periods.values("invoice_id")) | Q(pk__in=linked.values("invoice_id")))
        .issued()
        .order_by("-issue_date", "-id")
    )


def credit_notes_of(subscription: Subscription):
    """The credit notes the subscription's services issued, as a query (the newest first)."""
    linked = SubscriptionDocument.all_tenants.filter(
        subscription_id=subscription.pk, kind=SubscriptionDocument.Kind.CREDIT_NOTE
    )
    return (
        CreditNote.all_tenants.filter(
            organization_id=subscription.organization_id,
            customer_id=subscription.customer_id,
            pk__in=linked.values("credit_note_id"),
        )
        .exclude(status=CreditNote.Status.DRAFT)
        .order_by("-issue_date", "-id")
    )


def documents_of(subscription: Subscription) -> Documents:
    """Every issued invoice and credit note of the subscription (two queries)."""
    return Documents(list(invoices_of(subscription)), list(credit_notes_of(subscription)))
