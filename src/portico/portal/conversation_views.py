"""Conversations in the portal: the customer's threads with their unread marks, one thread (reading
it clears its mark), a new thread — general, or about an invoice, subscription, project or time entry
named by `?about=<kind>:<id>` — and a reply.

What a thread may be about is looked up through the portal's own helpers for that kind, so an invoice
of another customer (or of a module switched off for this one) is a 404 here as on its own page. The
services (`engagement.conversations`) check it again and own every write.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.core.audit import Actor
from portico.core.errors import add_domain_error
from portico.engagement import conversations as service
from portico.engagement.errors import ConversationError
from portico.engagement.models_conversations import BODY_MAX_LENGTH, SUBJECT_MAX_LENGTH, ConversationMessage
from portico.portal.access import portal_view
from portico.portal.ledger_queries import get_invoice_for
from portico.portal.project_views import project_for
from portico.portal.subscription_views import subscription_for
from portico.projects.models import TimeEntry

Via = ConversationMessage.Via


class MessageForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Message"), max_length=BODY_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 6})
    )


class NewConversationForm(MessageForm):
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=SUBJECT_MAX_LENGTH, required=False)
    about = forms.CharField(required=False, widget=forms.HiddenInput, max_length=80)

    field_order = ["subject", "body", "about"]


def about_for(portal, value: str):
    """The object `?about=invoice:INV-0042` names, if this customer may see it; "" is a general
    thread (None). Anything else is a 404."""
    if not value:
        return None
    kind, _sep, key = value.partition(":")
    key = key[:40]
    if kind == "invoice" and portal.may("invoices"):
        return get_invoice_for(portal, key)
    if kind == "subscription" and portal.may("subscriptions"):
        return subscription_for(portal, key)
    if kind == "project" and portal.may("projects"):
        return project_for(portal, key)
    if kind == "time_entry" and portal.may("projects"):
        entry = (
            TimeEntry.objects.filter(project__customer=portal.customer, public_id=key)
            .select_related("project")
            .first()
        )
        if entry is not None:
            return entry
    raise Http404


def _thread_or_404(portal, public_id):
    thread = service.conversation_for(portal.customer, public_id)
    if thread is None:
        raise Http404
    thread.organization, thread.customer = portal.organization, portal.customer
    return thread


@portal_view(module="conversations")
def conversation_list(request):
    portal = request.portal
    return render(
        request,
        "portal/conversations/list.html",
        {
            "threads": list(service.conversations_of(portal.customer)[:200]),
            "can_post": portal.may("conversations", "post"),
        },
    )


@portal_view(module="conversations", action="post")
def conversation_new(request):
    portal = request.portal
    data = request.POST if request.method == "POST" else None
    form = NewConversationForm(data, initial={"about": request.GET.get("about", "")[:80]})
    about_value = (request.POST.get("about") if data is not None else request.GET.get("about")) or ""
    about = about_for(portal, about_value[:80])
    if data is not None and form.is_valid():
        try:
            thread = service.start_conversation(
                customer=portal.customer,
                contact=portal.contact,
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                about=about,
                via=Via.PORTAL,
                actor=Actor.from_request(request),
                attachments=request.FILES.getlist("attachment"),
            )
        except ConversationError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request, _("Your message was sent. You will get an email when the answer comes.")
            )
            return redirect("portal:conversation", thread_id=thread.public_id)
    status = 400 if data is not None else 200
    return render(
        request,
        "portal/conversations/new.html",
        {"form": form, "about": about, "default_subject": service.default_subject(about) if about else ""},
        status=status,
    )


@portal_view(module="conversations")
def conversation_detail(request, thread_id: str):
    portal = request.portal
    thread = _thread_or_404(portal, thread_id)
    unread_since = thread.customer_read_at
    thread_messages = list(thread.messages.order_by("created_at", "id").prefetch_related("attachments"))
    service.mark_read(conversation=thread, side=ConversationMessage.Author.CUSTOMER)
    return render(
        request,
        "portal/conversations/detail.html",
        {
            "thread": thread,
            "thread_messages": thread_messages,
            "unread_since": unread_since,
            "can_post": portal.may("conversations", "post"),
            "form": MessageForm(),
        },
    )


@portal_view(module="conversations", action="post")
def conversation_reply(request, thread_id: str):
    portal = request.portal
    thread = _thread_or_404(portal, thread_id)
    if request.method != "POST":
        return redirect("portal:conversation", thread_id=thread.public_id)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            service.post_message(
                conversation=thread,
                body=form.cleaned_data["body"],
                contact=portal.contact,
                via=Via.PORTAL,
                actor=Actor.from_request(request),
                attachments=request.FILES.getlist("attachment"),
            )
        except ConversationError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Your message was sent."))
            return redirect("portal:conversation", thread_id=thread.public_id)
    return render(
        request,
        "portal/conversations/detail.html",
        {
            "thread": thread,
            "thread_messages": list(
                thread.messages.order_by("created_at", "id").prefetch_related("attachments")
            ),
            "unread_since": thread.customer_read_at,
            "can_post": True,
            "form": form,
        },
        status=400,
    )


@portal_view(module="conversations")
def conversation_attachment(request, thread_id: str, attachment_id: str):
    """Always a download, of the type its bytes are (`engagement.attachments`): never rendered."""
    attachment = service.attachment_for(request.portal.customer, thread_id, attachment_id)
    if attachment is None:
        raise Http404
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.filename, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
