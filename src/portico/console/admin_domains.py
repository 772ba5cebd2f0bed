"""The organization's custom domain in the console: enter the host, see the DNS records to create,
verify them, remove the domain.

One page of the organization admin (`core_organization_custom_domain`), for owners and
administrators: `console.roles` declares the `custom_domain` permission for no other role, so the
site's URL guard answers 403 to them. Every change goes through `core.domains` (validated, locked,
audited); a refusal is shown on the page and changes nothing.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.console import roles
from portico.core import domains
from portico.core.audit import Actor
from portico.core.errors import DomainError, add_domain_error, domain_error_message

PERMISSION = "custom_domain"


class CustomDomainForm(forms.Form):
    # No max_length: `core.domains` says what is wrong with a long name, in words.
    domain = forms.CharField(
        label=gettext_lazy("Custom domain"),
        help_text=gettext_lazy(
            "The address your customers will open, like billing.yourcompany.com: a host name only, "
            "without https:// or a path."
        ),
        widget=forms.TextInput(
            attrs={"spellcheck": "false", "autocapitalize": "none", "autocomplete": "off", "size": 50}
        ),
    )


class CustomDomainPages:
    """Mixed into the organization admin."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/custom-domain/",
                view(self.custom_domain_view),
                name=f"core_organization_{PERMISSION}",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        tools = []
        if str(object_id).isdigit() and roles.allows(request.user, "core.organization", PERMISSION):
            url = reverse(f"{self.admin_site.name}:core_organization_{PERMISSION}", args=[object_id])
            tools.append({"label": _("Custom domain"), "url": url, "post": False})
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "billing_tools": tools}
        )

    def custom_domain_view(self, request, pk):
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        organization = self.get_object(request, str(pk))  # another organization's: 404
        page = request.path
        form = CustomDomainForm(initial={"domain": domains.display_domain(organization.custom_domain or "")})
        intent = request.POST.get("intent", "save") if request.method == "POST" else None
        actor = Actor.from_request(request)
        if intent == "save":
            form = CustomDomainForm(request.POST)
            if form.is_valid():
                try:
                    organization = domains.set_custom_domain(
                        organization=organization, domain=form.cleaned_data["domain"], actor=actor
                    )
                except DomainError as error:
                    add_domain_error(form, error)
                else:
                    messages.success(
                        request,
                        _("Saved. Create the two DNS records below at your DNS host, then verify."),
                    )
                    return HttpResponseRedirect(page)
        elif intent == "verify":
            try:
                domains.verify_custom_domain(organization=organization, actor=actor)
            except DomainError as error:
                domain_error_message(request, error)
            else:
                messages.success(
                    request,
                    _("Verified: your portal answers on %(domain)s now.")
                    % {"domain": organization.custom_domain},
                )
            return HttpResponseRedirect(page)
        elif intent == "remove":
            if request.POST.get("confirm") != "yes":
                return self._render(request, organization, form, confirm_removal=True)
            try:
                domains.remove_custom_domain(organization=organization, actor=actor)
            except DomainError as error:
                domain_error_message(request, error)
            else:
                messages.success(request, _("The custom domain was removed."))
            return HttpResponseRedirect(page)
        return self._render(request, organization, form)

    def _render(self, request, organization, form, *, confirm_removal=False):
        domain = organization.custom_domain
        context = {
            **self.admin_site.each_context(request),
            "title": _("Custom domain"),
            "opts": self.model._meta,
            "object": organization,
            "form": form,
            "domain": domain,
            "domain_shown": domains.display_domain(domain) if domain else "",
            "is_verified": bool(domain and organization.domain_verified_at),
            "verified_at": organization.domain_verified_at,
            "records": domains.dns_records(organization),
            "cname_target": domains.cname_target(),
            "subdomain_host": f"{organization.slug}.{settings.PORTICO_BASE_DOMAIN}",
            "portal_url": organization.public_url("/portal/") if organization.domain_verified_at else "",
            "confirm_removal": confirm_removal,
        }
        return TemplateResponse(request, "admin/core/organization/custom_domain.html", context)
