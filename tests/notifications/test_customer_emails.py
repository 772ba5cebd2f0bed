"""Customer emails (issue 14, items 2 and 5): declared kinds, the organization's overrides and
on/off, the branded HTML part, the delivery log and resend. Emails received by a real SMTP server."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command

from portico.accounts import services as access
from portico.core import clock as core_clock
from portico.core.audit import Actor
from portico.core.email_kinds import kinds
from portico.core.models import AuditEvent
from portico.notifications import email_log, email_templates
from portico.notifications.errors import EmailTemplateInvalid
from portico.notifications.models import EmailTemplate, SentEmail
from portico.payments.models import PaymentMethod
from portico.payments.notices import send_card_expiring

ACTOR = Actor.system("tests")
_tokens = itertools.count(1)


def saved_card(customer) -> PaymentMethod:
    return PaymentMethod.all_tenants.create(
        organization=customer.organization,
        customer=customer,
        gateway="test",
        token=f"tok_test_ok_{next(_tokens):016x}",
        brand="visa",
        last4="4242",
        exp_month=4,
        exp_year=2026,
        is_default=True,
        created_at=core_clock.now(),
    )


@pytest.fixture
def card(customer, contact):
    customer.email = "accounts@acme.example"
    customer.save(update_fields=["email"])
    return saved_card(customer)


def expiring(card, capture) -> None:
    with capture(execute=True):
        send_card_expiring(card)


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


KIND = "payments/card_expiring"


def to_accounts() -> list[SentEmail]:
    """The log rows of the customer's billing address (Maria, its portal admin, gets her own)."""
    return [row for row in SentEmail.objects.order_by("pk") if row.to == ["accounts@acme.example"]]


def kind(template=KIND):
    return kinds().get(template)


# -- declarations -----------------------------------------------------------------------------------


def notification_templates() -> set[str]:
    """Every email template in the code: `<app>/templates/notifications/<name>.subject.txt`."""
    found = set()
    for config in apps.get_app_configs():
        root = Path(config.path) / "templates" / "notifications"
        for subject in root.rglob("*.subject.txt"):
            found.add(str(subject.relative_to(root)).removesuffix(".subject.txt"))
    return found


def test_every_email_template_is_declared_by_a_kind_and_every_kind_has_its_template():
    templates = notification_templates()
    declared = {k.template for k in kinds()}
    assert templates, "no templates found"
    assert templates - declared == set(), "templates no app declares in <app>/emails.py"
    assert declared - templates == set(), "declared kinds without a template"


def test_every_default_text_names_only_its_own_variables():
    for declared in kinds().customisable():
        assert declared.default_subject and declared.default_body, declared.template
        email_templates.check_override(
            declared, subject=str(declared.default_subject), body=str(declared.default_body)
        )


def test_security_notices_and_sign_in_links_cannot_be_switched_off():
    always = {k.template for k in kinds() if not k.switchable}
    assert {
        "accounts/invitation",
        "accounts/portal_link",
        "accounts/access_revoked",
        "accounts/email_change",
        "accounts/email_changed",
        "accounts/new_sign_in",
    } <= always
    assert {"invoice", "payments/receipt", "subscriptions/trial_ending", KIND}.isdisjoint(always)


# -- overrides --------------------------------------------------------------------------------------


def test_an_override_is_what_the_customer_receives_with_its_variables_filled(
    org, card, mailbox, django_capture_on_commit_callbacks
):
    email_templates.save_email_template(
        organization=org,
        kind=kind(),
        is_enabled=True,
        subject="Heads up {{ customer_name }}: {{card}} runs out",
        body="Dear {{ customer_name }},\n\nplease replace {{ card }} before {{ expires_on }}:\n{{ methods_url }}",
        actor=ACTOR,
    )
    expiring(card, django_capture_on_commit_callbacks)

    [message] = mailbox.to("accounts@acme.example")
    assert message["Subject"].strip() == "Heads up Acme Interiors: Visa •••• 4242 (04/2026) runs out"
    body = mailbox.body(message)
    assert "Dear Acme Interiors," in body
    assert "please replace Visa •••• 4242 (04/2026) before April 30, 2026:" in body
    assert f"{org.public_url('/portal/')}" in body
    assert "{{" not in body
    html = html_of(message)
    assert "<p" in html and "Dear Acme Interiors," in html
    assert 'href="http://' in html  # the portal link is clickable
    assert AuditEvent.objects.filter(action="email_template.changed").count() == 1


def test_without_an_override_the_default_leaves_in_the_brand(
    org, card, mailbox, django_capture_on_commit_callbacks
):
    org.brand_colour = "#0a7d32"
    org.save(update_fields=["brand_colour"])
    expiring(card, django_capture_on_commit_callbacks)
    [message] = mailbox.to("accounts@acme.example")
    assert (
        message["Subject"].strip()
        == "Your card Visa •••• 4242 (04/2026) on file with RenoTech Solutions expires soon"
    )
    assert "the one we charge your payments to" in mailbox.body(message)
    html = html_of(message)
    assert "background:#0a7d32" in html and "color:#ffffff" in html
    assert "RenoTech Solutions" in html and "the one we charge your payments to" in html
    assert "<style" not in html and "<script" not in html
    assert message["From"].startswith("RenoTech Solutions <")


@pytest.mark.parametrize(
    ("subject", "body", "named"),
    [
        ("Hi {{ customer_nam }}", "", "{{ customer_nam }}"),
        ("", "Key: {{ organization.stripe_secret_key }}", "{{ organization.stripe_secret_key }}"),
        ("", "{{ customer_name|upper }}", "{{ customer_name|upper }}"),
        ("", "{% if customer_name %}x{% endif %}", "{%"),
        ("", "{# note #}", "{#"),
        ("", "Hello {{ customer_name", "not closed"),
    ],
)
def test_an_unknown_variable_or_a_tag_is_refused_naming_it_and_the_allowed_ones(org, subject, body, named):
    with pytest.raises(EmailTemplateInvalid) as refusal:
        email_templates.save_email_template(
            organization=org, kind=kind(), is_enabled=True, subject=subject, body=body, actor=ACTOR
        )
    message = str(refusal.value)
    assert named in message
    assert "{{ customer_name }}" in message and "{{ methods_url }}" in message
    assert refusal.value.field == ("subject" if subject else "body")
    assert not EmailTemplate.objects.exists()
    assert not AuditEvent.objects.filter(action="email_template.changed").exists()


def test_no_attribute_of_the_context_is_reachable_beyond_the_declared_values(
    org, card, mailbox, django_capture_on_commit_callbacks
):
    """Even a stored row that bypassed the check (written straight to the table) cannot walk."""
    EmailTemplate.objects.create(
        organization=org,
        kind=KIND,
        subject="x {{ organization.pk }}",
        body="{{ organization.stripe_secret_key }} {{ customer.__class__ }} {{ card }}",
        updated_at=core_clock.now(),
    )
    expiring(card, django_capture_on_commit_callbacks)
    [message] = mailbox.to("accounts@acme.example")
    # the row no longer fits its kind: the default is sent, and nothing of the organization leaks
    assert message["Subject"].strip().startswith("Your card Visa")
    assert "stripe" not in mailbox.body(message) and "class" not in mailbox.body(message)


def test_a_value_that_looks_like_a_variable_is_not_expanded_again(
    org, card, mailbox, django_capture_on_commit_callbacks
):
    card.customer.display_name = "{{ methods_url }}"
    card.customer.save(update_fields=["display_name"])
    email_templates.save_email_template(
        organization=org, kind=kind(), is_enabled=True, subject="", body="Hi {{ customer_name }}", actor=ACTOR
    )
    expiring(card, django_capture_on_commit_callbacks)
    [message] = mailbox.to("accounts@acme.example")
    assert mailbox.body(message).strip() == "Hi {{ methods_url }}"


def test_a_script_in_an_override_is_inert_in_the_email_and_the_preview(
    org, card, mailbox, django_capture_on_commit_callbacks
):
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)"> {{ customer_name }}'
    email_templates.save_email_template(
        organization=org, kind=kind(), is_enabled=True, subject="<b>{{ card }}</b>", body=hostile, actor=ACTOR
    )
    expiring(card, django_capture_on_commit_callbacks)
    [message] = mailbox.to("accounts@acme.example")
    html = html_of(message)
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" in mailbox.body(message)  # the text part is text

    preview = email_templates.preview(
        organization=org, kind=kind(), subject="<b>{{ card }}</b>", body=hostile
    )
    assert preview["error"] == ""
    assert "<script" not in preview["html"] and "&lt;script&gt;" in preview["html"]
    assert "Acme Ltd" in preview["html"]  # the sample data


def test_restoring_the_default_sends_portico_text_again(
    org, card, mailbox, django_capture_on_commit_callbacks
):
    email_templates.save_email_template(
        organization=org, kind=kind(), is_enabled=True, subject="Mine", body="Mine too", actor=ACTOR
    )
    email_templates.restore_default(organization=org, kind=kind(), actor=ACTOR)
    expiring(card, django_capture_on_commit_callbacks)
    [message] = mailbox.to("accounts@acme.example")
    assert message["Subject"].strip().startswith("Your card Visa")
    assert AuditEvent.objects.filter(action="email_template.restored").count() == 1


# -- on / off ---------------------------------------------------------------------------------------


def test_a_kind_switched_off_sends_nothing_and_logs_nothing(
    org, card, mailbox, django_capture_on_commit_callbacks
):
    email_templates.save_email_template(
        organization=org, kind=kind(), is_enabled=False, subject="", body="", actor=ACTOR
    )
    expiring(card, django_capture_on_commit_callbacks)
    call_command("deliver_outbox", "--once")
    assert mailbox.messages == []
    assert not SentEmail.objects.exists()


def test_a_kind_that_must_be_sent_cannot_be_switched_off(
    org, contact, mailbox, django_capture_on_commit_callbacks
):
    invitation = kind("accounts/invitation")
    with pytest.raises(EmailTemplateInvalid, match="cannot be switched off"):
        email_templates.save_email_template(
            organization=org, kind=invitation, is_enabled=False, subject="", body="", actor=ACTOR
        )
    assert not EmailTemplate.objects.exists()
    # a row written around the service does not stop it either
    EmailTemplate.objects.create(
        organization=org, kind=invitation.template, is_enabled=False, updated_at=core_clock.now()
    )
    with django_capture_on_commit_callbacks(execute=True):
        access.invite_contact(contact=contact, actor=ACTOR)
    assert len(mailbox.to("maria@acme.example")) == 1


# -- the delivery log and resend ------------------------------------------------------------------------


def test_each_email_is_logged_for_its_customer_with_its_status_through_an_outage(
    org, card, mailbox, clock, django_capture_on_commit_callbacks
):
    mailbox.stop()
    expiring(card, django_capture_on_commit_callbacks)
    [row] = to_accounts()
    assert (row.customer, row.kind, row.to) == (card.customer, KIND, ["accounts@acme.example"])
    assert row.subject.startswith("Your card Visa")
    status = email_log.status_of(row)
    assert status.status == SentEmail.Status.RETRYING
    assert "Connection refused" in status.last_error

    mailbox.start()
    clock.advance(seconds=30)
    call_command("deliver_outbox", "--once")
    row.refresh_from_db()
    status = email_log.status_of(SentEmail.objects.get(pk=row.pk))
    assert status.status == SentEmail.Status.SENT and status.sent_at is not None
    assert len(mailbox.to("accounts@acme.example")) == 1


def test_a_resend_delivers_the_stored_message_once_more_exactly_once(
    org, card, mailbox, django_capture_on_commit_callbacks
):
    expiring(card, django_capture_on_commit_callbacks)
    [first] = mailbox.to("accounts@acme.example")
    [original] = to_accounts()
    token = email_log.new_resend_token()
    with django_capture_on_commit_callbacks(execute=True):
        again = email_log.resend_email(sent_email=original, actor=ACTOR, token=token)
    with django_capture_on_commit_callbacks(execute=True):
        twice = email_log.resend_email(sent_email=original, actor=ACTOR, token=token)  # a double submit
    call_command("deliver_outbox", "--once")

    assert again.pk == twice.pk and again.resent_from == original
    messages = mailbox.to("accounts@acme.example")
    assert len(messages) == 2
    assert messages[1]["Subject"] == first["Subject"] and mailbox.body(messages[1]) == mailbox.body(first)
    assert messages[1]["Message-ID"] != first["Message-ID"]
    assert len(to_accounts()) == 2
    assert AuditEvent.objects.filter(action="email.resent").count() == 1
    assert {email_log.status_of(row).status for row in to_accounts()} == {SentEmail.Status.SENT}


def test_a_keyed_email_sent_twice_is_logged_once(org, customer, mailbox, django_capture_on_commit_callbacks):
    from portico.core.mail import send_templated_email

    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            send_templated_email(
                organization=org,
                to=["a@example.com"],
                template="accounts/access_granted",
                context={"customer": customer, "contact": None},
                key="once",
                customer=customer,
            )
    assert SentEmail.objects.count() == 1
    assert len(mailbox.messages) == 1
