"""Changes to customers' records, from the portal and the console alike: company details, contact
persons, a portal user's own name, phone and email. Each one is audited; a change a customer makes
is also sent to the business as a change notice (staff do not get notices of their own edits).
A login's email change is accounts' (`accounts.email_change`)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from portico.core import clock, outbox
from portico.core.audit import Actor, audit
from portico.core.models import AuditEvent
from portico.customers.errors import CurrencyLocked
from portico.customers.models import ContactPerson, Customer


def _changes(obj, data: dict) -> dict:
    return {
        field: {"from": getattr(obj, field), "to": value}
        for field, value in data.items()
        if getattr(obj, field) != value
    }


def _apply_changes(obj, data: dict) -> dict:
    """Set and save only the fields whose value differs; return them as {field: {from, to}}."""
    changes = _changes(obj, data)
    if changes:
        for field, change in changes.items():
            setattr(obj, field, change["to"])
        obj.save(update_fields=list(changes))
    return changes


def _emit_updated(customer: Customer, changed: str, fields) -> None:
    """`customer.updated` (for webhooks), in the change's transaction: what changed, not the values."""
    outbox.emit_for("customer.updated", customer, once=False, changed=changed, fields=sorted(fields))


# Models whose rows are in their customer's currency (invoices, credit notes, payments, payment
# attempts). The apps that own them register them in `AppConfig.ready()` (they sit above this one);
# once a customer has one such row, its currency is fixed.
CURRENCY_DOCUMENTS: list = []


def currency_fixed_by(model) -> None:
    if model not in CURRENCY_DOCUMENTS:
        CURRENCY_DOCUMENTS.append(model)


def has_documents(customer: Customer) -> bool:
    return any(model._base_manager.filter(customer_id=customer.pk).exists() for model in CURRENCY_DOCUMENTS)


def check_currency_change(customer: Customer, currency: str) -> None:
    """Refuse a new currency for a customer that already has documents (CurrencyLocked)."""
    if customer.pk and currency != customer.currency and has_documents(customer):
        raise CurrencyLocked


def staff_addresses(organization) -> list[str]:
    # The user model through Django's setting: customers sits below accounts and does not import it.
    User = get_user_model()
    return list(
        User.all_tenants.filter(organization=organization, is_staff=True, is_active=True, contact=None)
        .order_by("email")
        .values_list("email", flat=True)
    )


def notify_business(*, organization, customer: Customer, actor: Actor, subject: str, changes: dict) -> None:
    """A change notice to the business's staff: who changed what, from what to what (only for
    changes customers make: staff know what they changed in the console)."""
    from portico.core.mail import send_templated_email

    if actor.kind != AuditEvent.ActorKind.PORTAL:
        return
    to = staff_addresses(organization)
    if not to:
        return
    send_templated_email(
        organization=organization,
        to=to,
        template="customers/change_notice",
        context={
            "customer": customer,
            "actor_label": actor.label,
            "subject": subject,
            "changes": changes,
            "at": clock.now(),
        },
    )


def update_company(*, customer: Customer, data: dict, actor: Actor) -> Customer:
    """Update the customer's details and addresses (validated by customers.forms.CompanyForm in the
    portal, the customer's form in the console). The currency is fixed once a document exists:
    documents lock the customer row first, so none can appear between the check and the change."""
    with transaction.atomic():
        customer = Customer.all_tenants.select_for_update().get(pk=customer.pk)
        if "currency" in data:
            check_currency_change(customer, data["currency"])
        changes = _apply_changes(customer, data)
        if not changes:
            return customer
        audit(actor, "customer.details_changed", customer, changes=changes)
        _emit_updated(customer, "details", changes)
        notify_business(
            organization=customer.organization,
            customer=customer,
            actor=actor,
            subject="company details",
            changes=changes,
        )
    return customer


def add_contact(*, customer: Customer, data: dict, actor: Actor) -> ContactPerson:
    with transaction.atomic():
        contact = ContactPerson.all_tenants.create(
            organization=customer.organization, customer=customer, **data
        )
        audit(actor, "contact.added", contact, **data)
        _emit_updated(customer, "contact_added", data)
        notify_business(
            organization=customer.organization,
            customer=customer,
            actor=actor,
            subject=f"new contact person {contact.full_name}",
            changes={field: {"from": "", "to": value} for field, value in data.items()},
        )
    return contact


def update_contact(*, contact: ContactPerson, data: dict, actor: Actor) -> ContactPerson:
    with transaction.atomic():
        contact = ContactPerson.all_tenants.select_for_update().get(pk=contact.pk)
        changes = _apply_changes(contact, data)
        if not changes:
            return contact
        audit(actor, "contact.changed", contact, changes=changes)
        _emit_updated(contact.customer, "contact", changes)
        notify_business(
            organization=contact.organization,
            customer=contact.customer,
            actor=actor,
            subject=f"contact person {contact.full_name}",
            changes=changes,
        )
    return contact


def update_own_details(*, user, data: dict, actor: Actor):
    """A portal user's own name and phone, kept the same on their login and their contact person."""
    with transaction.atomic():
        contact = ContactPerson.all_tenants.select_for_update().get(pk=user.contact_id)
        changes = _apply_changes(contact, data)
        if not changes:
            return contact
        user.first_name, user.last_name = contact.first_name, contact.last_name
        user.save(update_fields=["first_name", "last_name"])
        audit(actor, "contact.changed", contact, changes=changes)
        _emit_updated(contact.customer, "contact", changes)
        notify_business(
            organization=contact.organization,
            customer=contact.customer,
            actor=actor,
            subject=f"contact person {contact.full_name}",
            changes=changes,
        )
    return contact


def create_customer(*, organization, data: dict, actor: Actor) -> Customer:
    """A new customer of the organization (validated by the caller: the console's form, the API's
    schema and `full_clean`)."""
    with transaction.atomic():
        customer = Customer.all_tenants.create(organization=organization, **data)
        audit(actor, "customer.created", customer, fields=sorted(data))
    return customer


def remove_contact(*, contact: ContactPerson, actor: Actor) -> None:
    """Delete a contact person (and with them their portal login). Callers that manage portal
    access turn it off first (`accounts.services.set_portal_access`), which keeps the customer's
    last portal admin and ends the contact's sessions."""
    with transaction.atomic():
        contact = ContactPerson.all_tenants.select_for_update().get(pk=contact.pk)
        customer, label = contact.customer, str(contact)
        contact.delete()
        audit(
            actor,
            "contact.removed",
            None,
            organization=customer.organization,
            customer=customer,
            contact=label,
        )
