"""Conversations in the console (issue 15, item 1): staff see the threads with a mark on the unread
ones, read one (which clears the mark), answer it — the customer gets the answer by email, a real SMTP
server's — and close or reopen it; finance and read-only staff read but cannot answer; what customers
write renders as text."""

from __future__ import annotations

import pytest

from portico.core.models import AuditEvent
from portico.engagement.models_conversations import Conversation
from tests.conftest import tenant_client
from tests.engagement.conversation_factories import conversation
from tests.factories import staff_user
from tests.portal.crawl import parse_page

BACKEND = "portico.accounts.backends.TenantAuthenticationBackend"
XSS = "<script>alert(1)</script>"


def submitted(client, url, **values) -> dict:
    """The change form as the page renders it (its inline's management form too), with `values`."""
    [form] = [
        f
        for f in parse_page("http://testserver" + url, client.get(url).content.decode()).forms
        if f.method == "post" and "reply" in f.names
    ]
    data = {name: value[0] if len(value) == 1 else value for name, value in form.data().items()}
    return {**data, **values}


def console(org, role):
    client = tenant_client(org)
    client.force_login(staff_user(org, email=f"{role}@renotech.example", role=role), backend=BACKEND)
    return client


@pytest.fixture
def support(org):
    return console(org, "support")


def test_staff_read_a_thread_and_answer_and_the_customer_gets_the_answer_by_email(
    org, customer, contact, support, mailbox, django_capture_on_commit_callbacks, settings
):
    settings.PORTICO_INBOUND_DOMAIN = "reply.portico.example"
    thread = conversation(contact, subject="Travel fee", body="Why is there a travel fee?")
    listing = support.get("/console/engagement/conversation/").content.decode()
    assert "Travel fee" in listing and 'alt="True"' in listing  # unread
    url = f"/console/engagement/conversation/{thread.pk}/change/"
    page = support.get(url).content.decode()
    assert "Why is there a travel fee?" in page and "Maria Lopez" in page
    assert 'alt="False"' in support.get("/console/engagement/conversation/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = support.post(
            url, submitted(support, url, reply="It is the trip to your site.", new_status="closed")
        )
    assert response.status_code == 302
    thread.refresh_from_db()
    assert thread.status == Conversation.Status.CLOSED
    last = thread.messages.order_by("pk").last()
    assert (last.body, last.author_kind, last.via) == ("It is the trip to your site.", "staff", "console")
    [email] = mailbox.to("maria@acme.example")
    assert "It is the trip to your site." in mailbox.body(email)
    assert f"reply+{thread.pk}-c{contact.pk}-" in email["Reply-To"]
    actions = set(AuditEvent.objects.filter(object_id=str(thread.pk)).values_list("action", flat=True))
    assert {"conversation.message_posted", "conversation.closed"} <= actions


def test_threads_are_closed_and_reopened_from_the_list(org, customer, contact, support):
    threads = [conversation(contact), conversation(contact, subject="Other")]
    data = {"action": "close_selected", "_selected_action": [t.pk for t in threads]}
    support.post("/console/engagement/conversation/", data)
    assert set(Conversation.objects.values_list("status", flat=True)) == {"closed"}
    support.post("/console/engagement/conversation/", {**data, "action": "reopen_selected"})
    assert set(Conversation.objects.values_list("status", flat=True)) == {"open"}


@pytest.mark.parametrize("role", ["finance", "read_only"])
def test_finance_and_read_only_staff_read_but_cannot_answer(org, customer, contact, role):
    client = console(org, role)
    thread = conversation(contact)
    url = f"/console/engagement/conversation/{thread.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and 'name="reply"' not in page.content.decode()
    client.post(url, {"reply": "Not mine to say.", "new_status": "closed"})
    thread.refresh_from_db()
    assert thread.messages.count() == 1 and thread.is_open


def test_what_a_customer_writes_renders_inert_in_the_console(org, customer, contact, support):
    thread = conversation(contact, subject=XSS, body=XSS)
    for url in ("/console/engagement/conversation/", f"/console/engagement/conversation/{thread.pk}/change/"):
        html = support.get(url).content.decode()
        assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_attached_file_is_downloaded_from_the_thread_and_another_organizations_is_a_404(
    org, customer, contact, support, other_org
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = SimpleUploadedFile("crack.png", b"\x89PNG\r\n\x1a\n" + bytes(8), content_type="text/html")
    thread = conversation(contact, attachments=[photo])
    file = thread.messages.get().attachments.get()
    url = f"/console/engagement/conversation/{thread.pk}/files/{file.public_id}/"
    assert (
        f'href="{url}"'
        in support.get(f"/console/engagement/conversation/{thread.pk}/change/").content.decode()
    )
    download = support.get(url)
    assert download.status_code == 200 and download["Content-Type"] == "image/png"
    assert (
        download["Content-Disposition"].startswith("attachment;")
        and download["X-Content-Type-Options"] == "nosniff"
    )
    outsider = tenant_client(other_org)
    outsider.force_login(staff_user(other_org, email="nia@northwind.example"), backend=BACKEND)
    assert outsider.get(url).status_code == 404
