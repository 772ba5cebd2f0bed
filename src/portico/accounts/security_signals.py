"""Audit and security emails for what allauth does on its own (passwords, second factors), the
new-browser sign-in notice, and the organization's auto-invitation of new contacts."""

from __future__ import annotations

import contextlib

from allauth.account.signals import password_changed, password_reset, password_set
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import (
    authentication_failed,
    authenticator_added,
    authenticator_removed,
    authenticator_reset,
)
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from portico.core.audit import Actor, audit
from portico.core.models import AuditEvent
from portico.customers.models import ContactPerson


def _customer_of(user):
    return user.contact.customer if user is not None and user.contact_id else None


def _audit_user(request, action, user, **data):
    organization = getattr(request, "organization", None) or user.organization
    if organization is None:
        return
    audit(
        Actor.from_request(request),
        action,
        user,
        organization=organization,
        customer=_customer_of(user),
        **data,
    )


@receiver(password_changed)
def _password_changed(sender, request, user, **kwargs):
    from portico.accounts.services import end_all_sessions

    # Changing the password signs out every other session of the user (the current one stays).
    end_all_sessions(user, keep_session_key=request.session.session_key)
    _audit_user(request, "password.changed", user)


@receiver(password_set)
def _password_set(sender, request, user, **kwargs):
    _audit_user(request, "password.set", user)


@receiver(password_reset)
def _password_reset(sender, request, user, **kwargs):
    from portico.accounts import lockout
    from portico.accounts.services import end_all_sessions

    end_all_sessions(user)
    # Proving control of the mailbox lifts the sign-in throttles of the address (as allauth does).
    lockout.forget_account(organization_id=user.organization_id, email=user.email)
    _audit_user(request, "password.reset", user)


_KIND = {
    Authenticator.Type.TOTP: "totp",
    Authenticator.Type.RECOVERY_CODES: "recovery_codes",
    Authenticator.Type.WEBAUTHN: "passkey",
}


@receiver(authenticator_added)
def _authenticator_added(sender, request, user, authenticator, **kwargs):
    _audit_user(request, f"mfa.{_KIND.get(authenticator.type, authenticator.type)}.enabled", user)


@receiver(authenticator_removed)
def _authenticator_removed(sender, request, user, authenticator, **kwargs):
    _audit_user(request, f"mfa.{_KIND.get(authenticator.type, authenticator.type)}.disabled", user)


@receiver(authenticator_reset)
def _authenticator_reset(sender, request, user, authenticator, **kwargs):
    _audit_user(request, "mfa.recovery_codes.regenerated", user)


@receiver(authentication_failed)
def _mfa_failed(sender, request, user, authenticator, reauthentication=False, **kwargs):
    _audit_user(request, "mfa.code_failed", user, reauthentication=reauthentication)


@receiver(user_logged_in)
def _new_browser_notice(sender, request, user, **kwargs):
    """Email the user when they sign in from a browser never seen on a successful sign-in before.

    Connected before the audit receiver of accounts.signals writes this sign-in, so the history
    read here is the one before it. The first sign-in ever sends nothing (there is no "before").
    """
    organization = getattr(request, "organization", None)
    if organization is None or user.organization_id != organization.pk:
        return
    agent = request.META.get("HTTP_USER_AGENT", "")[:400]
    earlier = AuditEvent.all_tenants.filter(
        organization=organization,
        action="login.succeeded",
        object_type="accounts.user",
        object_id=str(user.pk),
    )
    if not earlier.exists() or earlier.filter(user_agent=agent).exists():
        return
    from portico.core import clock
    from portico.core.audit import client_ip
    from portico.core.mail import send_templated_email

    send_templated_email(
        organization=organization,
        to=[user.email],
        template="accounts/new_sign_in",
        customer=user.contact.customer if user.contact_id else None,
        context={"user": user, "ip": client_ip(request), "user_agent": agent, "at": clock.now()},
    )


@receiver(post_save, sender=ContactPerson)
def _auto_invite(sender, instance, created, raw=False, **kwargs):
    if raw or not created or not instance.has_portal_access or not instance.email:
        return
    from portico.accounts.models import User, access_policy_of

    if not access_policy_of(instance.organization).auto_invite_contacts:
        return

    def invite():
        from portico.accounts.errors import AccessError
        from portico.accounts.services import invite_contact

        # Checked at commit time: the code that added the contact may have invited them already.
        if User.all_tenants.filter(contact=instance).exists():
            return

        # If, say, the address is already another login of this business, staff invite by hand.
        with contextlib.suppress(AccessError):
            invite_contact(contact=instance, actor=Actor.system("auto-invite"))

    transaction.on_commit(invite)
