"""Portal access: invitations, access and roles of contact persons, sessions.

Every function names its actor, runs in one transaction, audits, and sends its email only when
the transaction commits (core.mail.send_templated_email).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from portico.accounts.errors import EmailTaken, InvitationInvalid, LastAdmin, NoEmailAddress, OwnAccess
from portico.accounts.models import Invitation, User, access_policy_of
from portico.core import clock
from portico.core.audit import Actor, audit
from portico.core.mail import send_templated_email
from portico.core.models import AuditEvent
from portico.customers.models import ContactPerson, Customer, PortalRole


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(organization, token: str) -> str:
    base = organization.portal_url.removesuffix("/portal/")
    return base + reverse("accounts:accept_invitation", args=[token])


def _login_of(contact: ContactPerson) -> User:
    """The contact's login, created without a usable password until the invitation is accepted."""
    user = User.all_tenants.filter(contact=contact).first()
    if user is not None:
        if user.email != contact.email.lower():
            if (
                User.all_tenants.filter(organization=contact.organization, email__iexact=contact.email)
                .exclude(pk=user.pk)
                .exists()
            ):
                raise EmailTaken
            user.email = contact.email
            user.save(update_fields=["email"])
        return user
    if User.all_tenants.filter(organization=contact.organization, email__iexact=contact.email).exists():
        raise EmailTaken
    user = User(
        organization=contact.organization,
        email=contact.email,
        contact=contact,
        first_name=contact.first_name,
        last_name=contact.last_name,
    )
    user.set_unusable_password()
    user.save()
    return user


def login_of_invited(invitation: Invitation) -> User:
    """The login an invitation sets a password for (unsaved if staff removed it meanwhile)."""
    contact = invitation.contact
    return User.all_tenants.filter(contact=contact).first() or User(
        organization=contact.organization,
        email=contact.email,
        contact=contact,
        first_name=contact.first_name,
        last_name=contact.last_name,
    )


def _lock_contact(contact: ContactPerson) -> ContactPerson:
    return ContactPerson.all_tenants.select_for_update().get(pk=contact.pk)


def invite_contact(*, contact: ContactPerson, actor: Actor) -> Invitation:
    """Grant portal access and send a single-use link to set a password; earlier links stop working."""
    if not contact.email:
        raise NoEmailAddress
    organization = contact.organization
    with transaction.atomic():
        contact = _lock_contact(contact)
        user = _login_of(contact)
        now = clock.now()
        Invitation.all_tenants.filter(contact=contact, accepted_at=None, revoked_at=None).update(
            revoked_at=now
        )
        token = secrets.token_urlsafe(32)
        days = access_policy_of(organization).invitation_days
        invitation = Invitation.all_tenants.create(
            organization=organization,
            contact=contact,
            email=contact.email,
            token_hash=_hash(token),
            created_at=now,
            expires_at=now + dt.timedelta(days=days),
            invited_by=actor.user if getattr(actor.user, "pk", None) else None,
        )
        if not contact.has_portal_access:
            contact.has_portal_access = True
            contact.save(update_fields=["has_portal_access"])
        if (
            contact.is_primary
            and contact.portal_role != PortalRole.ADMIN
            and not _admins_with_access(contact.customer).exclude(pk=contact.pk).exists()
        ):
            # The primary contact is the customer's portal admin by default: someone must manage access.
            contact.portal_role = PortalRole.ADMIN
            contact.save(update_fields=["portal_role"])
        if not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
        audit(actor, "invitation.sent", contact, email=contact.email, expires_at=invitation.expires_at)
        send_templated_email(
            organization=organization,
            to=[contact.email],
            template="accounts/invitation",
            customer=contact.customer,
            context={
                "contact": contact,
                "customer": contact.customer,
                "url": invitation_url(organization, token),
                "expires_at": invitation.expires_at,
                "days": days,
                "inviter": actor.user.get_full_name() if getattr(actor.user, "pk", None) else "",
            },
        )
    invitation.token = token  # for the caller (tests, the console's confirmation); never stored
    return invitation


def revoke_invitation(*, invitation: Invitation, actor: Actor) -> Invitation:
    with transaction.atomic():
        invitation = Invitation.all_tenants.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at or invitation.revoked_at:
            return invitation
        invitation.revoked_at = clock.now()
        invitation.save(update_fields=["revoked_at"])
        audit(actor, "invitation.revoked", invitation.contact, email=invitation.email)
    return invitation


def invitation_for_token(token: str, organization) -> Invitation:
    """The pending invitation of this link, or InvitationInvalid saying why it cannot be used."""
    invitation = (
        Invitation.all_tenants.select_related("contact", "contact__customer")
        .filter(token_hash=_hash(token or ""), organization=organization)
        .first()
    )
    if invitation is None:
        raise InvitationInvalid(
            "unknown",
            _("This invitation link is not valid. Check that you copied the whole link from the email."),
        )
    status = invitation.status
    if status == Invitation.Status.ACCEPTED:
        raise InvitationInvalid(
            status,
            _(
                "This invitation has already been used to set a password. Sign in with it, or reset "
                "your password if you have forgotten it."
            ),
        )
    if status == Invitation.Status.REVOKED:
        raise InvitationInvalid(
            status,
            _(
                "This invitation was withdrawn or replaced by a newer one. Use the link in the most "
                "recent invitation email, or ask your company's portal admin to invite you again."
            ),
        )
    if status == Invitation.Status.EXPIRED:
        raise InvitationInvalid(
            status,
            _(
                "This invitation has expired. Ask your company's portal admin, or %(org)s, to send "
                "you a new one."
            )
            % {"org": invitation.organization.name},
        )
    if not invitation.contact.has_portal_access:
        raise InvitationInvalid(
            "revoked", _("Portal access for this address has been switched off. Ask your portal admin.")
        )
    return invitation


def accept_invitation(*, invitation: Invitation, password: str, actor: Actor) -> User:
    """Set the contact's password and use up the link (single use: a second accept is refused)."""
    with transaction.atomic():
        invitation = Invitation.all_tenants.select_for_update().get(pk=invitation.pk)
        if invitation.status != Invitation.Status.PENDING:
            raise InvitationInvalid(invitation.status, _("This invitation can no longer be used."))
        user = _login_of(invitation.contact)
        user.set_password(password)
        user.is_active = True
        user.save()
        invitation.accepted_at = clock.now()
        invitation.save(update_fields=["accepted_at"])
        audit(
            Actor(
                kind=actor.kind,
                user=user,
                label=user.email,
                ip_address=actor.ip_address,
                user_agent=actor.user_agent,
            ),
            "invitation.accepted",
            invitation.contact,
        )
    return user


def _admins_with_access(customer):
    return ContactPerson.all_tenants.filter(
        customer=customer, has_portal_access=True, portal_role=PortalRole.ADMIN
    )


def _lock_customer_and_contact(contact: ContactPerson) -> ContactPerson:
    """Lock the contact's customer, then the contact (the ledger's order: customer first). Every
    change of access or role of one customer's contacts is serialized by the customer row, so two
    edits at once cannot both take away the last admin."""
    Customer.all_tenants.select_for_update(of=("self",)).get(pk=contact.customer_id)
    return _lock_contact(contact)


def _guard_admins(contact: ContactPerson, actor: Actor, *, keeps_access: bool, keeps_admin: bool) -> None:
    """A customer whose contacts use the portal keeps at least one portal admin with access, whoever
    acts (a portal admin or staff); portal admins may also not change their own access or role.
    Called under `_lock_customer_and_contact`."""
    if actor.kind == AuditEvent.ActorKind.PORTAL and getattr(actor.user, "contact_id", None) == contact.pk:
        raise OwnAccess
    is_admin_with_access = contact.has_portal_access and contact.portal_role == PortalRole.ADMIN
    if keeps_admin or not is_admin_with_access:
        return
    others = ContactPerson.all_tenants.filter(
        customer_id=contact.customer_id, has_portal_access=True
    ).exclude(pk=contact.pk)
    if others.filter(portal_role=PortalRole.ADMIN).exists():
        return
    if keeps_access or others.exists():
        if actor.kind == AuditEvent.ActorKind.PORTAL:
            raise LastAdmin
        raise LastAdmin(
            _(
                "%(name)s is this customer's last portal admin with access. Make another contact "
                "with portal access an admin first."
            )
            % {"name": contact.full_name}
        )


def check_access_change(*, contact: ContactPerson, enabled: bool, role: str, actor: Actor) -> None:
    """The refusal that `set_portal_access` and `set_portal_role` would give for this end state,
    for a form to show before saving (they check again, under the customer's lock)."""
    current = ContactPerson.all_tenants.get(pk=contact.pk)
    if (current.has_portal_access, current.portal_role) == (enabled, role):
        return
    _guard_admins(current, actor, keeps_access=enabled, keeps_admin=enabled and role == PortalRole.ADMIN)


def _notify_access(contact: ContactPerson, template: str, **context) -> None:
    send_templated_email(
        organization=contact.organization,
        to=[contact.email],
        template=template,
        customer=contact.customer,
        context={"contact": contact, "customer": contact.customer, **context},
    )


def set_portal_access(*, contact: ContactPerson, enabled: bool, actor: Actor) -> ContactPerson:
    """Switch a contact's portal access; disabling also ends their sessions at once."""
    with transaction.atomic():
        contact = _lock_customer_and_contact(contact)
        if contact.has_portal_access == enabled:
            return contact
        _guard_admins(contact, actor, keeps_access=enabled, keeps_admin=enabled)
        contact.has_portal_access = enabled
        contact.save(update_fields=["has_portal_access"])
        user = User.all_tenants.filter(contact=contact).first()
        if not enabled and user is not None:
            end_all_sessions(user)
        audit(actor, "access.granted" if enabled else "access.revoked", contact)
        if user is not None and user.has_usable_password():
            _notify_access(contact, "accounts/access_granted" if enabled else "accounts/access_revoked")
    if enabled and (user is None or not user.has_usable_password()):
        invite_contact(contact=contact, actor=actor)
    return contact


def set_portal_role(*, contact: ContactPerson, role: str, actor: Actor) -> ContactPerson:
    role = PortalRole(role)
    with transaction.atomic():
        contact = _lock_customer_and_contact(contact)
        if contact.portal_role == role:
            return contact
        _guard_admins(
            contact, actor, keeps_access=contact.has_portal_access, keeps_admin=role == PortalRole.ADMIN
        )
        previous = contact.portal_role
        contact.portal_role = role
        contact.save(update_fields=["portal_role"])
        audit(actor, "access.role_changed", contact, previous=previous, role=role)
    return contact


def _customer_of(user):
    return user.contact.customer if user.contact_id else None


def live_sessions_of(user: User) -> list:
    """The user's signed-in sessions (allauth's `UserSession`s), forgetting those that ended: expired,
    signed out, or cut off by a password change. allauth's `purge_and_list` asks three queries per
    session; this asks three in all: the list, their session rows, and one delete of the ended."""
    from importlib import import_module

    from allauth.usersessions.models import UserSession
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils import timezone
    from django.utils.crypto import constant_time_compare

    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store, "get_model_class"):  # sessions not kept in the database: allauth's way
        return UserSession.objects.purge_and_list(user)
    rows = list(UserSession.objects.filter(user_id=user.pk))
    if not rows:
        return []
    data = dict(
        store.get_model_class()
        .objects.filter(session_key__in=[row.session_key for row in rows], expire_date__gt=timezone.now())
        .values_list("session_key", "session_data")
    )
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]

    def signed_in(raw: str | None) -> bool:
        if raw is None:
            return False
        session = store().decode(raw)
        return (
            session.get(SESSION_KEY) == str(user.pk)
            and session.get(BACKEND_SESSION_KEY) in settings.AUTHENTICATION_BACKENDS
            and any(constant_time_compare(session.get(HASH_SESSION_KEY, ""), h) for h in hashes)
        )

    live = [row for row in rows if signed_in(data.get(row.session_key))]
    live_keys = {row.pk for row in live}
    ended = [row.pk for row in rows if row.pk not in live_keys]
    if ended:
        UserSession.objects.filter(pk__in=ended).delete()
    return live


def end_all_sessions(user: User, *, keep_session_key: str | None = None) -> int:
    from allauth.usersessions.models import UserSession

    ended = 0
    for session in UserSession.objects.filter(user_id=user.pk).exclude(session_key=keep_session_key or ""):
        session.end()
        ended += 1
    return ended


def end_session(*, user: User, session_id: int, current_session_key: str, actor: Actor) -> bool:
    """Sign out one of the user's own sessions (never someone else's: looked up by user)."""
    from allauth.usersessions.models import UserSession

    session = UserSession.objects.filter(user_id=user.pk, pk=session_id).first()
    if session is None:
        return False
    is_current = session.session_key == current_session_key
    session.end()
    audit(
        actor,
        "session.ended",
        user,
        customer=_customer_of(user),
        ip=session.ip,
        user_agent=session.user_agent[:200],
        current=is_current,
    )
    return True


def end_other_sessions(*, user: User, current_session_key: str, actor: Actor) -> int:
    ended = end_all_sessions(user, keep_session_key=current_session_key)
    audit(actor, "session.ended_others", user, customer=_customer_of(user), count=ended)
    return ended


# -- staff roles -------------------------------------------------------------------------------


def set_staff_role(*, user: User, role: str, actor: Actor) -> User:
    """Give a staff member another console role (the console lets only owners do it). The
    organization keeps at least one active owner: its owners are locked in pk order first."""
    from portico.accounts.errors import AccessError
    from portico.accounts.models import StaffRole

    role = StaffRole(role)
    with transaction.atomic():
        owners = list(
            User.all_tenants.filter(
                organization_id=user.organization_id, is_staff=True, staff_role=StaffRole.OWNER
            )
            .order_by("pk")
            .select_for_update()
        )
        user = User.all_tenants.select_for_update().get(pk=user.pk)
        if user.staff_role == role:
            return user
        if user.staff_role == StaffRole.OWNER and not any(o.is_active and o.pk != user.pk for o in owners):
            raise AccessError(
                _("The organization needs at least one active owner: make someone else owner first.")
            )
        previous = user.staff_role
        user.staff_role = role
        user.save(update_fields=["staff_role"])
        audit(actor, "staff.role_changed", user, organization=user.organization, old=previous, new=role)
    return user
