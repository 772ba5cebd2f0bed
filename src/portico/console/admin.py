"""The console's pages of organizations, customers, contacts, users and the audit trail.

Staff edits of customers and contacts go through the same services as the portal's
(`customers.services`, `accounts.services`): the currency lock, the last-admin guard, the audit,
ending sessions and the notices apply whoever makes the change. A refusal is a form error; one
that only shows under the lock (someone else saved first) is an error message, and the refused
change is not saved.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from portico.accounts import services as access
from portico.accounts.errors import AccessError
from portico.accounts.models import CustomerSso, User

# Every app's console pages live in this package (the console is the top layer and may import
# any app; the apps never import it): importing them registers them on the console site.
from portico.console import (  # noqa: F401
    admin_accounts,
    admin_api_keys,
    admin_billing,
    admin_catalog,
    admin_conversations,
    admin_core,
    admin_credit_notes,
    admin_disputes,
    admin_documents,
    admin_emails,
    admin_invoices,
    admin_payment_settings,
    admin_payments,
    admin_portal_access,
    admin_portal_configurations,
    admin_project_billing,
    admin_project_time,
    admin_projects,
    admin_reviews,
    admin_sso,
    admin_subscriptions,
    admin_web_tabs,
    admin_webhooks,
    roles,
)
from portico.console.admin_accounts import invite_contacts, revoke_access
from portico.console.admin_domains import CustomDomainPages
from portico.console.admin_emails import CustomerEmailPages
from portico.console.admin_statements import StatementEmailPages
from portico.console.ledger_common import is_tenant_staff, object_tools
from portico.console.site import (
    ConsoleModelAdmin,
    RefusalRedirectMixin,
    TenantAdmin,
    TenantInline,
    console_site,
    refused,
)
from portico.core.audit import Actor
from portico.core.branding import brand_of, contrast_notice
from portico.core.models import AuditEvent, Organization
from portico.customers import services as customer_services
from portico.customers.errors import CustomerError
from portico.customers.models import ContactPerson, Customer, PortalRole
from portico.payments.models import PaymentMethod
from portico.portal import services as portal_services
from portico.portal.models import CustomerPortalConfiguration, PortalConfiguration

STAFF = Actor(kind=AuditEvent.ActorKind.STAFF)  # who the console's forms check a change for
ACCESS_FIELDS = ("has_portal_access", "portal_role")
CONTACT_DETAILS = ("first_name", "last_name", "email", "phone", "is_primary")


@admin.register(Organization, site=console_site)
class OrganizationAdmin(CustomDomainPages, ConsoleModelAdmin):
    """Superusers manage every organization; an organization's staff edit their own branding. The
    custom domain changes only on its own page (`console.admin_domains`): verified through DNS."""

    list_display = ["name", "slug", "custom_domain", "domain_verified_at", "is_active"]
    search_fields = ["name", "slug", "custom_domain"]
    readonly_fields = [
        "colour_as_used",
        "custom_domain",
        "domain_verification_token",
        "domain_verified_at",
        "created_at",
    ]

    @admin.display(description=_("brand colour as used"))
    def colour_as_used(self, obj):
        """What the portal, its emails and PDFs use: the chosen colour, or it darkened to reach AA."""
        if obj is None or not obj.pk:
            return "—"
        return contrast_notice(obj.brand_colour) or brand_of(obj).colour

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        notice = contrast_notice(obj.brand_colour)
        if notice:
            messages.warning(request, notice)

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


def _end_state(cleaned: dict, contact: ContactPerson) -> tuple[bool, str]:
    return (
        cleaned.get("has_portal_access", contact.has_portal_access),
        cleaned.get("portal_role", contact.portal_role) or contact.portal_role,
    )


def save_contact(request, contact: ContactPerson, cleaned: dict, changed: list[str]) -> ContactPerson:
    """A staff edit of an existing contact: details, then access, then role, each by its service."""
    actor = Actor.from_request(request)
    details = {field: cleaned[field] for field in changed if field in CONTACT_DETAILS}
    if details:
        customer_services.update_contact(contact=contact, data=details, actor=actor)
    if "has_portal_access" in changed:
        access.set_portal_access(contact=contact, enabled=cleaned["has_portal_access"], actor=actor)
    if "portal_role" in changed:
        access.set_portal_role(contact=contact, role=cleaned["portal_role"], actor=actor)
    return contact


def add_contact(request, customer: Customer, cleaned: dict) -> ContactPerson:
    data = {field: cleaned[field] for field in (*CONTACT_DETAILS, *ACCESS_FIELDS) if field in cleaned}
    return customer_services.add_contact(customer=customer, data=data, actor=Actor.from_request(request))


class ContactFormSet(BaseInlineFormSet):
    """A customer's contacts, edited together: the customer must keep a portal admin with access
    if any contact keeps portal access (what the services check one change at a time)."""

    def clean(self):
        super().clean()
        if any(self.errors) or not any(
            set(form.changed_data) & {*ACCESS_FIELDS} or self._should_delete_form(form)
            for form in self.forms
            if form.instance.pk
        ):
            return
        end = [
            _end_state(form.cleaned_data, form.instance)
            for form in self.forms
            if form.cleaned_data and not self._should_delete_form(form)
        ]
        if any(enabled for enabled, _role in end) and not any(
            enabled and role == PortalRole.ADMIN for enabled, role in end
        ):
            raise ValidationError(
                _(
                    "At least one contact with portal access must be a portal admin: make one an "
                    "admin before changing the others."
                )
            )

    def save(self, commit=True):
        """Saved by `CustomerAdmin.save_formset` through the services."""
        raise NotImplementedError


class ContactInline(TenantInline):
    model = ContactPerson
    formset = ContactFormSet
    fields = ["first_name", "last_name", "email", "phone", "is_primary", "has_portal_access", "portal_role"]


class CustomerForm(forms.ModelForm):
    portal_configuration = forms.ModelChoiceField(
        label=_("Portal configuration"),
        queryset=PortalConfiguration.objects.none(),
        required=False,
        empty_label=_("The default configuration"),
        help_text=_("What this customer's people may see and do in the portal."),
    )

    def clean_currency(self):
        currency = self.cleaned_data["currency"]
        try:
            customer_services.check_currency_change(self.instance_before, currency)
        except CustomerError as error:
            raise ValidationError(error.message, code=error.code) from error
        return currency

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the instance as stored: the form writes the new values into `instance` while cleaning
        self.instance_before = Customer(pk=self.instance.pk, currency=self.instance.currency)
        organization = getattr(self, "organization", None)
        field = self.fields["portal_configuration"]
        if organization is not None:
            field.queryset = PortalConfiguration.all_tenants.filter(
                organization=organization, default_of__isnull=True
            )
        if self.instance.pk:
            chosen = CustomerPortalConfiguration.all_tenants.filter(customer=self.instance).first()
            field.initial = chosen.configuration_id if chosen else None
        if not getattr(self, "may_choose_configuration", False):
            field.disabled = True
            field.help_text = _("Owners and administrators choose a customer's portal configuration.")


class PaymentMethodInline(admin.TabularInline):
    """The customer's saved cards, read only: staff never see a card number or a gateway token in
    full, and changes are the customer's own (in the portal)."""

    model = PaymentMethod
    fields = ["label_display", "holder_name", "expiry", "is_default", "status", "gateway", "token_display"]
    readonly_fields = fields
    extra = 0
    verbose_name = _("saved payment method")
    verbose_name_plural = _("saved payment methods")

    def has_view_permission(self, request, obj=None):
        return True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Card"))
    def label_display(self, method):
        return str(method)

    @admin.display(description=_("Expires"))
    def expiry(self, method):
        return f"{method.exp_month:02d}/{method.exp_year}"

    @admin.display(description=_("Gateway token"))
    def token_display(self, method):
        return mask_token(method.token)


def mask_token(token: str) -> str:
    """`pm_1NvX…` → `pm_…3xQz`: enough to find it at the gateway's dashboard, never the whole token."""
    if not token:
        return "—"
    prefix = token.split("_", 1)[0] + "_" if "_" in token else ""
    return f"{prefix}…{token[-4:]}"


@admin.register(Customer, site=console_site)
class CustomerAdmin(CustomerEmailPages, StatementEmailPages, RefusalRedirectMixin, TenantAdmin):
    form = CustomerForm
    list_display = ["display_name", "company_name", "email", "currency", "payment_terms_days", "is_active"]
    search_fields = ["display_name", "company_name", "email"]
    list_filter = ["is_active", "currency"]
    inlines = [ContactInline, admin_sso.CustomerSsoInline, PaymentMethodInline]
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
                    "statement_day",
                    "portal_configuration",
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

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.organization = getattr(request, "organization", None) or (obj.organization if obj else None)
        form.may_choose_configuration = roles.allows(request.user, "portal.portalconfiguration", roles.CHANGE)
        return form

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
        else:
            data = {f: form.cleaned_data[f] for f in form.changed_data if f != "portal_configuration"}
            try:
                customer_services.update_company(customer=obj, data=data, actor=Actor.from_request(request))
            except CustomerError as error:
                refused(request, error)
                return
            obj.refresh_from_db()
        if "portal_configuration" in form.changed_data:
            try:
                portal_services.choose_portal_configuration(
                    customer=obj,
                    configuration=form.cleaned_data["portal_configuration"],
                    actor=Actor.from_request(request),
                )
            except portal_services.PortalPreferencesRefused as error:
                refused(request, error)

    def save_formset(self, request, form, formset, change):
        if formset.model is CustomerSso:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            if not getattr(request, "_console_refused", False):
                admin_sso.save_customer_sso(request, form.instance, formset)
            return None
        if formset.model is not ContactPerson:
            return super().save_formset(request, form, formset, change)
        if getattr(request, "_console_refused", False):
            return  # the customer's own change was refused: nothing else is saved
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        touched = [
            f for f in formset.forms if f.has_changed() or (f.instance.pk and formset._should_delete_form(f))
        ]
        # grants and promotions first, so that no step on the way leaves the customer without admin
        touched.sort(key=lambda f: _end_state(f.cleaned_data, f.instance) != (True, PortalRole.ADMIN))
        for contact_form in touched:
            contact, cleaned = contact_form.instance, contact_form.cleaned_data
            try:
                if contact.pk and formset._should_delete_form(contact_form):
                    contact.delete()
                    formset.deleted_objects.append(contact)
                elif contact.pk:
                    save_contact(request, contact, cleaned, contact_form.changed_data)
                    formset.changed_objects.append((contact, contact_form.changed_data))
                else:
                    formset.new_objects.append(add_contact(request, form.instance, cleaned))
            except (AccessError, CustomerError) as error:
                refused(request, error, about=contact)


class ContactPersonForm(forms.ModelForm):
    """Portal access and role are checked as the accounts services will check them (last admin)."""

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and set(self.changed_data) & set(ACCESS_FIELDS) and not self.errors:
            stored = ContactPerson.all_tenants.get(pk=self.instance.pk)
            enabled, role = _end_state(cleaned, stored)
            try:
                access.check_access_change(contact=stored, enabled=enabled, role=role, actor=STAFF)
            except AccessError as error:
                raise ValidationError(error.message, code=error.code) from error
        return cleaned


@admin.register(ContactPerson, site=console_site)
class ContactPersonAdmin(RefusalRedirectMixin, TenantAdmin):
    form = ContactPersonForm
    list_display = ["full_name", "email", "customer", "is_primary", "has_portal_access", "portal_role"]
    search_fields = ["first_name", "last_name", "email", "customer__display_name"]
    list_filter = ["has_portal_access", "portal_role"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    actions = [invite_contacts, revoke_access, admin_portal_access.resend_portal_link]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("portal-access/", view(self.portal_access_view), name=admin_portal_access.OVERVIEW),
            path(
                "<int:pk>/resend-portal-link/",
                view(self.resend_portal_link_view),
                name="customers_contactperson_resend_portal_link",
            ),
            *super().get_urls(),
        ]

    def may_resend(self, request) -> bool:
        return roles.allows(request.user, self.opts.label_lower, "resend_portal_link")

    def portal_access_view(self, request):
        if not is_tenant_staff(request):
            raise PermissionDenied
        return admin_portal_access.overview_page(self, request)

    def resend_portal_link_view(self, request, pk):
        if not is_tenant_staff(request):
            raise PermissionDenied
        return admin_portal_access.resend_page(self, request, pk)

    def changelist_view(self, request, extra_context=None):
        extra = {"portal_access_url": admin_portal_access.overview_url(self)}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        contact = ContactPerson.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        tools = []
        if contact is not None and contact.has_portal_access and is_tenant_staff(request):
            url = reverse(
                f"{self.admin_site.name}:customers_contactperson_resend_portal_link", args=[contact.pk]
            )
            tools = [(_("Resend portal link"), url, True)]
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), **object_tools(request, contact, tools)}
        )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # a contact (and their login) stays with its customer: add a new contact to another one
        return [*fields, "customer"] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        try:
            if change:
                save_contact(request, obj, form.cleaned_data, form.changed_data)
            else:
                obj.pk = add_contact(request, form.cleaned_data["customer"], form.cleaned_data).pk
        except (AccessError, CustomerError) as error:
            refused(request, error)
        if obj.pk:
            obj.refresh_from_db()


@admin.register(User, site=console_site)
class UserAdmin(RefusalRedirectMixin, TenantAdmin, DjangoUserAdmin):
    ordering = ["email"]
    list_display = [
        "email",
        "first_name",
        "last_name",
        "contact",
        "is_staff",
        "staff_role",
        "is_active",
        "last_login",
    ]
    list_filter = ["is_staff", "staff_role", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    list_select_related = ["contact"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Person"), {"fields": ["first_name", "last_name", "contact"]}),
        (_("Access"), {"fields": ["is_active", "is_staff", "staff_role"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {"classes": ["wide"], "fields": ["email", "password1", "password2", "is_staff", "staff_role"]},
        )
    ]
    readonly_fields = ["last_login", "date_joined"]
    autocomplete_fields = ["contact"]
    filter_horizontal = []

    def save_model(self, request, obj, form, change):
        """A new role goes through its service (audited `staff.role_changed`, the last owner kept)."""
        role = obj.staff_role
        if change and "staff_role" in form.changed_data:
            obj.staff_role = form.initial["staff_role"]
        super().save_model(request, obj, form, change)
        if change and role != obj.staff_role:
            try:
                access.set_staff_role(user=obj, role=role, actor=Actor.from_request(request))
            except AccessError as error:
                refused(request, error)
            obj.refresh_from_db()


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
