"""The customer's own security, profile and login-access pages (/portal/security/, /portal/profile/).

Thin: each view declares its gate (`portal_view`), parses a form, calls one service, renders.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib import messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.accounts import email_change, services
from portico.accounts.decorators import sensitive
from portico.accounts.errors import AccessError
from portico.accounts.forms import EmailChangeForm
from portico.accounts.models import Invitation, User
from portico.accounts.user_agents import describe_user_agent
from portico.core import clock
from portico.core.audit import CUSTOMER_FACING_ACTIONS, Actor
from portico.core.errors import domain_error_message
from portico.core.models import AuditEvent
from portico.customers import services as customer_services
from portico.customers.forms import CompanyDetailsForm, CompanyForm, ContactForm, PersonalDetailsForm
from portico.customers.models import ContactPerson, PortalRole
from portico.portal.access import portal_view
from portico.portal.paging import CountCappedPaginator

# -- security ----------------------------------------------------------------------------------


@portal_view(module="security")
def security(request):
    user = request.user
    authenticators = {a.type: a for a in Authenticator.objects.filter(user=user).exclude(type="webauthn")}
    passkeys = Authenticator.objects.filter(user=user, type=Authenticator.Type.WEBAUTHN).order_by(
        "created_at"
    )
    recovery = authenticators.get(Authenticator.Type.RECOVERY_CODES)
    context = {
        "totp": authenticators.get(Authenticator.Type.TOTP),
        "recovery_codes": recovery,
        "unused_recovery_codes": len(recovery.wrap().get_unused_codes()) if recovery else 0,
        "passkeys": passkeys,
        "session_count": len(services.live_sessions_of(user)),
        "history": _with_browsers(_history_of(user)[:5]),
    }
    return render(request, "accounts/security.html", context)


@portal_view(module="security")
def sessions(request):
    user = request.user
    actor = Actor.from_request(request)
    if request.method == "POST":
        if request.POST.get("end") == "others":
            ended = services.end_other_sessions(
                user=user, current_session_key=request.session.session_key, actor=actor
            )
            messages.success(request, _("Signed out %(n)d other session(s).") % {"n": ended})
        else:
            try:
                session_id = int(request.POST.get("session", ""))
            except ValueError:
                session_id = 0
            is_current = UserSession.objects.filter(
                user_id=user.pk, pk=session_id, session_key=request.session.session_key
            ).exists()
            if not services.end_session(
                user=user, session_id=session_id, current_session_key=request.session.session_key, actor=actor
            ):
                messages.error(request, _("That session has already ended."))
            elif is_current:
                return redirect("account_login")
            else:
                messages.success(request, _("The session was signed out."))
        return redirect("portal:security_sessions")
    rows = sorted(services.live_sessions_of(user), key=lambda s: s.last_seen_at, reverse=True)
    for row in rows:
        row.current = row.session_key == request.session.session_key
        row.browser = describe_user_agent(row.user_agent)
    return render(request, "accounts/sessions.html", {"sessions": rows})


def _history_of(user):
    return AuditEvent.objects.filter(
        Q(object_type="accounts.user", object_id=str(user.pk), action__in=("login.succeeded", "logout"))
        | Q(action__in=("login.failed", "login.locked"), data__email=user.email),
        organization=user.organization,
    ).order_by("-at", "-id")


def _with_browsers(events):
    events = list(events)
    for event in events:
        event.browser = describe_user_agent(event.user_agent)
    return events


@portal_view(module="security")
def login_history(request):
    events = _with_browsers(_history_of(request.user)[:100])
    return render(request, "accounts/login_history.html", {"events": events})


ACTIVITY_PAGE_SIZE = 50


@portal_view(module="security")
def activity(request):
    """What happened to the customer's account that concerns them (`CUSTOMER_FACING_ACTIONS`: never
    drafts or internal work), newest first: admins see everyone's, others their own. The business
    acts under its own name: staff emails and addresses stay in the business's audit trail."""
    portal = request.portal
    events = (
        AuditEvent.objects.filter(customer=portal.customer, action__in=CUSTOMER_FACING_ACTIONS)
        .select_related("actor_user__contact")
        .only(
            "at",
            "action",
            "object_repr",
            "actor_kind",
            "actor_label",
            "actor_user__id",
            "actor_user__contact__id",
            "actor_user__contact__customer",
            "data",  # how a sign-in happened ("Signed in with <connection>")
        )
        .order_by("-at", "-id")
    )
    if not portal.can(PortalRole.ADMIN):
        events = events.filter(actor_user=request.user)
    page = CountCappedPaginator(events, ACTIVITY_PAGE_SIZE).get_page(request.GET.get("page"))
    business = request.organization.name
    for event in page.object_list:
        event.who = _actor_shown_to(event, portal.customer, business)
    return render(request, "accounts/activity.html", {"page": page})


def _actor_shown_to(event, customer, business: str) -> str:
    """The customer's own people by their sign-in email; the business, its staff, API keys and
    automatic work by the business's name."""
    user = event.actor_user
    if event.actor_kind == AuditEvent.ActorKind.PORTAL:
        if user is not None and user.contact_id and user.contact.customer_id == customer.pk:
            return event.actor_label
        if user is None:
            return _("A former contact of yours")
    return business


# -- profile -----------------------------------------------------------------------------------


@portal_view(module="profile")
def profile(request):
    portal = request.portal
    contact = portal.contact
    initial = {"first_name": contact.first_name, "last_name": contact.last_name, "phone": contact.phone}
    form = PersonalDetailsForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not portal.allows("profile", "change"):
            raise Http404
        if form.is_valid():
            customer_services.update_own_details(
                user=request.user, data=form.cleaned_data, actor=Actor.from_request(request)
            )
            messages.success(request, _("Your details were saved."))
            return redirect("portal:profile")
    return render(request, "accounts/profile.html", {"form": form, "customer": portal.customer})


@portal_view(module="profile", action="change")
@sensitive
def change_email(request):
    form = EmailChangeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():

        def confirm_url(token):
            return request.build_absolute_uri(reverse("portal:profile_email_confirm", args=[token]))

        email_change.request_email_change(
            user=request.user,
            new_email=form.cleaned_data["email"],
            actor=Actor.from_request(request),
            confirm_url=confirm_url,
        )
        messages.success(
            request,
            _("We sent a link to %(email)s. Your email changes when you follow it (within 24 hours).")
            % {"email": form.cleaned_data["email"]},
        )
        return redirect("portal:profile")
    return render(request, "accounts/change_email.html", {"form": form})


@portal_view(module="profile", action="change")
def confirm_email(request, token):
    if request.method == "POST":
        try:
            email_change.confirm_email_change(
                user=request.user, token=token, actor=Actor.from_request(request)
            )
        except email_change.EmailChangeInvalid as error:
            domain_error_message(request, error)
            return redirect("portal:profile")
        messages.success(request, _("Your email address was changed. Use it to sign in from now on."))
        return redirect("portal:profile")
    return render(request, "accounts/confirm_email.html", {"token": token})


@portal_view(module="profile", action="company")
def company(request):
    customer = request.portal.customer
    # without `profile.addresses` the form has no address fields: posted ones are not even read
    form_class = CompanyForm if request.portal.allows("profile", "addresses") else CompanyDetailsForm
    form = form_class(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        data = {field: form.cleaned_data[field] for field in form.Meta.fields}
        form.instance.refresh_from_db()  # the form wrote into the instance; the service compares
        customer_services.update_company(customer=customer, data=data, actor=Actor.from_request(request))
        messages.success(
            request,
            _("Your company details were saved. %(org)s has been told.") % {"org": request.organization.name},
        )
        return redirect("portal:profile_company")
    return render(request, "accounts/company.html", {"form": form, "customer": customer})


# -- login access ------------------------------------------------------------------------------


def _contact_for(request, contact_id) -> ContactPerson:
    """A contact person of the signed-in customer, or 404 (another customer's id is not found)."""
    contact = ContactPerson.objects.filter(public_id=contact_id, customer=request.portal.customer).first()
    if contact is None:
        raise Http404
    return contact


def _has_active_login(contact: ContactPerson) -> bool:
    """The contact has set a password (accepted an invitation): they sign in, nobody invites them."""
    login = User.objects.filter(contact=contact).first()
    return login is not None and login.has_usable_password()


@portal_view(module="contacts")
def contacts(request):
    customer = request.portal.customer
    rows = list(ContactPerson.objects.filter(customer=customer).order_by("-is_primary", "first_name", "id"))
    logins = {u.contact_id: u for u in User.objects.filter(contact__in=rows)}
    pending = {
        i.contact_id: i
        for i in Invitation.objects.filter(contact__in=rows, accepted_at=None, revoked_at=None).order_by(
            "created_at"
        )
    }
    for row in rows:
        row.login = logins.get(row.pk)
        invitation = pending.get(row.pk)
        row.invitation = invitation if invitation is not None and invitation.status == "pending" else None
        row.is_self = row.pk == request.portal.contact.pk
    return render(request, "accounts/contacts.html", {"contacts": rows})


@portal_view(module="contacts", action="change")
def add_contact(request):
    customer = request.portal.customer
    form = ContactForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        actor = Actor.from_request(request)
        data = {f: form.cleaned_data[f] for f in ("first_name", "last_name", "email", "phone", "portal_role")}
        contact = customer_services.add_contact(customer=customer, data=data, actor=actor)
        if form.cleaned_data.get("invite"):
            try:
                services.invite_contact(contact=contact, actor=actor)
            except AccessError as error:
                domain_error_message(request, error)
                return redirect("portal:contacts")
            messages.success(request, _("%(name)s was added and invited.") % {"name": contact.full_name})
        else:
            messages.success(request, _("%(name)s was added.") % {"name": contact.full_name})
        return redirect("portal:contacts")
    return render(request, "accounts/contact_form.html", {"form": form, "contact": None})


@portal_view(module="contacts", action="change")
@sensitive
def edit_contact(request, contact_id):
    contact = _contact_for(request, contact_id)
    has_login = User.objects.filter(contact=contact).exists()
    form = ContactForm(request.POST or None, instance=contact, customer=request.portal.customer)
    if has_login:
        # A login's address is changed by its owner only (re-verified): never by someone else.
        form.fields["email"].disabled = True
        form.fields["email"].help_text = _("They change their sign-in email themselves, from their profile.")
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in ("first_name", "last_name", "email", "phone")}
        form.instance.refresh_from_db()
        customer_services.update_contact(contact=contact, data=data, actor=Actor.from_request(request))
        messages.success(request, _("The contact person was saved."))
        return redirect("portal:contacts")
    return render(
        request,
        "accounts/contact_form.html",
        {
            "form": form,
            "contact": contact,
            "roles": PortalRole.choices,
            "is_self": contact.pk == request.portal.contact.pk,
            "has_active_login": _has_active_login(contact),
            "has_pending_invitation": Invitation.objects.filter(
                contact=contact, accepted_at=None, revoked_at=None, expires_at__gt=clock.now()
            ).exists(),
        },
    )


@portal_view(module="contacts", action="change")  # outermost: switched off, the URL is not there at all
@require_POST
@sensitive
def contact_access(request, contact_id):
    """Invite, resend, revoke an invitation, switch access on or off, or set the portal role."""
    contact = _contact_for(request, contact_id)
    actor = Actor.from_request(request)
    operation = request.POST.get("operation", "")
    if operation == "disable" and request.POST.get("confirmed") != "yes" and contact.has_portal_access:
        # Signing someone out of the portal is not undone by a click: ask first (no JavaScript).
        return render(request, "accounts/contact_access_off.html", {"contact": contact})
    try:
        if operation in ("invite", "resend") and _has_active_login(contact):
            messages.error(
                request,
                _("%(name)s already signs in to the portal; an invitation would only replace their password.")
                % {"name": contact.full_name},
            )
        elif operation in ("invite", "resend"):
            services.invite_contact(contact=contact, actor=actor)
            messages.success(request, _("An invitation was sent to %(email)s.") % {"email": contact.email})
        elif operation == "revoke_invitation":
            for invitation in Invitation.objects.filter(contact=contact, accepted_at=None, revoked_at=None):
                services.revoke_invitation(invitation=invitation, actor=actor)
            messages.success(request, _("The invitation was withdrawn; its link no longer works."))
        elif operation in ("enable", "disable"):
            services.set_portal_access(contact=contact, enabled=operation == "enable", actor=actor)
            if operation == "enable":
                done = _("Portal access for %(name)s is now on.")
            else:
                done = _("Portal access for %(name)s is now off; their sessions were signed out.")
            messages.success(request, done % {"name": contact.full_name})
        elif operation == "role":
            role = request.POST.get("role", "")
            if role not in PortalRole.values:
                messages.error(request, _("Choose one of the roles offered."))
            else:
                services.set_portal_role(contact=contact, role=role, actor=actor)
                messages.success(
                    request,
                    _("%(name)s is now %(role)s.")
                    % {"name": contact.full_name, "role": PortalRole(role).label},
                )
        else:
            messages.error(request, _("Unknown action."))
    except AccessError as error:
        domain_error_message(request, error)
    return redirect("portal:contacts")
