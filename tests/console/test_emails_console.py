"""The console's customer emails (issue 14, item 5): the templates page, editing with a live preview,
roles, the delivery log on the customer's page, Resend, and another organization's ids."""

from __future__ import annotations

import html
import re

import pytest

from portico.core import tenancy
from portico.core.audit import Actor
from portico.core.email_kinds import kinds
from portico.notifications import email_templates
from portico.notifications.models import EmailTemplate, SentEmail
from portico.payments.notices import send_card_expiring
from tests.conftest import tenant_client
from tests.factories import CustomerFactory, staff_user
from tests.notifications.test_customer_emails import saved_card

TEMPLATES = "/console/notifications/emailtemplate/"
LOG = "/console/notifications/sentemail/"
EDIT = TEMPLATES + "payments.card_expiring/"


def console(org, role="owner", email="staff@business.example"):
    client = tenant_client(org)
    client.force_login(
        staff_user(org, email=email, role=role),
        backend="portico.accounts.backends.TenantAuthenticationBackend",
    )
    return client


@pytest.fixture
def card(customer, contact):
    customer.email = "accounts@acme.example"
    customer.save(update_fields=["email"])
    return saved_card(customer)


@pytest.fixture
def sent(card, mailbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_card_expiring(card)
    return next(row for row in SentEmail.objects.order_by("pk") if row.to == ["accounts@acme.example"])


def test_the_templates_page_lists_every_customer_email_with_its_state(org):
    email_templates.save_email_template(
        organization=org,
        kind=kinds().get("payments/card_expiring"),
        is_enabled=False,
        subject="Mine",
        body="",
        actor=Actor.system("tests"),
    )
    page = console(org).get(TEMPLATES).content.decode()
    for kind in kinds().customisable():
        assert html.escape(str(kind.label), quote=False) in page or str(kind.label) in page
    assert "Dispute opened" not in page  # a staff notice is not listed
    row = re.search(r"Card expiring.*?</tr>", page, re.S).group(0)
    assert "Off" in row and "Your own" in row
    invitation = re.search(r"Portal invitation.*?</tr>", page, re.S).group(0)
    assert "Always" in invitation


def test_the_edit_page_shows_variables_the_default_and_a_sandboxed_preview(org):
    page = console(org).get(EDIT).content.decode()
    assert "{{ methods_url }}" in page and "The portal&#x27;s page to add or replace a card" in page
    assert "To keep your payments going" in page  # Portico's text
    frame = re.search(r"<iframe[^>]*>", page).group(0)
    assert 'sandbox=""' in frame and "srcdoc=" in frame
    assert "console/email_preview.js" in page
    assert "<script>" not in page.split("</head>")[1]  # no inline script (CSP)


def test_saving_an_override_from_the_console_and_an_unknown_variable_is_refused(org):
    client = console(org)
    response = client.post(
        EDIT, {"intent": "save", "is_enabled": "on", "subject": "Hi {{ secret }}", "body": ""}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "“{{ secret }}” is not a variable of this email" in html.unescape(page)
    assert not EmailTemplate.objects.exists()

    response = client.post(
        EDIT,
        {
            "intent": "save",
            "is_enabled": "on",
            "subject": "Card {{ card }}",
            "body": "Hello {{ customer_name }}",
        },
    )
    assert response.status_code == 302
    row = EmailTemplate.objects.get()
    assert (row.subject, row.body, row.is_enabled) == ("Card {{ card }}", "Hello {{ customer_name }}", True)

    client.post(EDIT, {"intent": "restore"})
    row.refresh_from_db()
    assert (row.subject, row.body) == ("", "")


def test_the_preview_endpoint_renders_sample_data_and_keeps_script_inert(org):
    client = console(org)
    answer = client.post(
        EDIT + "preview/",
        {"subject": "For {{ customer_name }}", "body": "<script>alert(1)</script> {{ card }}"},
    ).json()
    assert answer["subject"] == "For Acme Ltd"
    assert "<script>" not in answer["html"] and "&lt;script&gt;" in answer["html"]
    assert "Visa •••• 4242 (04/2026)" in answer["html"]
    refused = client.post(EDIT + "preview/", {"subject": "", "body": "{% load x %}"}).json()
    assert "{%" in refused["error"] and refused["field"] == "body"
    assert not EmailTemplate.objects.exists()  # previewing saves nothing


def test_a_non_switchable_email_cannot_be_switched_off_from_the_console(org):
    client = console(org)
    client.post(TEMPLATES + "accounts.invitation/", {"intent": "save", "subject": "", "body": ""})
    assert not EmailTemplate.objects.filter(is_enabled=False).exists()


@pytest.mark.parametrize("role", ["finance", "support", "read_only"])
def test_roles_that_may_not_edit_read_the_templates_but_cannot_save(org, role):
    client = console(org, role=role)
    page = client.get(EDIT)
    assert page.status_code == 200 and "Your role may read these emails" in page.content.decode()
    response = client.post(EDIT, {"intent": "save", "is_enabled": "", "subject": "x", "body": ""})
    assert response.status_code == 403
    assert client.post(EDIT, {"intent": "restore"}).status_code == 403
    assert not EmailTemplate.objects.exists()


def test_the_customer_page_links_to_its_emails_with_their_status(org, sent, customer):
    client = console(org, role="support")
    page = client.get(f"/console/customers/customer/{customer.pk}/change/").content.decode()
    link = f"{LOG}?customer__id__exact={customer.pk}"
    assert html.escape(link) in page or link in page
    listing = client.get(link).content.decode()
    assert "accounts@acme.example" in listing and "Card expiring" in listing
    assert "Sent (" in listing


def test_resend_from_the_console_delivers_once_even_when_submitted_twice(
    org, sent, mailbox, django_capture_on_commit_callbacks
):
    client = console(org, role="support")
    page = client.get(f"{LOG}{sent.pk}/change/").content.decode()
    token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(f"{LOG}{sent.pk}/resend/", {"token": token})
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(f"{LOG}{sent.pk}/resend/", {"token": token})
    assert first.status_code == second.status_code == 302
    assert len(mailbox.to("accounts@acme.example")) == 2  # the original and one resend
    assert SentEmail.objects.filter(resent_from=sent).count() == 1


def test_read_only_staff_cannot_resend(org, sent, mailbox):
    client = console(org, role="read_only")
    page = client.get(f"{LOG}{sent.pk}/change/").content.decode()
    assert 'name="token"' not in page
    assert client.post(f"{LOG}{sent.pk}/resend/", {"token": "a" * 32}).status_code == 403
    assert not SentEmail.objects.filter(resent_from=sent).exists()


def test_another_organizations_log_and_templates_answer_404(
    org, other_org, mailbox, django_capture_on_commit_callbacks
):
    with tenancy.tenant(other_org):
        theirs = CustomerFactory(organization=other_org, email="them@northwind.example")
        card = saved_card(theirs)
        with django_capture_on_commit_callbacks(execute=True):
            send_card_expiring(card)
        row = SentEmail.objects.get()
    client = console(org)
    assert client.get(f"{LOG}{row.pk}/change/").status_code == 404
    assert client.post(f"{LOG}{row.pk}/resend/", {"token": "a" * 32}).status_code == 404
    assert client.get(TEMPLATES + "no.such_kind/").status_code == 404
    assert client.get(TEMPLATES + "payments.dispute_opened/").status_code == 404  # a staff notice
    assert "them@northwind.example" not in client.get(LOG).content.decode()
    with tenancy.tenant(other_org):
        assert SentEmail.objects.count() == 1
