"""The `data` of a webhook: the object an outbox event is about, as the business's systems know it.

Public ids only (numbers such as `INV-00012`, `SUB-…`, payment numbers, random ids where the object
has one), never primary keys; amounts as integer minor units beside an ISO 4217 `currency`; dates as
ISO 8601. The object is read when the event is fanned out, right after its transaction committed, and
the event's own facts (a cancellation's reason, a plan change's details) are added under `details`.
An object deleted since (a draft) is described from the event alone.
"""

from __future__ import annotations

from collections.abc import Callable

from django.apps import apps

from portico.core.public_ids import public_id

# What an event's payload carries besides its facts: ids that stay inside Portico.
_INTERNAL = {"object", "id", "customer", "contact", "refund", "auto_charge"}


def _iso(value):
    return value.isoformat() if value is not None else None


def _customer(customer) -> dict | None:
    if customer is None:
        return None
    return {
        "id": public_id(customer),
        "name": customer.display_name,
        "company_name": customer.company_name,
        "email": customer.email,
    }


def _plain(value):
    """An event's amounts (`{"minor", "currency"}`) as minor units; the object says the currency."""
    if isinstance(value, dict):
        if set(value) == {"minor", "currency"}:
            return value["minor"]
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _invoice(invoice, payload: dict) -> dict:
    data = {
        "object": "invoice",
        "id": public_id(invoice),
        "number": invoice.number,
        "status": invoice.status,
        "currency": invoice.currency,
        "total": invoice.total_minor,
        "balance": invoice.balance_minor,
        "issue_date": _iso(invoice.issue_date),
        "due_date": _iso(invoice.due_date),
        "customer": _customer(invoice.customer),
    }
    if payload.get("subscription"):
        data["subscription"] = payload["subscription"]
        data["period_start"] = payload.get("period_start")
    return data


def _payment(payment, payload: dict) -> dict:
    data = {
        "object": "payment",
        "id": public_id(payment),
        "number": payment.number,
        "currency": payment.currency,
        "amount": payment.amount_minor,
        "refunded": payment.refunded_minor,
        "method": payment.method,
        "received_on": _iso(payment.received_on),
        "customer": _customer(payment.customer),
    }
    refund_id = payload.get("refund")
    if refund_id:
        refund = payment.refunds.filter(pk=refund_id).first()
        if refund is not None:
            data["refund"] = {
                "amount": refund.amount_minor,
                "currency": refund.currency,
                "refunded_on": _iso(refund.refunded_on),
                "method": refund.method,
            }
    return data


def _payment_attempt(attempt, payload: dict) -> dict:
    return {
        "object": "payment_attempt",
        "status": attempt.status,
        "currency": attempt.currency,
        "amount": attempt.amount_minor,
        "decline_code": attempt.decline_code,
        "invoices": sorted(attempt.invoices.values_list("number", flat=True)),
        "customer": _customer(attempt.customer),
    }


def _subscription(subscription, payload: dict) -> dict:
    plan = subscription.plan
    return {
        "object": "subscription",
        "id": public_id(subscription),
        "number": subscription.number,
        "status": subscription.status,
        "plan": {"code": plan.code, "name": plan.name},
        "quantity": subscription.quantity,
        "currency": subscription.currency,
        "current_term_start": _iso(subscription.current_term_start),
        "current_term_end": _iso(subscription.current_term_end),
        "trial_end": _iso(subscription.trial_end),
        "customer": _customer(subscription.customer),
    }


def _customer_data(customer, payload: dict) -> dict:
    return {"object": "customer", **_customer(customer), "currency": customer.currency}


def _portal_login(user, payload: dict) -> dict:
    contact = user.contact
    return {
        "object": "portal_login",
        "email": user.email,
        "contact": {"id": public_id(contact), "name": contact.full_name} if contact else None,
        "customer": _customer(contact.customer) if contact else None,
    }


def _project(project, payload: dict) -> dict:
    data = {
        "object": "project",
        "id": public_id(project),
        "code": project.code,
        "name": project.name,
        "status": project.status,
        "billing_method": project.billing_method,
        "currency": project.currency,
        "customer": _customer(project.customer),
    }
    if payload.get("number"):  # project.invoiced names its invoice by number (`details` has the rest)
        data["invoice"] = payload["number"]
    return data


def _time_entry(entry, payload: dict) -> dict:
    return {
        "object": "time_entry",
        "id": public_id(entry),
        "project": {"id": public_id(entry.project), "code": entry.project.code},
        "task": entry.task.name,
        "staff_member": entry.staff_member.name,
        "date": _iso(entry.date),
        "hours": str(entry.hours),
        "state": entry.state,
        "dispute_comment": entry.dispute_comment,
        "customer": _customer(entry.project.customer),
    }


def _review(review, payload: dict) -> dict:
    author = review.author
    return {
        "object": "review",
        "id": public_id(review),
        "rating": review.rating,
        "comment": review.comment,
        "edited": bool(payload.get("edited")),
        "author": {"id": public_id(author), "name": author.full_name} if author else None,
        "reply": review.reply or None,
        "submitted_at": _iso(review.created_at),
        "updated_at": _iso(review.updated_at),
        "customer": _customer(review.customer),
    }


def _comment(message, payload: dict) -> dict:
    """A message of a conversation (by the customer or by staff; from the portal, the console, an
    email reply or the API), with the thread it is in and what that thread is about."""
    conversation = message.conversation
    about = conversation.about
    return {
        "object": "comment",
        "id": public_id(message),
        "conversation": {
            "id": public_id(conversation),
            "subject": conversation.subject,
            "topic": conversation.topic,
            "about": public_id(about) if about is not None else None,
            "status": conversation.status,
        },
        "author": {"kind": message.author_kind, "name": message.author_name},
        "body": message.body,
        "via": message.via,
        "created_at": _iso(message.created_at),
        "customer": _customer(conversation.customer),
    }


BUILDERS: dict[str, tuple[Callable[[object, dict], dict], tuple[str, ...]]] = {
    "billing.invoice": (_invoice, ("customer",)),
    "billing.payment": (_payment, ("customer",)),
    "payments.paymentattempt": (_payment_attempt, ("customer",)),
    "subscriptions.subscription": (_subscription, ("customer", "plan")),
    "customers.customer": (_customer_data, ()),
    "accounts.user": (_portal_login, ("contact__customer",)),
    "projects.project": (_project, ("customer",)),
    "projects.timeentry": (_time_entry, ("project__customer", "task", "staff_member")),
    "engagement.review": (_review, ("customer", "author")),
    "engagement.conversationmessage": (_comment, ("conversation__customer",)),
}


def data_of(event) -> dict:
    """The webhook `data` for one outbox event."""
    payload = event.payload
    label = payload.get("object", "")
    builder = BUILDERS.get(label)
    data = None
    if builder is not None:
        function, related = builder
        model = apps.get_model(label)
        obj = model._base_manager.filter(pk=payload.get("id")).select_related(*related).first()
        if obj is not None:
            data = function(obj, payload)
    if data is None:  # gone since, or a kind without a builder: what the event says
        data = {"object": label.rsplit(".", 1)[-1] or None}
        if payload.get("number"):
            data["number"] = payload["number"]
    details = {k: _plain(v) for k, v in payload.items() if k not in _INTERNAL and k not in data}
    if details:
        data["details"] = details
    return data


def data_for(event_type: str, event) -> dict:
    """The `data` of `event_type` for this event: the event's object, except for a renewal, which
    is about the subscription whose new period the invoice bills."""
    if event_type == "subscription.renewed":
        from portico.subscriptions.models import Subscription

        payload = event.payload
        subscription = (
            Subscription.all_tenants.filter(
                organization_id=event.organization_id, number=payload.get("subscription")
            )
            .select_related("customer", "plan")
            .first()
        )
        if subscription is not None:
            return {
                **_subscription(subscription, payload),
                "invoice": payload.get("number"),
                "period_start": payload.get("period_start"),
            }
    return data_of(event)
