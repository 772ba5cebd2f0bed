from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from portico.accounts.admin import invite_contacts, revoke_access
from portico.accounts.models import User
from portico.console.site import ConsoleModelAdmin, TenantAdmin, TenantInline, console_site
from portico.core.models import AuditEvent, Organization
from portico.customers.models import ContactPerson, Customer
from portico.portal.models import PortalPreferences


@admin.register(Organization, site=console_site)
class OrganizationAdmin(ConsoleModelAdmin):
    """Superusers manage every organization; an organization's staff edit their own branding."""

    list_display = ["name", "slug", "custom_domain", "domain_verified_at", "is_active"]
    search_fields = ["name", "slug", "custom_domain"]
    readonly_fields = ["domain_verification_token", "domain_verified_at", "created_at"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if getattr(request, "organization", None) is not None:
            return qs.filter(pk=request.organization.pk)
        return qs

    def _own(self, request, obj):
        return getattr(request, "organization", None) is not None and (
            obj is None or obj.pk == request.organization.pk
        )

    def has_module_permission(self, request):
        return request.user.is_platform_admin or getattr(request, "organization", None) is not None

    def has_view_permission(self, request, obj=None):
        return request.user.is_platform_admin or self._own(request, obj)

    def has_change_permission(self, request, obj=None):
        return request.user.is_platform_admin or self._own(request, obj)

    def has_add_permission(self, request):
        return request.user.is_platform_admin

    def has_delete_permission(self, request, obj=None):
        return request.user.is_platform_admin

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_platform_admin:
            fields += ["slug", "is_active"]
        return fields


class ContactInline(TenantInline):
    model = ContactPerson
    fields = ["first_name", "last_name", "email", "phone", "is_primary", "has_portal_access", "portal_role"]


@admin.register(Customer, site=console_site)
class CustomerAdmin(TenantAdmin):
    list_display = ["display_name", "company_name", "email", "currency", "payment_terms_days", "is_active"]
    search_fields = ["display_name", "company_name", "email"]
    list_filter = ["is_active", "currency"]
    inlines = [ContactInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "display_name",
                    "company_name",
                    "email",
                    "phone",
                    "currency",
                    "payment_terms_days",
                    "tax_id",
                    "notes",
                    "is_active",
                ]
            },
        ),
        (
            _("Billing address"),
            {
                "fields": [
                    f"billing_{p}" for p in ("line1", "line2", "city", "region", "postal_code", "country")
                ]
            },
        ),
        (
            _("Shipping address"),
            {
                "fields": [
                    f"shipping_{p}" for p in ("line1", "line2", "city", "region", "postal_code", "country")
                ]
            },
        ),
    ]


@admin.register(ContactPerson, site=console_site)
class ContactPersonAdmin(TenantAdmin):
    list_display = ["full_name", "email", "customer", "is_primary", "has_portal_access", "portal_role"]
    search_fields = ["first_name", "last_name", "email", "customer__display_name"]
    list_filter = ["has_portal_access", "portal_role"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    actions = [invite_contacts, revoke_access]


@admin.register(User, site=console_site)
class UserAdmin(TenantAdmin, DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "contact", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    list_select_related = ["contact"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Person"), {"fields": ["first_name", "last_name", "contact"]}),
        (_("Access"), {"fields": ["is_active", "is_staff"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2", "is_staff"]})]
    readonly_fields = ["last_login", "date_joined"]
    autocomplete_fields = ["contact"]
    filter_horizontal = []


@admin.register(AuditEvent, site=console_site)
class AuditEventAdmin(TenantAdmin):
    list_display = ["at", "actor_label", "action", "object_repr", "customer", "ip_address"]
    list_filter = ["action", "actor_kind"]
    search_fields = ["actor_label", "action", "object_repr"]
    list_select_related = ["customer"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PortalPreferences, site=console_site)
class PortalPreferencesAdmin(TenantAdmin):
    """The organization's own preferences only (the row is scoped by the tenant manager)."""

    list_display = ["organization", "disabled"]

    def get_queryset(self, request):
        if getattr(request, "organization", None) is not None:
            from portico.portal.models import preferences_of

            preferences_of(request.organization)  # there is always one to edit
        return super().get_queryset(request)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
