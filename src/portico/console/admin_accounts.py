"""Console pages of accounts: invitations, the access policy, and contact actions for staff."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portico.accounts import services
from portico.accounts.errors import AccessError
from portico.accounts.models import AccessPolicy, Invitation
from portico.console.site import TenantAdmin, console_site
from portico.core.audit import Actor
from portico.core.errors import domain_error_message


@admin.action(description=_("Invite selected contacts to the portal (sends a new link)"))
def invite_contacts(modeladmin, request, queryset):
    actor = Actor.from_request(request)
    sent = 0
    for contact in queryset.select_related("customer"):
        try:
            services.invite_contact(contact=contact, actor=actor)
            sent += 1
        except AccessError as error:
            domain_error_message(request, error, about=contact)
    if sent:
        modeladmin.message_user(
            request, ngettext("%d invitation sent.", "%d invitations sent.", sent) % sent, messages.SUCCESS
        )


@admin.action(description=_("Turn off portal access of selected contacts (signs them out)"))
def revoke_access(modeladmin, request, queryset):
    from portico.customers.models import PortalRole

    actor = Actor.from_request(request)
    turned_off = 0
    # admins last: a customer keeps an admin while any of its other contacts still has access
    for contact in sorted(queryset, key=lambda c: (c.portal_role == PortalRole.ADMIN, c.pk)):
        try:
            services.set_portal_access(contact=contact, enabled=False, actor=actor)
            turned_off += 1
        except AccessError as error:
            domain_error_message(request, error, about=contact)
    if turned_off:
        modeladmin.message_user(request, _("Portal access turned off."), messages.SUCCESS)


@admin.register(Invitation, site=console_site)
class InvitationAdmin(TenantAdmin):
    list_display = ["email", "contact", "created_at", "expires_at", "status_label", "invited_by"]
    list_select_related = ["contact", "contact__customer", "invited_by"]
    search_fields = ["email", "contact__first_name", "contact__last_name", "contact__customer__display_name"]
    readonly_fields = [
        "contact",
        "email",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
        "invited_by",
    ]
    fields = readonly_fields
    actions = ["resend", "revoke"]

    @admin.display(description=_("status"))
    def status_label(self, obj):
        return Invitation.Status(obj.status).label

    def has_add_permission(self, request):
        return False  # invite from the contact list (action "Invite selected contacts")

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Resend selected invitations (a new link; the old one stops working)"))
    def resend(self, request, queryset):
        from portico.customers.models import ContactPerson

        invite_contacts(self, request, ContactPerson.objects.filter(pk__in=queryset.values("contact_id")))

    @admin.action(description=_("Revoke selected invitations"))
    def revoke(self, request, queryset):
        actor = Actor.from_request(request)
        for invitation in queryset:
            services.revoke_invitation(invitation=invitation, actor=actor)
        self.message_user(request, _("Invitations revoked; their links no longer work."), messages.SUCCESS)


@admin.register(AccessPolicy, site=console_site)
class AccessPolicyAdmin(TenantAdmin):
    list_display = [
        "organization",
        "invitation_days",
        "auto_invite_contacts",
        "portal_mfa_required",
        "staff_mfa_required",
    ]

    def get_queryset(self, request):
        if getattr(request, "organization", None) is not None:
            from portico.accounts.models import access_policy_of

            access_policy_of(request.organization)  # there is always one to edit
        return super().get_queryset(request)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        from portico.core.audit import audit

        audit(
            Actor.from_request(request),
            "access_policy.changed",
            obj,
            organization=obj.organization,
            **{field: getattr(obj, field) for field in form.changed_data},
        )
