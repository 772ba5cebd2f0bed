"""A portal user's change of their own email address: a link to the new address, the change only when
it is followed. The login and its contact person change together; the business gets a change notice."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.core import signing
from django.db import transaction

from portico.accounts.models import User
from portico.core.audit import Actor, audit
from portico.core.mail import send_templated_email
from portico.customers import services as customer_services
from portico.customers.errors import EmailChangeInvalid
from portico.customers.models import ContactPerson

EMAIL_CHANGE_SALT = "portico.profile.email-change"
EMAIL_CHANGE_MAX_AGE = 24 * 3600


def _customer_of(user):
    return user.contact.customer if user.contact_id else None


def request_email_change(*, user, new_email: str, actor: Actor, confirm_url) -> str:
    """Send a link to the new address; the change happens only when it is followed (re-verified).

    The token carries the current address too, so it is single use: once the email changed,
    the same link no longer matches.
    """
    token = signing.dumps({"u": user.pk, "from": user.email, "to": new_email}, salt=EMAIL_CHANGE_SALT)
    audit(
        actor,
        "email.change_requested",
        user,
        organization=user.organization,
        customer=_customer_of(user),
        to=new_email,
    )
    send_templated_email(
        organization=user.organization,
        to=[new_email],
        template="accounts/email_change",
        customer=_customer_of(user),
        context={"user": user, "url": confirm_url(token), "new_email": new_email},
    )
    return token


def confirm_email_change(*, user, token: str, actor: Actor):
    try:
        payload = signing.loads(token, salt=EMAIL_CHANGE_SALT, max_age=EMAIL_CHANGE_MAX_AGE)
    except signing.BadSignature as exc:
        raise EmailChangeInvalid from exc
    if payload.get("u") != user.pk or payload.get("from") != user.email:
        raise EmailChangeInvalid
    new_email = payload["to"]
    with transaction.atomic():
        user = User.all_tenants.select_for_update().get(pk=user.pk)
        if User.all_tenants.filter(organization=user.organization_id, email__iexact=new_email).exists():
            raise EmailChangeInvalid
        if (
            user.contact_id
            and ContactPerson.all_tenants.filter(
                customer_id=user.contact.customer_id, email__iexact=new_email
            )
            .exclude(pk=user.contact_id)
            .exists()
        ):
            raise EmailChangeInvalid
        old_email = user.email
        user.email = new_email
        user.save(update_fields=["email"])
        EmailAddress.objects.filter(user=user).delete()
        if user.contact_id:
            ContactPerson.all_tenants.filter(pk=user.contact_id).update(email=new_email)
        audit(
            actor,
            "email.changed",
            user,
            organization=user.organization,
            customer=_customer_of(user),
            previous=old_email,
            email=new_email,
        )
        # The old address learns of the change: if it was not its owner, they can react.
        send_templated_email(
            organization=user.organization,
            to=[old_email],
            template="accounts/email_changed",
            customer=_customer_of(user),
            context={"user": user, "old_email": old_email, "new_email": new_email},
        )
        if user.contact_id:
            customer_services.notify_business(
                organization=user.organization,
                customer=user.contact.customer,
                actor=actor,
                subject=f"email of {user.get_full_name()}",
                changes={"email": {"from": old_email, "to": new_email}},
            )
    return user
