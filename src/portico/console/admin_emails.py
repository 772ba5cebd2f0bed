"""Customer emails in the console: the organization's templates (every declared kind, on or off, its
own subject and text with a live preview) and the delivery log of what was sent, per customer, with
"Resend".

- Templates (`EmailTemplateAdmin`): the list shows every kind `core.email_kinds` declares for
  customers, whether a row exists or not; each kind's page edits it. Owners and administrators
  change them; the other roles read (`console.roles`). The preview endpoint renders subject and
  HTML with the kind's sample data; the page shows it in a sandboxed frame (no scripts run in it)
  and `console/email_preview.js` re-renders it as staff type (CSP allows no inline script).
- Delivery log (`SentEmailAdmin`): read-only; the customer's page links to its emails. "Resend"
  (finance and support too) queues the stored message again, once per form (`email_log`).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.console import roles
from portico.console.site import TenantAdmin, console_site
from portico.core.audit import Actor
from portico.core.email_kinds import kinds
from portico.core.errors import DomainError, add_domain_error, domain_error_message
from portico.notifications import email_log, email_templates
from portico.notifications.models import SUBJECT_MAX_LENGTH, EmailTemplate, SentEmail

TEMPLATE_PAGE = "email_template"
PREVIEW_PAGE = "email_preview"
RESEND = "resend_email"


class EmailTemplateForm(forms.Form):
    is_enabled = forms.BooleanField(label=gettext_lazy("Send this email"), required=False)
    # No max_length: `email_templates.check_override` says what is too long, in words.
    subject = forms.CharField(
        label=gettext_lazy("Subject"),
        required=False,
        help_text=gettext_lazy("Leave empty for Portico's subject."),
        widget=forms.TextInput(attrs={"size": 80, "maxlength": SUBJECT_MAX_LENGTH, "spellcheck": "true"}),
    )
    body = forms.CharField(
        label=gettext_lazy("Text"),
        required=False,
        help_text=gettext_lazy(
            "Plain text; blank lines start a new paragraph and addresses become links. Leave empty "
            "for Portico's text."
        ),
        widget=forms.Textarea(attrs={"rows": 16, "cols": 80}),
    )


@admin.register(EmailTemplate, site=console_site)
class EmailTemplateAdmin(TenantAdmin):
    """The list and the edit page are our own: a kind has a page before the organization saves a row."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        label = "notifications_emailtemplate"
        return [
            path("", view(self.changelist_view), name=f"{label}_changelist"),
            path("<str:key>/", view(self.template_view), name=f"{label}_{TEMPLATE_PAGE}"),
            path("<str:key>/preview/", view(self.preview_view), name=f"{label}_{PREVIEW_PAGE}"),
        ]

    def _url(self, page: str, kind) -> str:
        return reverse(f"{self.admin_site.name}:notifications_emailtemplate_{page}", args=[kind.key])

    def changelist_view(self, request, extra_context=None):
        organization = request.organization
        if organization is None:
            raise Http404
        if request.method == "POST":  # no list actions here (the site's delete is not offered)
            raise PermissionDenied
        rows = {row.kind: row for row in EmailTemplate.objects.all()}
        entries = []
        for kind in kinds().customisable():
            row = rows.get(kind.template)
            entries.append(
                {
                    "kind": kind,
                    "url": self._url(TEMPLATE_PAGE, kind),
                    "is_enabled": not kind.switchable or row is None or row.is_enabled,
                    "is_overridden": bool(row and row.is_overridden),
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Customer emails"),
            "opts": self.model._meta,
            "entries": entries,
            "can_change": self.has_change_permission(request),
        }
        return TemplateResponse(request, "admin/notifications/emailtemplate/kinds.html", context)

    def _kind(self, request, key):
        kind = email_templates.kind_for(key)
        if kind is None or request.organization is None:
            raise Http404
        return kind

    def template_view(self, request, key):
        kind = self._kind(request, key)
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        organization = request.organization
        row = email_templates.template_of(organization, kind)
        initial = {
            "is_enabled": row is None or row.is_enabled,
            "subject": row.subject if row else "",
            "body": row.body if row else "",
        }
        form = EmailTemplateForm(initial=initial)
        can_change = self.has_change_permission(request)
        if request.method == "POST":
            if not can_change:
                raise PermissionDenied
            actor = Actor.from_request(request)
            if request.POST.get("intent") == "restore":
                email_templates.restore_default(organization=organization, kind=kind, actor=actor)
                messages.success(request, _("“%(label)s” uses Portico's text again.") % {"label": kind.label})
                return HttpResponseRedirect(request.path)
            form = EmailTemplateForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    email_templates.save_email_template(
                        organization=organization,
                        kind=kind,
                        is_enabled=data["is_enabled"] or not kind.switchable,
                        subject=data["subject"],
                        body=data["body"],
                        actor=actor,
                    )
                except DomainError as error:
                    add_domain_error(form, error)
                else:
                    messages.success(request, _("“%(label)s” was saved.") % {"label": kind.label})
                    return HttpResponseRedirect(request.path)
        if not kind.switchable:
            form.fields["is_enabled"].disabled = True
            form.fields["is_enabled"].help_text = kind.why_always
        source = form.data if form.is_bound else form.initial
        context = {
            **self.admin_site.each_context(request),
            "title": kind.label,
            "opts": self.model._meta,
            "kind": kind,
            "form": form,
            "row": row,
            "can_change": can_change,
            "preview": email_templates.preview(
                organization=organization,
                kind=kind,
                subject=source.get("subject", ""),
                body=source.get("body", ""),
            ),
            "preview_url": self._url(PREVIEW_PAGE, kind),
            "changelist_url": reverse(f"{self.admin_site.name}:notifications_emailtemplate_changelist"),
        }
        return TemplateResponse(request, "admin/notifications/emailtemplate/edit.html", context)

    def preview_view(self, request, key):
        """POST the form's subject and text: the preview as JSON (nothing is saved)."""
        kind = self._kind(request, key)  # first: an unknown kind is 404 whatever the method
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return JsonResponse(
            email_templates.preview(
                organization=request.organization,
                kind=kind,
                subject=request.POST.get("subject", ""),
                body=request.POST.get("body", ""),
            )
        )


@admin.register(SentEmail, site=console_site)
class SentEmailAdmin(TenantAdmin):
    list_display = ["created_at", "kind_label", "recipients", "subject", "customer", "status_shown"]
    list_display_links = ["subject"]
    list_filter = ["kind"]
    search_fields = ["subject", "to", "customer__display_name"]
    list_select_related = ["customer", "event"]
    fields = [
        "created_at",
        "kind_label",
        "recipients",
        "subject",
        "customer",
        "status_shown",
        "attempts",
        "last_error",
        "resent_from",
        "text",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("customer", "event")
            .prefetch_related("event__deliveries")
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/resend/", view(self.resend_view), name=f"notifications_sentemail_{RESEND}"),
            *super().get_urls(),
        ]

    @admin.display(description=gettext_lazy("email"))
    def kind_label(self, obj):
        kind = kinds().get(obj.kind)
        return kind.label if kind is not None else obj.kind

    @admin.display(description=gettext_lazy("to"))
    def recipients(self, obj):
        return ", ".join(obj.to)

    @admin.display(description=gettext_lazy("status"))
    def status_shown(self, obj):
        status = email_log.status_of(obj)
        if status.status == SentEmail.Status.SENT and status.sent_at:
            return format_html("{} ({})", status.label, status.sent_at.strftime("%Y-%m-%d %H:%M UTC"))
        if status.last_error:
            return format_html("{} — {}", status.label, status.last_error[:200])
        return status.label

    @admin.display(description=gettext_lazy("attempts"))
    def attempts(self, obj):
        return email_log.status_of(obj).attempts

    @admin.display(description=gettext_lazy("last error"))
    def last_error(self, obj):
        return email_log.status_of(obj).last_error or "—"

    @admin.display(description=gettext_lazy("text"))
    def text(self, obj):
        lines = str(obj.event.payload.get("text", "")).split("\n")
        return format_html("<div style='white-space:pre-wrap'>{}</div>", "\n".join(lines))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = dict(extra_context or {})
        if str(object_id).isdigit() and roles.allows(request.user, "notifications.sentemail", RESEND):
            context["resend_url"] = reverse(
                f"{self.admin_site.name}:notifications_sentemail_{RESEND}", args=[object_id]
            )
            context["resend_token"] = email_log.new_resend_token()
        return super().change_view(request, object_id, form_url, context)

    def resend_view(self, request, pk):
        """POST: queue the message again (once per form, however often it is submitted)."""
        sent_email = get_object_or_404(SentEmail.objects.all(), pk=pk)  # another organization's: 404
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            row = email_log.resend_email(
                sent_email=sent_email, actor=Actor.from_request(request), token=request.POST.get("token", "")
            )
        except DomainError as error:
            domain_error_message(request, error)
            return HttpResponseRedirect(
                reverse(f"{self.admin_site.name}:notifications_sentemail_change", args=[pk])
            )
        messages.success(request, _("The email was queued again, to %(to)s.") % {"to": ", ".join(row.to)})
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:notifications_sentemail_change", args=[row.pk])
        )


class CustomerEmailPages:
    """Mixed into the customer admin: its page links to the emails sent to the customer."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        tools = list((extra_context or {}).get("billing_tools", []))
        if str(object_id).isdigit() and roles.allows(request.user, "notifications.sentemail", roles.VIEW):
            url = reverse(f"{self.admin_site.name}:notifications_sentemail_changelist")
            tools.append(
                {"label": _("Emails"), "url": f"{url}?customer__id__exact={object_id}", "post": False}
            )
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "billing_tools": tools}
        )
