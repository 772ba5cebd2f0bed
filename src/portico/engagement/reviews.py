"""Reviews: written and edited by the customer's contacts in the portal, answered publicly by staff in
the console. Every write is validated first, then made under a lock and audited.

Rules: a rating is a whole number 1–5 (the database checks it too); a comment and a reply are at most
2,000 characters, stored as typed (the templates escape them; nothing is ever marked safe); one review
per customer (`Review`'s docstring says why), so submitting again edits it. `review.submitted` goes to
the outbox (and the webhooks) when a review is first submitted and when its customer changes it, with
`edited` telling which.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count
from django.utils.translation import gettext as _

from portico.core import clock, outbox
from portico.core.audit import Actor, audit
from portico.engagement.errors import ReviewInvalid
from portico.engagement.models_reviews import COMMENT_MAX_LENGTH, RATINGS, REPLY_MAX_LENGTH, Review


def _clean_rating(rating) -> int:
    if isinstance(rating, str):
        rating = rating.strip()
        rating = int(rating) if rating.isascii() and rating.isdigit() else None
    if isinstance(rating, bool) or not isinstance(rating, int) or rating not in RATINGS:
        raise ReviewInvalid(_("Choose a rating from 1 to 5 stars."), field="rating")
    return rating


def _clean_text(text, limit: int, field: str) -> str:
    text = (text or "").strip().replace("\r\n", "\n").replace("\x00", "")
    if len(text) > limit:
        raise ReviewInvalid(
            _("Keep it to %(max)d characters or fewer (this is %(length)d).")
            % {"max": limit, "length": len(text)},
            field=field,
        )
    return text


def review_of(customer) -> Review | None:
    """The customer's own review, if it wrote one."""
    return Review.all_tenants.filter(organization_id=customer.organization_id, customer=customer).first()


def submit_review(*, customer, contact, rating, comment: str, actor: Actor) -> Review:
    """Write the customer's review, or change it if it has one (a second submission edits the first)."""
    rating = _clean_rating(rating)
    comment = _clean_text(comment, COMMENT_MAX_LENGTH, "comment")
    if contact is not None and contact.customer_id != customer.pk:
        raise ReviewInvalid(_("Only the customer's own contacts can review for it."))
    for _attempt in range(2):  # a concurrent first submission: the second becomes an edit
        try:
            with transaction.atomic():
                return _submit(customer, contact, rating, comment, actor)
        except IntegrityError:
            continue
    raise ReviewInvalid(_("The review could not be saved; please try again."))


def _submit(customer, contact, rating: int, comment: str, actor: Actor) -> Review:
    review = (
        Review.all_tenants.select_for_update()
        .filter(organization_id=customer.organization_id, customer=customer)
        .first()
    )
    if review is None:
        review = Review.all_tenants.create(
            organization_id=customer.organization_id,
            customer=customer,
            author=contact,
            rating=rating,
            comment=comment,
        )
        audit(actor, "review.submitted", review, rating=rating, comment=comment)
        outbox.emit_for("review.submitted", review, once=False, rating=rating, edited=False)
        return review
    if (review.rating, review.comment) == (rating, comment):
        return review
    previous = {"rating": review.rating, "comment": review.comment}
    review.rating, review.comment, review.author = rating, comment, contact
    review.save(update_fields=["rating", "comment", "author", "updated_at"])
    audit(actor, "review.changed", review, previous=previous, rating=rating, comment=comment)
    outbox.emit_for("review.submitted", review, once=False, rating=rating, edited=True)
    return review


def reply_to_review(*, review: Review, reply: str, actor: Actor) -> Review:
    """Staff's public answer, shown to the customer under its review (empty takes the reply down)."""
    reply = _clean_text(reply, REPLY_MAX_LENGTH, "reply")
    with transaction.atomic():
        locked = Review.all_tenants.select_for_update().get(pk=review.pk)
        if locked.reply == reply:
            return locked
        previous = locked.reply
        locked.reply = reply
        locked.replied_by = actor.user if reply and getattr(actor.user, "pk", None) else None
        locked.replied_at = clock.now() if reply else None
        locked.save(update_fields=["reply", "replied_by", "replied_at", "updated_at"])
        audit(
            actor,
            "review.replied" if reply else "review.reply_removed",
            locked,
            previous=previous,
            reply=reply,
        )
    return locked


def summary(queryset) -> dict:
    """The count and average rating (one decimal; None with no reviews) of these reviews."""
    found = queryset.aggregate(count=Count("pk"), average=Avg("rating"))
    average = found["average"]
    return {"count": found["count"], "average": round(float(average), 1) if average is not None else None}
