"""Conversations through the API (issue 15, item 5): list, retrieve with messages, start one about an
invoice, write in one (the customer gets it by email) and close it; another organization's
conversation is a 404; a refused message writes nothing."""

from __future__ import annotations

from portico.engagement.models_conversations import Conversation
from tests.api.conftest import assert_error
from tests.billing.factories import open_invoice
from tests.engagement.conversation_factories import conversation


def test_a_conversation_is_started_about_an_invoice_answered_and_closed(
    org, customer, contact, api, mailbox, django_capture_on_commit_callbacks
):
    invoice = open_invoice(customer, 5000)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/conversations",
            {
                "customer": f"cus_{customer.public_id}",
                "about": invoice.number,
                "body": "Your invoice is ready.",
            },
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["object"] == "conversation" and body["about"] == f"in_{invoice.public_id}"
    assert body["subject"] == f"Invoice {invoice.number}" and body["topic"] == "invoice"
    [message] = body["messages"]
    assert (message["author_kind"], message["author_name"], message["via"]) == (
        "staff",
        "RenoTech Solutions",
        "api",
    )
    assert "Your invoice is ready." in mailbox.body(mailbox.to("maria@acme.example")[0])

    thread_id = body["id"]
    response = api.post(f"/api/v1/conversations/{thread_id}/messages", {"body": "Paid yet?"})
    assert response.status_code == 201 and len(response.json()["messages"]) == 2
    closed = api.post(f"/api/v1/conversations/{thread_id}/close").json()
    assert closed["status"] == "closed"
    listed = api.get("/api/v1/conversations", {"status": "closed"}).json()
    assert [c["id"] for c in listed["data"]] == [thread_id]


def test_another_organizations_conversation_answers_404(org, customer, contact, other_api):
    thread = conversation(contact)
    assert_error(other_api.get(f"/api/v1/conversations/conv_{thread.public_id}"), 404)
    assert_error(
        other_api.post(f"/api/v1/conversations/conv_{thread.public_id}/messages", {"body": "x"}), 404
    )
    assert thread.messages.count() == 1


def test_an_empty_message_or_another_customers_invoice_is_refused_and_writes_nothing(
    org, customer, contact, outsider_customer, api
):
    thread = conversation(contact)
    assert_error(api.post(f"/api/v1/conversations/conv_{thread.public_id}/messages", {"body": "  "}), 422)
    theirs = open_invoice(outsider_customer, 5000)
    body = {"customer": f"cus_{customer.public_id}", "about": theirs.number, "body": "Hi"}
    assert assert_error(api.post("/api/v1/conversations", body), 404)["field"] == "about"
    assert thread.messages.count() == 1 and Conversation.objects.count() == 1
