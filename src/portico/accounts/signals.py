"""Sign-ins and sign-outs land in the audit trail of the organization whose host they happen on."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from portico.core import outbox
from portico.core.audit import Actor, audit


def _customer_of(user):
    return user.contact.customer if user is not None and user.contact_id else None


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    from portico.accounts.sso import current_sign_in

    organization = getattr(request, "organization", None) or user.organization
    if organization is not None:
        sso = current_sign_in(request)
        audit(
            Actor.from_request(request),
            "login.succeeded",
            user,
            organization=organization,
            customer=_customer_of(user),
            **(sso.audit_data() if sso is not None else {}),
        )
        if user.contact_id and user.organization_id == organization.pk:  # a portal sign-in (webhooks)
            outbox.emit_for(
                "portal.login", user, once=False, customer=user.contact.customer_id, contact=user.contact_id
            )


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    organization = getattr(request, "organization", None)
    if organization is not None and user is not None:
        audit(
            Actor.from_request(request),
            "logout",
            user,
            organization=organization,
            customer=_customer_of(user),
        )


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    organization = getattr(request, "organization", None) if request is not None else None
    if organization is None:
        return
    attempted = (credentials.get("email") or credentials.get("username") or credentials.get("login") or "")[
        :254
    ]
    actor = Actor.from_request(request)
    audit(
        actor.__class__(
            kind="system", label=attempted, ip_address=actor.ip_address, user_agent=actor.user_agent
        ),
        "login.failed",
        organization=organization,
        email=attempted,
    )
