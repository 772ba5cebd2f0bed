"""Reviews: one per customer, rated 1–5 (refused otherwise, by the service and by the database), edited
by its own customer only, answered publicly by staff in the console (with the average shown there),
text inert wherever it is shown, switched off by default, and reported to the webhooks."""

from __future__ import annotations

import json

import pytest
from django.db import IntegrityError, transaction

from portico.core import outbox
from portico.core.audit import Actor
from portico.core.models import AuditEvent
from portico.engagement import reviews
from portico.engagement.errors import ReviewInvalid
from portico.engagement.models_reviews import Review
from portico.notifications import delivery
from portico.portal import services as portal_services
from tests.conftest import tenant_client
from tests.engagement.review_factories import review
from tests.factories import ContactFactory, CustomerFactory, staff_user
from tests.notifications.factories import endpoint
from tests.notifications.receiver import Receiver

ACTOR = Actor.system("tests")
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
BACKEND = "portico.accounts.backends.TenantAuthenticationBackend"


def switch_on(org, *keys):
    portal_services.set_portal_preferences(
        organization=org, disabled=[], enabled=list(keys or ("reviews.view", "reviews.post")), actor=ACTOR
    )


def staff_client(org, role="owner"):
    client = tenant_client(org)
    client.force_login(staff_user(org, email=f"{role}@renotech.example", role=role), backend=BACKEND)
    return client


@pytest.fixture
def on(org):
    switch_on(org)


@pytest.fixture
def receiver():
    """A real webhook receiver on a free loopback port (as `tests/notifications/conftest.py`)."""
    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()


# -- the service ---------------------------------------------------------------------------------


@pytest.mark.parametrize("rating", [0, 6, -1, "", "abc", "3.5", None, True, 4.0, "10", "²", "٥"])
def test_a_rating_outside_1_to_5_is_refused_and_nothing_is_written(customer, contact, rating):
    with pytest.raises(ReviewInvalid) as refused:
        reviews.submit_review(customer=customer, contact=contact, rating=rating, comment="", actor=ACTOR)
    assert refused.value.field == "rating" and "1 to 5" in str(refused.value.message)
    assert not Review.all_tenants.exists()


def test_the_database_refuses_a_rating_outside_1_to_5_too(org, customer):
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.all_tenants.create(organization=org, customer=customer, rating=6)


def test_a_comment_over_2000_characters_is_refused(customer, contact):
    with pytest.raises(ReviewInvalid) as refused:
        reviews.submit_review(customer=customer, contact=contact, rating=5, comment="a" * 2001, actor=ACTOR)
    assert refused.value.field == "comment" and "2000" in str(refused.value.message)


def test_submitting_again_edits_the_one_review_and_both_are_audited(customer, contact):
    first = review(customer, rating=3, comment="Slow start", contact=contact)
    again = review(customer, rating=5, comment="Great finish", contact=contact)
    assert again.pk == first.pk and Review.all_tenants.count() == 1
    assert (again.rating, again.comment) == (5, "Great finish")
    submitted, changed = AuditEvent.objects.filter(action__startswith="review.").order_by("pk")
    assert submitted.action == "review.submitted" and submitted.data["rating"] == 3
    assert changed.action == "review.changed" and changed.data["previous"] == {
        "rating": 3,
        "comment": "Slow start",
    }


def test_a_contact_of_another_customer_cannot_review_for_this_one(customer, outsider_customer):
    stranger = ContactFactory(customer=outsider_customer, email="stranger@bluebird.example")
    with pytest.raises(ReviewInvalid):
        reviews.submit_review(customer=customer, contact=stranger, rating=5, comment="", actor=ACTOR)


def test_the_summary_counts_and_averages(org, customer, outsider_customer):
    assert reviews.summary(Review.objects.all()) == {"count": 0, "average": None}
    review(customer, rating=4)
    ContactFactory(customer=outsider_customer, email="b@bluebird.example")
    review(outsider_customer, rating=5)
    assert reviews.summary(Review.objects.all()) == {"count": 2, "average": 4.5}


# -- the portal ----------------------------------------------------------------------------------


def test_switched_off_by_default_the_pages_refuse_and_the_link_is_absent(portal_client, customer):
    written = review(customer)
    for url in ("/portal/reviews/", "/portal/reviews/write/", f"/portal/reviews/{written.public_id}/edit/"):
        assert portal_client.get(url).status_code == 404
    assert portal_client.post("/portal/reviews/write/", {"rating": "5"}).status_code == 404
    assert Review.all_tenants.get().rating == 4  # unchanged
    assert 'href="/portal/reviews/"' not in portal_client.get("/portal/").content.decode()


def test_viewing_without_posting_shows_the_review_and_no_write_link(org, portal_client, customer):
    switch_on(org, "reviews.view")
    review(customer)
    page = portal_client.get("/portal/reviews/").content.decode()
    assert "Good work on the kitchen." in page and "/edit/" not in page
    assert portal_client.get("/portal/reviews/write/").status_code == 404
    assert 'href="/portal/reviews/"' in portal_client.get("/portal/").content.decode()


def test_a_customer_writes_then_edits_its_review_in_the_portal(on, portal_client, customer):
    assert portal_client.get("/portal/reviews/write/").status_code == 200
    response = portal_client.post("/portal/reviews/write/", {"rating": "4", "comment": "Tidy work"})
    assert response.status_code == 302 and response["Location"] == "/portal/reviews/"
    written = Review.all_tenants.get(customer=customer)
    assert (written.rating, written.comment, written.author.email) == (4, "Tidy work", "maria@acme.example")
    # writing again goes to editing the same review
    assert (
        portal_client.get("/portal/reviews/write/")["Location"]
        == f"/portal/reviews/{written.public_id}/edit/"
    )
    edit = f"/portal/reviews/{written.public_id}/edit/"
    assert 'value="4" checked' in portal_client.get(edit).content.decode()
    assert portal_client.post(edit, {"rating": "2", "comment": "Changed my mind"}).status_code == 302
    assert Review.all_tenants.get().rating == 2 and Review.all_tenants.count() == 1


@pytest.mark.parametrize("rating", ["0", "6", "", "five", "-1", "4.5"])
def test_a_rating_outside_1_to_5_is_refused_in_the_portal_with_a_message(on, portal_client, rating):
    response = portal_client.post("/portal/reviews/write/", {"rating": rating, "comment": "Kept"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose a rating from 1 to 5 stars." in page and ">Kept</textarea>" in page  # nothing lost
    assert not Review.all_tenants.exists()


def test_a_too_long_comment_is_refused_with_a_message(on, portal_client):
    response = portal_client.post("/portal/reviews/write/", {"rating": "3", "comment": "x" * 2001})
    assert response.status_code == 400 and "2000 characters" in response.content.decode()
    assert not Review.all_tenants.exists()


def test_another_customers_review_is_not_found(on, org, portal_client, outsider_customer):
    ContactFactory(customer=outsider_customer, email="b@bluebird.example")
    theirs = review(outsider_customer, rating=1, comment="Theirs")
    edit = f"/portal/reviews/{theirs.public_id}/edit/"
    assert portal_client.get(edit).status_code == 404
    assert portal_client.post(edit, {"rating": "5", "comment": "Hijacked"}).status_code == 404
    assert (Review.all_tenants.get().rating, Review.all_tenants.get().comment) == (1, "Theirs")
    assert "Theirs" not in portal_client.get("/portal/reviews/").content.decode()


def test_another_organizations_review_is_not_found(on, portal_client, other_org):
    foreign_customer = CustomerFactory(organization=other_org)
    ContactFactory(customer=foreign_customer, email="x@northwind.example")
    theirs = review(foreign_customer)
    assert portal_client.get(f"/portal/reviews/{theirs.public_id}/edit/").status_code == 404


def test_script_in_a_comment_and_in_the_reply_is_inert(on, org, portal_client, customer, contact):
    written = review(customer, comment=XSS, contact=contact)
    reviews.reply_to_review(review=written, reply=XSS, actor=ACTOR)
    page = portal_client.get("/portal/reviews/").content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert page.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") == 2
    console = staff_client(org)
    listing = console.get("/console/engagement/review/").content.decode()
    assert "<script>alert" not in listing and "&lt;script&gt;" in listing
    detail = console.get(f"/console/engagement/review/{written.pk}/change/").content.decode()
    assert "<script>alert" not in detail and "<img src=x" not in detail


# -- the console ---------------------------------------------------------------------------------


def test_staff_see_every_review_with_the_count_and_average_and_reply_publicly(
    org, customer, contact, outsider_customer, portal_client
):
    switch_on(org)
    review(customer, rating=3, contact=contact)
    ContactFactory(customer=outsider_customer, email="b@bluebird.example")
    theirs = review(outsider_customer, rating=4)
    console = staff_client(org, role="support")
    listing = console.get("/console/engagement/review/").content.decode()
    assert "Average rating 3.5 out of 5 from 2 reviews." in listing
    assert "Acme Interiors" in listing and "Bluebird Cafe" in listing
    searched = console.get("/console/engagement/review/?q=Bluebird").content.decode()
    assert "from 1 review." in searched and "Acme Interiors" not in searched
    filtered = console.get("/console/engagement/review/?rating__exact=4").content.decode()
    assert "Average rating 4.0 out of 5 from 1 review." in filtered
    mine = Review.all_tenants.get(customer=customer)
    url = f"/console/engagement/review/{mine.pk}/change/"
    assert console.post(url, {"reply": "Sorry for the slow start; thank you!"}).status_code == 302
    mine.refresh_from_db()
    assert (
        mine.reply == "Sorry for the slow start; thank you!"
        and mine.replied_by.email == "support@renotech.example"
    )
    assert (mine.rating, mine.comment) == (3, "Good work on the kitchen.")  # staff change the reply only
    event = AuditEvent.objects.get(action="review.replied")
    assert event.data["reply"] == mine.reply and "support@renotech.example" in event.actor_label
    assert theirs.reply == ""
    page = portal_client.get("/portal/reviews/").content.decode()
    assert "RenoTech Solutions replied" in page and "Sorry for the slow start; thank you!" in page


def test_read_only_staff_cannot_reply_and_no_one_adds_or_deletes(org, customer, contact):
    written = review(customer, contact=contact)
    reader = staff_client(org, role="read_only")
    url = f"/console/engagement/review/{written.pk}/change/"
    assert reader.get(url).status_code == 200
    assert reader.post(url, {"reply": "Nope"}).status_code == 403
    owner = staff_client(org, role="owner")
    assert owner.get("/console/engagement/review/add/").status_code == 403
    assert owner.get(f"/console/engagement/review/{written.pk}/delete/").status_code == 403
    written.refresh_from_db()
    assert written.reply == "" and Review.all_tenants.count() == 1


def test_a_reply_over_2000_characters_is_refused_with_a_message(org, customer, contact):
    written = review(customer, contact=contact)
    response = staff_client(org).post(
        f"/console/engagement/review/{written.pk}/change/", {"reply": "y" * 2001}
    )
    assert response.status_code == 200 and "2000 characters" in response.content.decode()
    written.refresh_from_db()
    assert written.reply == ""


def test_another_organizations_review_is_not_found_in_the_console(org, other_org):
    foreign_customer = CustomerFactory(organization=other_org)
    ContactFactory(customer=foreign_customer, email="x@northwind.example")
    theirs = review(foreign_customer)
    assert staff_client(org).get(f"/console/engagement/review/{theirs.pk}/change/").status_code == 404


# -- the webhook ---------------------------------------------------------------------------------


def test_a_submitted_and_an_edited_review_reach_a_real_receiver(
    on, org, portal_client, customer, receiver, clock
):
    endpoint(org, url=receiver.url(), events=["review.submitted"])
    portal_client.post("/portal/reviews/write/", {"rating": "5", "comment": "Lovely <b>team</b>"})
    written = Review.all_tenants.get()
    portal_client.post(
        f"/portal/reviews/{written.public_id}/edit/", {"rating": "4", "comment": "Lovely team"}
    )
    outbox.deliver_all_due()
    delivery.send_all_due()
    first, second = (json.loads(r.body) for r in receiver.requests)
    assert first["type"] == second["type"] == "review.submitted"
    data = first["data"]
    assert data["object"] == "review" and data["id"] == f"rev_{written.public_id}"
    assert (data["rating"], data["edited"]) == (4, False)  # read when fanned out: the review as it is now
    assert data["customer"]["id"] == f"cus_{customer.public_id}" and data["author"]["name"] == "Maria Lopez"
    assert second["data"]["edited"] is True and second["data"]["comment"] == "Lovely team"
    assert "details" not in data  # nothing but the review and its customer
