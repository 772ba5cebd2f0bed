"""Reviews and the chat widget in the console.

Reviews: every customer's review, newest change first, with the count and the average rating of the
reviews listed (the filters apply) above the list. Customers write them; staff read them and answer
publicly — the review's page is the reply form (everything else read-only), saved through
`engagement.reviews.reply_to_review` (audited), and the reply is shown to the customer under its
review. Staff neither add nor delete reviews.

The chat widget: one settings row per organization, changed by owners and administrators through
`engagement.chat.configure_chat_widget` (validated, audited); the form shows its refusals as field
errors before anything is saved.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portico.console.site import TenantAdmin, console_site
from portico.core.audit import Actor
from portico.core.errors import DomainError, domain_error_message
from portico.engagement import chat, reviews
from portico.engagement.errors import ChatWidgetInvalid, ReviewInvalid
from portico.engagement.models_reviews import REPLY_MAX_LENGTH, ChatWidget, Review, chat_widget_of


class ReviewReplyForm(forms.ModelForm):
    reply = forms.CharField(
        label=_("Public reply"),
        required=False,
        max_length=REPLY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text=_("Shown to the customer under its review. Leave it empty to take the reply down."),
    )

    class Meta:
        model = Review
        fields = ["reply"]

    def clean_reply(self):
        reply = self.cleaned_data.get("reply", "")
        try:
            reviews._clean_text(reply, REPLY_MAX_LENGTH, "reply")
        except ReviewInvalid as error:
            raise ValidationError(str(error.message)) from None
        return reply


@admin.register(Review, site=console_site)
class ReviewAdmin(TenantAdmin):
    form = ReviewReplyForm
    change_list_template = "admin/engagement/review/change_list.html"
    list_display = ["customer", "stars", "comment_start", "has_reply", "updated_at"]
    list_display_links = ["customer"]
    list_filter = ["rating"]
    search_fields = ["customer__display_name", "customer__company_name", "comment", "reply"]
    list_select_related = ["customer"]
    ordering = ["-updated_at", "-id"]
    readonly_fields = [
        "customer",
        "author",
        "rating",
        "comment",
        "created_at",
        "updated_at",
        "replied_by",
        "replied_at",
    ]
    fields = [
        "customer",
        "author",
        "rating",
        "comment",
        "created_at",
        "updated_at",
        "reply",
        "replied_by",
        "replied_at",
    ]

    @admin.display(description=_("rating"), ordering="rating")
    def stars(self, obj):
        return format_html(
            '<span aria-hidden="true">{}</span> {}/5', "★" * obj.rating + "☆" * (5 - obj.rating), obj.rating
        )

    @admin.display(description=_("comment"))
    def comment_start(self, obj):
        return obj.comment if len(obj.comment) <= 80 else obj.comment[:79] + "…"

    @admin.display(description=_("replied"), boolean=True)
    def has_reply(self, obj):
        return bool(obj.reply)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            response.context_data["review_summary"] = reviews.summary(changelist.queryset)
        return response

    def save_model(self, request, obj, form, change):
        try:
            reviews.reply_to_review(
                review=obj, reply=form.cleaned_data.get("reply", ""), actor=Actor.from_request(request)
            )
        except DomainError as error:
            domain_error_message(request, error)

    def log_change(self, request, obj, message):
        return None  # audited by the service (`review.replied`)


class ChatWidgetForm(forms.ModelForm):
    script_url = forms.CharField(
        label=_("Script address"),
        max_length=500,
        required=False,
        help_text=_(
            "The https:// address of the provider's script, from its install snippet. Leave it empty "
            "for Crisp, Intercom, Zoho SalesIQ and Tawk.to: their usual address is filled in from the id."
        ),
        widget=forms.URLInput(attrs={"spellcheck": "false", "size": 60}),
    )

    class Meta:
        model = ChatWidget
        fields = ["enabled", "provider", "site_id", "script_url", "share_contact"]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            values = chat.check_chat_widget(
                enabled=cleaned.get("enabled", False),
                provider=cleaned.get("provider", ""),
                script_url=cleaned.get("script_url", ""),
                site_id=cleaned.get("site_id", ""),
                share_contact=cleaned.get("share_contact", False),
            )
        except ChatWidgetInvalid as error:
            field = error.field if error.field in self.fields else None
            raise ValidationError({field: str(error.message)} if field else str(error.message)) from None
        cleaned.update(values)
        return cleaned


@admin.register(ChatWidget, site=console_site)
class ChatWidgetAdmin(TenantAdmin):
    form = ChatWidgetForm
    list_display = ["__str__", "enabled", "site_id", "script_url", "share_contact"]

    def get_queryset(self, request):
        if getattr(request, "organization", None) is not None:
            chat_widget_of(request.organization)  # there is always one to edit
        return super().get_queryset(request)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            chat.configure_chat_widget(
                organization=obj.organization,
                actor=Actor.from_request(request),
                **{
                    key: data[key]
                    for key in ("enabled", "provider", "script_url", "site_id", "share_contact")
                },
            )
        except DomainError as error:
            domain_error_message(request, error)

    def log_change(self, request, obj, message):
        return None  # audited by the service (`chat_widget.changed`)
