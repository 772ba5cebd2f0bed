"""The customer's review of the business: read it with the business's public reply (`reviews.view`),
write it and edit it (`reviews.post`). One review per customer (`engagement.models_reviews.Review`):
writing again edits it. The comment and the reply are shown escaped, as typed."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from portico.core.audit import Actor
from portico.engagement import reviews
from portico.engagement.errors import ReviewInvalid
from portico.engagement.models_reviews import COMMENT_MAX_LENGTH, RATINGS, Review
from portico.portal.access import portal_view


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=gettext_lazy("Your rating"),
        choices=[(str(n), str(n)) for n in RATINGS],
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose a rating from 1 to 5 stars."),
            "invalid_choice": gettext_lazy("Choose a rating from 1 to 5 stars."),
        },
    )
    comment = forms.CharField(
        label=gettext_lazy("Your comment"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("Optional; the business reads it and may answer publicly under your review."),
    )


def _own_review(portal, review_id: str) -> Review:
    """The customer's own review by its public id; another customer's (or none) is a 404."""
    review = reviews.review_of(portal.customer)
    if review is None or review.public_id != review_id:
        raise Http404
    return review


@portal_view(module="reviews")
def review_page(request):
    review = reviews.review_of(request.portal.customer)
    return render(
        request,
        "portal/reviews/page.html",
        {"review": review, "may_post": request.portal.may("reviews", "post")},
    )


def _form_page(request, review: Review | None):
    initial = {"rating": str(review.rating), "comment": review.comment} if review else None
    form = ReviewForm(request.POST if request.method == "POST" else None, initial=initial)
    context = {"form": form, "review": review, "ratings": RATINGS}
    template = "portal/reviews/form.html"
    if request.method == "GET":
        return render(request, template, context)
    if not form.is_valid():
        return render(request, template, context, status=400)
    try:
        reviews.submit_review(
            customer=request.portal.customer,
            contact=request.portal.contact,
            rating=int(form.cleaned_data["rating"]),
            comment=form.cleaned_data["comment"],
            actor=Actor.from_request(request),
        )
    except ReviewInvalid as error:
        form.add_error(error.field if error.field in form.fields else None, str(error.message))
        return render(request, template, context, status=400)
    messages.success(
        request, _("Thank you: your review is saved.") if review is None else _("Your review is updated.")
    )
    return redirect("portal:reviews")


@portal_view(module="reviews", action="post")
@require_http_methods(["GET", "POST"])
def write_review(request):
    """GET: the form; POST: the customer's review. A customer that has one edits it instead."""
    existing = reviews.review_of(request.portal.customer)
    if existing is not None:
        return redirect("portal:review_edit", review_id=existing.public_id)
    return _form_page(request, None)


@portal_view(module="reviews", action="post")
@require_http_methods(["GET", "POST"])
def edit_review(request, review_id: str):
    return _form_page(request, _own_review(request.portal, review_id))
