"""Single sign-on connections in the console (owners and administrators), and a customer's single
sign-on rules on the customer's page.

A connection is checked when it is saved, the way a customer's IT will use it: an OpenID Connect
issuer must answer its discovery document, SAML metadata (a URL or pasted XML) must parse, and the
identity provider's certificate is read from it. The page shows the URLs to give the customer's IT.
Every change goes through `accounts.sso_services` (audited).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from portico.accounts import sso_services
from portico.accounts.errors import SsoRefused
from portico.accounts.models import (
    SSO_OIDC_FIELDS,
    SSO_SAML_FIELDS,
    CustomerSso,
    SsoConnection,
)
from portico.console import roles
from portico.console.site import RefusalRedirectMixin, TenantAdmin, console_site, refused
from portico.core.audit import Actor
from portico.customers.models import Customer

OIDC_FIELDS, SAML_FIELDS = SSO_OIDC_FIELDS, SSO_SAML_FIELDS


def check_fetchable(url: str) -> None:
    """An address the server will fetch: public and https (loopback only in tests and the demo,
    private networks only where the install allows them), as for webhooks — so that a business's
    connection cannot make Portico reach into the network it runs in."""
    from portico.notifications.destinations import check_url
    from portico.notifications.errors import UrlRefused

    try:
        check_url(url, https_message=_("Identity providers are reached over https:// only."))
    except UrlRefused as refusal:
        raise ValidationError(
            _("Portico will not fetch %(url)s: %(why)s") % {"url": url, "why": refusal.message}
        ) from None


def fetch_discovery(url: str) -> dict:
    import requests

    well_known = url if "/.well-known/" in url else url.rstrip("/") + "/.well-known/openid-configuration"
    check_fetchable(well_known)
    try:
        response = requests.get(well_known, timeout=10)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ValidationError(
            _("The provider's discovery document at %(url)s could not be read (%(error)s).")
            % {"url": well_known, "error": type(error).__name__}
        ) from error
    missing = [
        k for k in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri") if not document.get(k)
    ]
    if missing:
        raise ValidationError(
            _("The discovery document at %(url)s lacks %(fields)s.")
            % {"url": well_known, "fields": ", ".join(missing)}
        )
    for key in ("token_endpoint", "jwks_uri", "userinfo_endpoint"):  # what the server fetches at sign-in
        if document.get(key):
            check_fetchable(document[key])
    return document


def parse_saml_metadata(*, url: str = "", xml: str = "", entity_id: str = "") -> dict:
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

    if url:
        check_fetchable(url)
    try:
        if url:
            parsed = OneLogin_Saml2_IdPMetadataParser.parse_remote(
                url, entity_id=entity_id or None, timeout=10
            )
        else:
            parsed = OneLogin_Saml2_IdPMetadataParser.parse(xml, entity_id=entity_id or None)
    except Exception as error:  # a network error, an XML error or python3-saml's own
        raise ValidationError(
            _("The identity provider's metadata could not be read (%(error)s).")
            % {"error": type(error).__name__}
        ) from error
    idp = parsed.get("idp") or {}
    certificate = idp.get("x509cert") or next(iter((idp.get("x509certMulti") or {}).get("signing", [])), "")
    sso_url = (idp.get("singleSignOnService") or {}).get("url", "")
    if not idp.get("entityId") or not sso_url or not certificate:
        raise ValidationError(
            _("The metadata names no identity provider with a sign-in URL and a signing certificate.")
        )
    return {"entity_id": idp["entityId"], "sso_url": sso_url, "certificate": certificate}


class SsoConnectionForm(forms.ModelForm):
    client_secret = forms.CharField(
        label=_("client secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Stored, never shown again. Leave empty to keep the current one."),
    )
    customers = forms.ModelMultipleChoiceField(
        label=_("customers"),
        queryset=Customer.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Only contacts of these customers may use it. None chosen: any customer."),
    )

    class Meta:
        model = SsoConnection
        fields = [
            "name",
            "protocol",
            "is_active",
            "listed",
            "email_domains",
            "create_contacts",
            *OIDC_FIELDS,
            *SAML_FIELDS,
        ]
        widgets = {
            "email_domains": forms.Textarea(attrs={"rows": 2}),
            "idp_metadata_xml": forms.Textarea(attrs={"rows": 4}),
            "idp_certificate": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = getattr(self, "organization", None)
        if "customers" in self.fields and organization is not None:
            self.fields["customers"].queryset = Customer.all_tenants.filter(
                organization=organization
            ).order_by("display_name")
            if self.instance.pk:
                self.fields["customers"].initial = list(self.instance.customers.values_list("pk", flat=True))

    def clean(self):
        cleaned = super().clean()
        protocol = cleaned.get("protocol")
        errors = {}
        if protocol == SsoConnection.Protocol.OIDC:
            for field in ("discovery_url", "client_id"):
                if not cleaned.get(field):
                    errors[field] = _("Required for OpenID Connect.")
            if not cleaned.get("client_secret") and not self.instance.client_secret:
                errors["client_secret"] = _("Required for OpenID Connect.")
            if "openid" not in (cleaned.get("scopes") or "").split():
                errors["scopes"] = _("The scopes must include “openid”.")
            if not errors:
                try:
                    fetch_discovery(cleaned["discovery_url"])
                except ValidationError as error:
                    errors["discovery_url"] = error.messages
        elif protocol == SsoConnection.Protocol.SAML:
            url, xml = cleaned.get("idp_metadata_url"), (cleaned.get("idp_metadata_xml") or "").strip()
            if url or xml:
                try:
                    found = parse_saml_metadata(url=url, xml=xml, entity_id=cleaned.get("idp_entity_id", ""))
                except ValidationError as error:
                    errors["idp_metadata_url" if url else "idp_metadata_xml"] = error.messages
                else:
                    cleaned["idp_entity_id"] = found["entity_id"]
                    cleaned["idp_sso_url"] = found["sso_url"]
                    cleaned["idp_certificate"] = found["certificate"]
            else:
                for field in ("idp_entity_id", "idp_sso_url", "idp_certificate"):
                    if not cleaned.get(field):
                        errors[field] = _("Required without the identity provider's metadata.")
            if (
                not cleaned.get("attribute_email_verified")
                and not (cleaned.get("email_domains") or "").strip()
            ):
                errors["email_domains"] = _(
                    "Name the email domains this identity provider is trusted for, or the attribute "
                    "that says an address is verified."
                )
        if errors:
            raise ValidationError(errors)
        return cleaned

    def validate_unique(self):
        return None  # per organization, by the service under the database's constraint


@admin.register(SsoConnection, site=console_site)
class SsoConnectionAdmin(RefusalRedirectMixin, TenantAdmin):
    form = SsoConnectionForm
    list_display = ["name", "protocol", "is_active", "listed", "domains_display"]
    list_filter = ["protocol", "is_active"]
    readonly_fields = ["urls_display"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["name", "protocol", "is_active", "listed"]}),
            (_("Who may use it"), {"fields": ["email_domains", "customers", "create_contacts"]}),
            (_("OpenID Connect"), {"fields": OIDC_FIELDS}),
            (_("SAML 2.0"), {"fields": SAML_FIELDS}),
        ]
        if obj is not None:
            fieldsets.insert(1, (_("Give your customer's IT"), {"fields": ["urls_display"]}))
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.organization = getattr(request, "organization", None)
        return form

    @admin.display(description=_("email domains"))
    def domains_display(self, obj):
        return ", ".join(obj.domains) or "—"

    @admin.display(description=_("URLs"))
    def urls_display(self, obj):
        base = obj.organization.portal_url.removesuffix("/portal/")
        if obj.protocol == SsoConnection.Protocol.OIDC:
            rows = [
                (_("Redirect (callback) URI"), base + reverse("openid_connect_callback", args=[obj.key])),
                (_("Sign-in start URL"), base + reverse("openid_connect_login", args=[obj.key])),
            ]
        else:
            rows = [
                (_("ACS URL (single sign-on URL)"), base + reverse("saml_acs", args=[obj.key])),
                (_("Audience / SP entity ID"), base + reverse("saml_metadata", args=[obj.key])),
                (_("SP metadata"), base + reverse("saml_metadata", args=[obj.key])),
            ]
        return format_html("<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd><code>{}</code></dd>", rows))

    def save_model(self, request, obj, form, change):
        if not form.cleaned_data.get("client_secret") and change:
            obj.client_secret = SsoConnection.all_tenants.get(pk=obj.pk).client_secret
        for field in ("idp_entity_id", "idp_sso_url", "idp_certificate"):
            setattr(obj, field, form.cleaned_data.get(field, getattr(obj, field)))
        try:
            sso_services.save_connection(
                connection=obj,
                customers=list(form.cleaned_data.get("customers") or []),
                actor=Actor.from_request(request),
                organization=request.organization,
            )
        except SsoRefused as error:
            refused(request, error)

    def save_related(self, request, form, formsets, change):
        return None  # the customers are set by the service

    def delete_model(self, request, obj):
        sso_services.delete_connection(connection=obj, actor=Actor.from_request(request))

    def delete_queryset(self, request, queryset):
        for connection in queryset:
            self.delete_model(request, connection)

    def log_addition(self, request, obj, message):
        return None  # audited by the service (`sso.connection.*`)

    def log_change(self, request, obj, message):
        return None

    def log_deletions(self, request, queryset):
        return None


class CustomerSsoForm(forms.ModelForm):
    class Meta:
        model = CustomerSso
        fields = ["email_domains", "sso_required", "sso_second_factor"]
        widgets = {"email_domains": forms.Textarea(attrs={"rows": 2})}


class CustomerSsoInline(admin.StackedInline):
    """On the customer's page: the domains it owns and its single sign-on rules."""

    model = CustomerSso
    form = CustomerSsoForm
    fk_name = "customer"
    extra = 0
    max_num = 1
    can_delete = False
    verbose_name = _("single sign-on")
    verbose_name_plural = _("single sign-on")

    def _allowed(self, request, permission):
        return roles.allows(request.user, "accounts.customersso", permission)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, roles.VIEW)

    def has_add_permission(self, request, obj=None):
        return self._allowed(request, roles.ADD)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, roles.CHANGE)

    def has_delete_permission(self, request, obj=None):
        return False


def save_customer_sso(request, customer, formset) -> None:
    """The inline's one form, saved through the audited service (called by the customer admin)."""
    for form in formset.forms:
        if not form.has_changed():
            continue
        try:
            sso_services.set_customer_sso(
                customer=customer,
                email_domains=form.cleaned_data.get("email_domains", ""),
                sso_required=form.cleaned_data.get("sso_required", False),
                sso_second_factor=form.cleaned_data.get("sso_second_factor", False),
                actor=Actor.from_request(request),
            )
        except SsoRefused as error:
            refused(request, error)
