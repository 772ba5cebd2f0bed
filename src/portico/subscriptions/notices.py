"""The emails about subscriptions, each sent once (after commit, through the outbox): upcoming
renewal (N days before, once per renewal date), trial ending (once per trial end), cancelled (once).

"Cancelled" follows the `subscription.cancelled` event, whoever cancelled: the customer or staff
(`services.cancel`), the bill run at a non-renewing subscription's term end, dunning's final action.
The consumer below sends it when the event is delivered.

"Once" is a keyed marker in the outbox (`subscription.notice`, no consumer): its key is unique per
organization, so a second bill run — or the same run again after a crash — finds it and sends
nothing; the marker and the email commit together or not at all."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from portico.core import clock, outbox, tenancy
from portico.core.mail import send_templated_email
from portico.core.models import OutboxEvent
from portico.payments.notices import billing_recipients
from portico.subscriptions.models import Status, Subscription, SubscriptionSettings

NOTICE_TOPIC = "subscription.notice"
CHUNK = 500


def subscription_settings(organization) -> SubscriptionSettings:
    return tenancy.related_setting(organization, "subscription_settings", SubscriptionSettings)


def _first_time(subscription, key: str) -> bool:
    """Mark `key` as sent for the subscription's organization; False when it was sent before."""
    organization_id = subscription.organization_id
    if OutboxEvent.all_tenants.filter(organization_id=organization_id, key=key).exists():
        return False
    try:
        with transaction.atomic():
            OutboxEvent.all_tenants.create(
                organization_id=organization_id,
                topic=NOTICE_TOPIC,
                key=key,
                payload={"subscription": subscription.pk},
                created_at=clock.now(),
                delivery_count=0,
            )
    except IntegrityError:  # a concurrent run marked it first
        return False
    return True


def _send(subscription, template: str, **context) -> list[str]:
    organization = subscription.organization
    recipients = billing_recipients(subscription.customer)
    for address in recipients:
        send_templated_email(
            organization=organization,
            to=[address],
            template=f"subscriptions/{template}",
            customer=subscription.customer,
            context={
                "subscription": subscription,
                "customer": subscription.customer,
                "plan": subscription.plan,
                "subscription_url": organization.public_url(f"/portal/subscriptions/{subscription.number}/"),
                **context,
            },
        )
    return recipients


def subscription_cancelled(subscription, *, unpaid: bool = False) -> bool:
    """ "Your subscription is cancelled", once per subscription and cancellation date."""
    with transaction.atomic():
        if not _first_time(subscription, f"cancelled:{subscription.pk}:{subscription.cancelled_on}"):
            return False
        _send(subscription, "cancelled", unpaid=unpaid)
    return True


@outbox.consumer("subscription.cancelled", name="subscriptions.cancelled_email")
def cancelled_email(event) -> None:
    subscription = (
        Subscription.all_tenants.filter(pk=event.payload["id"])
        .select_related("organization", "customer", "plan")
        .first()
    )
    if subscription is None or subscription.status != Status.CANCELLED:
        return  # reactivated before the email left: nothing to say
    subscription_cancelled(subscription, unpaid=bool(event.payload.get("unpaid")))


def cancelled_event(subscription, **data) -> tuple[None, dict]:
    """The `subscription.cancelled` event's (key, payload), as `services` emits it (for `emit_many`)."""
    payload = {
        "object": subscription._meta.label_lower,
        "id": subscription.pk,
        "customer": subscription.customer_id,
        "number": subscription.number,
    }
    payload.update(data)
    return None, payload


def send_notices(at: dt.datetime | None = None) -> int:
    """Upcoming renewals and trials ending soon, for every organization; the number sent."""
    from portico.core.models import Organization

    at = at or clock.now()
    sent = 0
    organizations = Organization.objects.filter(
        pk__in=Subscription.all_tenants.filter(status__in=(Status.LIVE, Status.IN_TRIAL)).values(
            "organization_id"
        )
    )
    for organization in organizations:
        today = _local(at, organization)
        settings = subscription_settings(organization)
        kinds = []
        if settings.renewal_notice_days:
            kinds.append(
                (
                    "renewal_upcoming",
                    dict(status=Status.LIVE, next_billing_on__gt=today),
                    "next_billing_on",
                    today + dt.timedelta(days=settings.renewal_notice_days),
                )
            )
        if settings.trial_ending_notice_days:
            kinds.append(
                (
                    "trial_ending",
                    dict(status=Status.IN_TRIAL, trial_end__gt=today),
                    "trial_end",
                    today + dt.timedelta(days=settings.trial_ending_notice_days),
                )
            )
        for template, condition, date_field, until in kinds:
            due = Subscription.all_tenants.filter(
                organization=organization, **condition, **{f"{date_field}__lte": until}
            ).order_by("pk")
            last = 0
            while True:  # in chunks of ids: flat memory
                chunk = list(due.filter(pk__gt=last).select_related("customer", "plan")[:CHUNK])
                if not chunk:
                    break
                last = chunk[-1].pk
                for subscription in chunk:
                    on = getattr(subscription, date_field)
                    subscription.organization = organization
                    with transaction.atomic():
                        if _first_time(subscription, f"{template}:{subscription.pk}:{on}"):
                            context = (
                                {"renews_on": on} if template == "renewal_upcoming" else {"trial_end": on}
                            )
                            _send(subscription, template, **context)
                            if template == "trial_ending":  # for webhooks, with the email
                                _emit_trial_ending(subscription, on)
                            sent += 1
    return sent


def _emit_trial_ending(subscription, trial_end: dt.date) -> None:
    outbox.emit_for(
        "subscription.trial_ending", subscription, once=False, number=subscription.number, trial_end=trial_end
    )


def _local(at: dt.datetime, organization) -> dt.date:
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo(organization.time_zone)).date()
