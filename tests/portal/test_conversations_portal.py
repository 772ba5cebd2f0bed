"""Conversations in the portal (issue 15, item 1): the customer's threads with unread marks, a thread
read and answered, a new one opened from an invoice page or on its own; another customer's thread is
a 404; what anyone writes renders as text; switched off, the pages answer 404 and the links vanish."""

from __future__ import annotations

import pytest

from portico.core.audit import Actor
from portico.engagement.models_conversations import Conversation
from portico.portal.services import set_portal_preferences
from tests.billing.factories import open_invoice
from tests.engagement.conversation_factories import conversation, staff_reply
from tests.factories import ContactFactory, staff_user
from tests.portal.conftest import client_for

ACTOR = Actor.system("tests")
XSS = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def switch(org, on: bool) -> None:
    set_portal_preferences(
        organization=org, disabled=[], enabled=["conversations.view"] if on else [], actor=ACTOR
    )


@pytest.fixture
def enabled(org):
    switch(org, True)


@pytest.fixture
def riley(org):
    return staff_user(org, email="riley@renotech.example", role="support")


def nav(response) -> str:
    html = response.content.decode()
    return html[html.index('<nav class="sidenav"') : html.index("</nav>")]


def test_a_staff_answer_shows_as_new_until_the_thread_is_read(enabled, portal_client, contact, riley):
    thread = conversation(contact, subject="Hours in March")
    staff_reply(thread, riley, body="We looked: 2.5 hours on the 3rd.")
    listing = portal_client.get("/portal/conversations/").content.decode()
    assert "Hours in March" in listing and "1 new" in listing
    page = portal_client.get(f"/portal/conversations/{thread.public_id}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index("Could you check the hours of March?") < html.index("We looked: 2.5 hours on the 3rd.")
    assert "Maria Lopez" in html and ">New</span>" in html
    assert "1 new" not in portal_client.get("/portal/conversations/").content.decode()
    assert (
        ">New</span>" not in portal_client.get(f"/portal/conversations/{thread.public_id}/").content.decode()
    )


def test_a_customer_opens_a_general_thread_and_replies_in_it(enabled, portal_client, contact, riley):
    response = portal_client.post(
        "/portal/conversations/new/", {"subject": "New address", "body": "We moved."}
    )
    thread = Conversation.objects.get()
    assert (
        response.status_code == 302 and response["Location"] == f"/portal/conversations/{thread.public_id}/"
    )
    assert (thread.topic, thread.subject, thread.started_by) == ("general", "New address", contact)
    portal_client.post(f"/portal/conversations/{thread.public_id}/reply/", {"body": "To 5 Main St."})
    assert list(thread.messages.values_list("body", "author_kind")) == [
        ("We moved.", "customer"),
        ("To 5 Main St.", "customer"),
    ]


def test_an_empty_message_is_refused_with_the_reason_and_writes_nothing(enabled, portal_client, contact):
    response = portal_client.post("/portal/conversations/new/", {"subject": "Hello", "body": "   "})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    assert not Conversation.objects.exists()


def test_a_thread_is_opened_from_the_invoice_page(enabled, portal_client, customer, contact):
    invoice = open_invoice(customer, 12000)
    page = portal_client.get(f"/portal/invoices/{invoice.number}/").content.decode()
    link = f"/portal/conversations/new/?about=invoice:{invoice.number}"
    assert f'href="{link}"' in page and "Ask about this invoice" in page
    form = portal_client.get(link).content.decode()
    assert f"Ask about Invoice {invoice.number}" in form
    assert f'value="invoice:{invoice.number}"' in form
    portal_client.post("/portal/conversations/new/", {"about": f"invoice:{invoice.number}", "body": "Why?"})
    thread = Conversation.objects.get()
    assert (thread.topic, thread.invoice, thread.subject) == ("invoice", invoice, f"Invoice {invoice.number}")
    page = portal_client.get(f"/portal/conversations/{thread.public_id}/").content.decode()
    assert f'href="/portal/invoices/{invoice.number}/"' in page


def test_threads_are_opened_from_the_subscription_and_project_pages(
    enabled, portal_client, customer, contact
):
    from tests.portal.crawl import a_project, a_subscription

    subscription, project = a_subscription(customer), a_project(customer)
    page = portal_client.get(f"/portal/subscriptions/{subscription.number}/").content.decode()
    assert f'href="/portal/conversations/new/?about=subscription:{subscription.number}"' in page
    page = portal_client.get(f"/portal/projects/{project.code}/").content.decode()
    assert f'href="/portal/conversations/new/?about=project:{project.code}"' in page
    portal_client.post(
        "/portal/conversations/new/", {"about": f"project:{project.code}", "body": "When next?"}
    )
    portal_client.post(
        "/portal/conversations/new/", {"about": f"subscription:{subscription.number}", "body": "?"}
    )
    assert sorted(Conversation.objects.values_list("topic", flat=True)) == ["project", "subscription"]


def test_another_customers_thread_or_invoice_answers_404(
    enabled, portal_client, outsider_customer, other_org
):
    theirs = conversation(ContactFactory(customer=outsider_customer))
    assert portal_client.get(f"/portal/conversations/{theirs.public_id}/").status_code == 404
    response = portal_client.post(f"/portal/conversations/{theirs.public_id}/reply/", {"body": "Hi"})
    assert response.status_code == 404 and theirs.messages.count() == 1
    their_invoice = open_invoice(outsider_customer, 5000)
    assert (
        portal_client.get(f"/portal/conversations/new/?about=invoice:{their_invoice.number}").status_code
        == 404
    )
    response = portal_client.post(
        "/portal/conversations/new/", {"about": f"invoice:{their_invoice.number}", "body": "x"}
    )
    assert response.status_code == 404
    assert portal_client.get("/portal/conversations/new/?about=nonsense:1").status_code == 404
    assert Conversation.objects.count() == 1


def test_script_in_a_subject_or_message_renders_inert(enabled, portal_client, contact, riley):
    thread = conversation(contact, subject=XSS, body=XSS)
    staff_reply(thread, riley, body=XSS)
    for url in ("/portal/conversations/", f"/portal/conversations/{thread.public_id}/"):
        html = portal_client.get(url).content.decode()
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_switched_off_the_pages_answer_404_and_the_links_vanish(org, portal_client, customer, contact):
    invoice = open_invoice(customer, 12000)
    thread = conversation(contact)
    switch(org, True)
    assert 'href="/portal/conversations/"' in nav(portal_client.get("/portal/"))
    switch(org, False)
    assert 'href="/portal/conversations/"' not in nav(portal_client.get("/portal/"))
    assert (
        "Ask about this invoice"
        not in portal_client.get(f"/portal/invoices/{invoice.number}/").content.decode()
    )
    for url in (
        "/portal/conversations/",
        "/portal/conversations/new/",
        f"/portal/conversations/{thread.public_id}/",
    ):
        assert portal_client.get(url).status_code == 404, url
    assert (
        portal_client.post(f"/portal/conversations/{thread.public_id}/reply/", {"body": "Hi"}).status_code
        == 404
    )
    assert portal_client.post("/portal/conversations/new/", {"subject": "a", "body": "b"}).status_code == 404
    assert thread.messages.count() == 1 and Conversation.objects.count() == 1


def test_without_posting_the_thread_reads_but_offers_no_form(org, customer, contact):
    set_portal_preferences(
        organization=org, disabled=["conversations.post"], enabled=["conversations.view"], actor=ACTOR
    )
    thread = conversation(contact)
    client = client_for(contact)
    page = client.get(f"/portal/conversations/{thread.public_id}/").content.decode()
    assert "Could you check the hours of March?" in page and 'name="body"' not in page
    assert client.post(f"/portal/conversations/{thread.public_id}/reply/", {"body": "x"}).status_code == 404


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


def test_an_attachment_is_typed_by_its_bytes_and_always_downloaded(enabled, portal_client, contact):
    response = portal_client.post(
        "/portal/conversations/new/",
        {"subject": "Photos", "body": "The crack.", "attachment": [upload("../../crack.PNG.exe", PNG)]},
    )
    assert response.status_code == 302
    thread = Conversation.objects.get()
    [file] = thread.messages.get().attachments.all()
    assert (file.filename, file.content_type, file.size) == (
        "crack_PNG.png",
        "image/png",
        len(PNG),
    )  # no second extension, no path
    page = portal_client.get(f"/portal/conversations/{thread.public_id}/").content.decode()
    url = f"/portal/conversations/{thread.public_id}/files/{file.public_id}/"
    assert f'href="{url}"' in page
    download = portal_client.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    assert download["Content-Type"] == "image/png" and download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("invoice.pdf", b"<html><script>alert(1)</script></html>"),  # HTML named as a PDF
        ("page.html", b"<!DOCTYPE html><p>hi"),
        ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00"),
        ("big.txt", b"a" * (5 * 1024 * 1024 + 1)),
    ],
    ids=["html-as-pdf", "html", "executable", "too-large"],
)
def test_a_file_of_a_type_not_allowed_or_too_large_is_refused_and_nothing_is_written(
    enabled, portal_client, contact, name, content
):
    response = portal_client.post(
        "/portal/conversations/new/",
        {"subject": "Files", "body": "See attached.", "attachment": [upload(name, content)]},
    )
    assert response.status_code == 400
    assert "Attach" in response.content.decode()
    assert not Conversation.objects.exists()


def test_a_text_file_named_html_is_plain_text_and_another_customers_file_is_a_404(
    enabled, portal_client, contact, outsider_customer
):
    from portico.engagement import conversations as service
    from tests.engagement.conversation_factories import ACTOR, Via

    theirs = service.start_conversation(
        customer=outsider_customer,
        contact=ContactFactory(customer=outsider_customer),
        subject="Theirs",
        body="Ours",
        via=Via.PORTAL,
        actor=ACTOR,
        attachments=[upload("notes.html", b"just words, no markup")],
    )
    file = theirs.messages.get().attachments.get()
    assert (file.filename, file.content_type) == ("notes.txt", "text/plain")
    assert (
        portal_client.get(f"/portal/conversations/{theirs.public_id}/files/{file.public_id}/").status_code
        == 404
    )
