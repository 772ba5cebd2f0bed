"""Conversations in the console: the organization's threads with customers (newest activity first, a
mark on those with messages staff have not read), one thread with its messages and a reply box, and
closing or reopening threads (on the thread, or several at once from the list).

Support staff work them, finance and read-only staff read them (`console.roles`). The messages are
read-only: a reply is a new message through `engagement.conversations` (validated, locked, audited,
emailed to the customer's contacts in the thread); opening a thread marks it read for staff.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from portico.console.site import TenantAdmin, console_site
from portico.core.audit import Actor
from portico.core.errors import DomainError, domain_error_message
from portico.engagement import conversations as service
from portico.engagement.errors import ConversationError
from portico.engagement.models_conversations import (
    BODY_MAX_LENGTH,
    Conversation,
    ConversationAttachment,
    ConversationMessage,
)

Status = Conversation.Status


class MessageInline(admin.TabularInline):
    model = ConversationMessage
    extra = 0
    can_delete = False
    fields = ["created_at", "author_name", "author_kind", "via", "body", "files"]
    readonly_fields = fields
    ordering = ["created_at", "id"]
    verbose_name_plural = _("Messages")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return True

    @admin.display(description=_("Files"))
    def files(self, message):
        links = [
            format_html(
                '<a href="{}" download>{}</a>',
                reverse("console:engagement_conversation_file", args=[message.conversation_id, a.public_id]),
                a.filename,
            )
            for a in message.attachments.all()
        ]
        return format_html_join(", ", "{}", ((link,) for link in links)) if links else "—"


class ConversationForm(forms.ModelForm):
    reply = forms.CharField(
        label=_("Reply"),
        required=False,
        max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        help_text=_(
            "Sent to the customer's contacts in this conversation by email, and shown in their portal."
        ),
    )
    new_status = forms.ChoiceField(label=_("Status"), choices=Status.choices)

    class Meta:
        model = Conversation
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_status"].initial = self.instance.status

    def clean_reply(self):
        reply = self.cleaned_data.get("reply", "")
        if reply.strip():
            try:
                return service.clean_body(reply)
            except ConversationError as error:
                raise ValidationError(str(error.message)) from None
        return ""


@admin.register(Conversation, site=console_site)
class ConversationAdmin(TenantAdmin):
    form = ConversationForm
    list_display = ["subject", "customer", "topic", "status", "unread_by_staff", "last_message_at"]
    list_filter = ["status", "topic"]
    search_fields = ["subject", "customer__display_name"]
    list_select_related = ["customer"]
    ordering = ["-last_message_at", "-id"]
    readonly_fields = ["customer", "subject", "topic", "about", "status", "created_at", "last_message_at"]
    fieldsets = [
        (
            None,
            {"fields": ["customer", "subject", "topic", "about", "status", "created_at", "last_message_at"]},
        ),
        (_("Answer"), {"fields": ["reply", "new_status"]}),
    ]
    inlines = [MessageInline]
    actions = ["close_selected", "reopen_selected"]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/files/<str:attachment_id>/",
                view(self.file_view),
                name="engagement_conversation_file",
            ),
            *super().get_urls(),
        ]

    def file_view(self, request, pk: int, attachment_id: str):
        """An attached file, always as a download of the type its bytes are (`engagement.attachments`)."""
        thread = self.get_object(request, str(pk))
        attachment = ConversationAttachment.objects.filter(
            message__conversation=thread, public_id=attachment_id[:20]
        ).first()
        if attachment is None:
            raise Http404
        response = FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.filename,
            content_type=attachment.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def has_add_permission(self, request):
        return False  # a thread is started by a customer (in the portal, by email or through the API)

    def has_delete_permission(self, request, obj=None):
        return False  # what was said stays said

    @admin.display(description=_("Unread"), boolean=True)
    def unread_by_staff(self, obj):
        return service.unread_for_staff(obj)

    @admin.display(description=_("About"))
    def about(self, obj):
        about = obj.about
        if about is None:
            return "—"
        label = {
            Conversation.Topic.INVOICE: lambda: about.number,
            Conversation.Topic.SUBSCRIPTION: lambda: about.number,
            Conversation.Topic.PROJECT: lambda: f"{about.code} · {about.name}",
            Conversation.Topic.TIME_ENTRY: lambda: (
                f"{about.project.code}, {about.date.isoformat()}, {about.hours} h"
            ),
        }[obj.topic]()
        return format_html("{}: {}", obj.get_topic_display(), label)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            thread = Conversation.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
            if thread is not None:
                service.mark_read(conversation=thread, side=ConversationMessage.Author.STAFF)
        return response

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        data = form.cleaned_data
        try:
            if data.get("reply"):
                service.post_message(
                    conversation=obj,
                    body=data["reply"],
                    user=request.user,
                    via=ConversationMessage.Via.CONSOLE,
                    actor=actor,
                )
                if data["new_status"] == Status.CLOSED:
                    service.set_status(conversation=obj, status=Status.CLOSED, actor=actor)
            elif data["new_status"] != obj.status:
                service.set_status(conversation=obj, status=data["new_status"], actor=actor)
        except DomainError as error:
            domain_error_message(request, error)

    def save_related(self, request, form, formsets, change):
        return None  # messages are added by the service, never edited

    def construct_change_message(self, request, form, formsets, add=False):
        return []  # nothing is saved through the form itself

    def log_change(self, request, obj, message):
        return None  # audited by the service (`conversation.*`)

    def _set_status(self, request, queryset, status: str):
        actor = Actor.from_request(request)
        for thread in queryset.order_by("pk"):
            service.set_status(conversation=thread, status=status, actor=actor)
        messages.success(request, _("Done."))

    @admin.action(description=_("Close the selected conversations"), permissions=["change"])
    def close_selected(self, request, queryset):
        self._set_status(request, queryset, Status.CLOSED)

    @admin.action(description=_("Reopen the selected conversations"), permissions=["change"])
    def reopen_selected(self, request, queryset):
        self._set_status(request, queryset, Status.OPEN)
