"""The console's portal-access overview of contacts and its "Resend portal link" (row button,
bulk action, and the contact's page), pages of `ContactPersonAdmin` in `console.admin`."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from portico.accounts import portal_access
from portico.accounts.errors import AccessError
from portico.core import clock
from portico.core.audit import Actor
from portico.core.errors import domain_error_message
from portico.customers.models import ContactPerson, Customer

PAGE_SIZE = 50
OVERVIEW = "customers_contactperson_portal_access"


def overview_url(model_admin) -> str:
    return reverse(f"{model_admin.admin_site.name}:{OVERVIEW}")


def overview_page(model_admin, request):
    """Every contact with access, a login or an open invitation: filtered, searched, paginated, and
    a fixed number of queries whatever the number of contacts."""
    status = request.GET.get("status") or None
    customer_id = request.GET.get("customer", "")
    query = request.GET.get("q", "").strip()
    contacts = ContactPerson.objects.all()
    if customer_id.isdigit():
        contacts = contacts.filter(customer_id=int(customer_id))
    if query:
        contacts = contacts.filter(
            Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
            | Q(email__icontains=query)
            | Q(customer__display_name__icontains=query)
        )
    rows = portal_access.portal_access_rows(contacts, status=status)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    now = clock.now()
    for contact in page.object_list:
        contact.invitation_expired = bool(
            contact.invitation_expires_at and contact.invitation_expires_at <= now
        )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Portal access"),
        "opts": ContactPerson._meta,
        "page": page,
        "statuses": portal_access.AccessStatus.choices,
        "status": status,
        "customers": Customer.objects.order_by("display_name").values_list("pk", "display_name"),
        "customer_id": customer_id,
        "q": query,
        "can_resend": model_admin.may_resend(request),
        "changelist_url": reverse(f"{model_admin.admin_site.name}:customers_contactperson_changelist"),
    }
    return TemplateResponse(request, "admin/customers/contactperson/portal_access.html", context)


def resend_to(request, contacts) -> int:
    """Resend to each contact, a message per refusal; the number of emails sent."""
    actor = Actor.from_request(request)
    sent = 0
    for contact in contacts:
        try:
            if portal_access.resend_portal_link(contact=contact, actor=actor) is not None:
                sent += 1
        except AccessError as error:
            domain_error_message(request, error, about=contact)
    if sent:
        messages.success(request, ngettext("%d portal link sent.", "%d portal links sent.", sent) % sent)
    return sent


def resend_page(model_admin, request, pk):
    """POST: resend one contact's portal link, then back to where the button was."""
    contact = get_object_or_404(ContactPerson.objects.all(), pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    resend_to(request, [contact])
    back = request.POST.get("next", "")
    if back not in (overview_url(model_admin),):
        back = reverse(f"{model_admin.admin_site.name}:customers_contactperson_change", args=[contact.pk])
    return HttpResponseRedirect(back)


@admin.action(description=gettext_lazy("Resend portal link to selected contacts"))
def resend_portal_link(modeladmin, request, queryset):
    resend_to(request, queryset.order_by("pk"))
    if request.POST.get("next") == overview_url(modeladmin):
        return HttpResponseRedirect(overview_url(modeladmin))
    return None
