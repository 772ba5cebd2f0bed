"""Who can use the portal: the console's overview of contacts' access (a selector) and "Resend
portal link" (a service) — a fresh invitation for someone who has not set a password yet, a
sign-in link for someone who has."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portico.accounts import services
from portico.accounts.errors import NoPortalAccess
from portico.accounts.models import Invitation, User
from portico.core import clock
from portico.core.audit import Actor, audit
from portico.core.mail import send_templated_email
from portico.core.models import AuditEvent
from portico.customers.models import ContactPerson

RESEND_WINDOW = dt.timedelta(minutes=1)  # a second resend inside it is a double submit: sent once
SECOND_FACTORS = ("totp", "webauthn")  # allauth's Authenticator.Type: TOTP apps and passkeys


class AccessStatus:
    ACTIVE, INVITED, EXPIRED, DISABLED, MFA_OFF = "active", "invited", "expired", "disabled", "mfa_off"
    choices = [
        (ACTIVE, _("Active")),
        (INVITED, _("Invited")),
        (EXPIRED, _("Invitation expired")),
        (DISABLED, _("Access off")),
        (MFA_OFF, _("No second factor")),
    ]


def _open_invitations():
    return Invitation.all_tenants.filter(contact=OuterRef("pk"), accepted_at=None, revoked_at=None).order_by(
        "-created_at", "-id"
    )


def portal_access_rows(contacts: QuerySet[ContactPerson], *, status: str | None = None) -> QuerySet:
    """Contacts with portal access, a login or an open invitation, annotated with what the overview
    shows (last sign-in from the audit trail, second factor, the open invitation): one query."""
    from allauth.mfa.models import Authenticator

    now = clock.now()
    sign_ins = AuditEvent.all_tenants.filter(
        organization=OuterRef("organization"),
        action="login.succeeded",
        object_type="accounts.user",
        object_id=Cast(OuterRef("user__pk"), CharField()),
    ).order_by("-at")
    has_account = Q(user__isnull=False) & ~Q(user__password__startswith="!")  # unusable: "!..."
    rows = (
        contacts.select_related("customer", "user")
        .annotate(
            last_sign_in=Subquery(sign_ins.values("at")[:1]),
            has_mfa=Exists(Authenticator.objects.filter(user=OuterRef("user__pk"), type__in=SECOND_FACTORS)),
            invitation_sent_at=Subquery(_open_invitations().values("created_at")[:1]),
            invitation_expires_at=Subquery(_open_invitations().values("expires_at")[:1]),
        )
        .filter(Q(has_portal_access=True) | Q(user__isnull=False) | Q(invitation_sent_at__isnull=False))
        .order_by("customer__display_name", "last_name", "first_name", "pk")
    )
    if status == AccessStatus.ACTIVE:
        rows = rows.filter(has_account, has_portal_access=True)
    elif status == AccessStatus.INVITED:
        rows = rows.filter(has_portal_access=True, invitation_expires_at__gt=now)
    elif status == AccessStatus.EXPIRED:
        rows = rows.filter(has_portal_access=True, invitation_expires_at__lte=now)
    elif status == AccessStatus.DISABLED:
        rows = rows.filter(has_portal_access=False)
    elif status == AccessStatus.MFA_OFF:
        rows = rows.filter(has_account, has_portal_access=True, has_mfa=False)
    return rows


def sign_in_url(organization) -> str:
    return organization.portal_url.removesuffix("/portal/") + reverse("account_login")


def resend_portal_link(*, contact: ContactPerson, actor: Actor) -> str | None:
    """Send the contact their way into the portal: a fresh invitation (earlier links stop working)
    until they have set a password, a sign-in link after. A second call within `RESEND_WINDOW`
    sends nothing and returns None (a double click); otherwise returns "invitation" or "sign_in"."""
    with transaction.atomic():
        contact = ContactPerson.all_tenants.select_for_update().select_related("customer").get(pk=contact.pk)
        if not contact.has_portal_access:
            raise NoPortalAccess
        now = clock.now()
        if AuditEvent.all_tenants.filter(
            organization=contact.organization,
            action="portal_link.resent",
            object_type="customers.contactperson",
            object_id=str(contact.pk),
            at__gt=now - RESEND_WINDOW,
        ).exists():
            return None
        login = User.all_tenants.filter(contact=contact).first()
        if login is not None and login.has_usable_password():
            kind = "sign_in"
            send_templated_email(
                organization=contact.organization,
                to=[login.email],
                template="accounts/portal_link",
                customer=contact.customer,
                context={
                    "contact": contact,
                    "customer": contact.customer,
                    "url": sign_in_url(contact.organization),
                },
            )
        else:
            kind = "invitation"
            services.invite_contact(contact=contact, actor=actor)
        audit(actor, "portal_link.resent", contact, customer=contact.customer, email=contact.email, kind=kind)
    return kind
