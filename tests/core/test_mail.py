from django.db import transaction

from portico.core.mail import send_rendered_email, send_templated_email
from tests.conftest import tenant_client


def test_a_rendered_email_leaves_only_when_the_transaction_commits(
    org, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                send_rendered_email(organization=org, to=["a@example.com"], subject="Rolled back", text="no")
                raise RuntimeError
        except RuntimeError:
            pass
        send_rendered_email(organization=org, to=["a@example.com"], subject="Kept", text="yes")
    assert [m["Subject"] for m in mailbox.messages] == ["Kept"]
    assert org.name in mailbox.messages[0]["From"]


def test_allauths_emails_are_branded_for_the_organization(
    org, portal_login, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tenant_client(org).post("/portal/account/password/reset/", {"email": "maria@acme.example"})
    [message] = mailbox.messages
    assert message["From"].startswith(f"{org.name} <")
    assert not message["Subject"].startswith("[")  # no "[example.com]" site prefix
    body = mailbox.body(message)
    assert org.name in body and "Hello from" not in body


def test_every_invitation_template_renders(org, contact, mailbox, django_capture_on_commit_callbacks):
    import datetime as dt

    with django_capture_on_commit_callbacks(execute=True):
        send_templated_email(
            organization=org,
            to=["x@example.com"],
            template="accounts/invitation",
            context={
                "contact": contact,
                "customer": contact.customer,
                "url": "http://x/",
                "expires_at": dt.datetime(2026, 1, 1),
                "days": 7,
            },
        )
    [message] = mailbox.messages
    assert "Hello Maria" in mailbox.body(message) and "7 days" in mailbox.body(message)
