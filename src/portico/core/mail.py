"""Outgoing email: one way to send, rendered from templates, queued on the outbox (`email.send`)
in the caller's transaction, so a rolled-back change sends nothing and a mail server that is down
delays messages instead of losing them.

A template `notifications/<name>` has three files: `<name>.subject.txt`, `<name>.txt` and
optionally `<name>.html`; each is one kind of email, declared by the app that sends it
(`core.email_kinds`). Every message carries the organization's name as sender name and reply-to
address when it has one, and an HTML part in the organization's brand (`branded_html`: one layout
for every email, its text escaped and its links made clickable) unless its template has its own.

Two hooks let a higher app take part without core importing it (`notifications` registers both in
its `AppConfig.ready()`):
- an email customizer (`register_email_customizer`) sees each templated email after the default
  rendering: it returns the subject and text to send (the organization's override of the kind) or
  None when the organization switched the kind off, and then nothing is queued;
- an email recorder (`register_email_recorder`) is told of each message as it is queued, with its
  outbox event, kind and customer (the delivery log).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterable, Sequence
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils.html import urlize
from django.utils.safestring import mark_safe

from portico.core import outbox

EMAIL_TOPIC = "email.send"
# Bigger attachments are kept in the media storage rather than in the event row.
INLINE_ATTACHMENT_LIMIT = 256 * 1024


# fn(organization=, template=, context=, subject=, text=) -> (subject, text) | None (do not send)
EmailCustomizer = Callable[..., "tuple[str, str] | None"]
# fn(organization=, event=, kind=, customer=, payload=) -> None
EmailRecorder = Callable[..., None]
_customizers: list[EmailCustomizer] = []
_recorders: list[EmailRecorder] = []


def register_email_customizer(function: EmailCustomizer) -> EmailCustomizer:
    if function not in _customizers:
        _customizers.append(function)
    return function


def register_email_recorder(function: EmailRecorder) -> EmailRecorder:
    if function not in _recorders:
        _recorders.append(function)
    return function


def render_email(template: str, context: dict) -> tuple[str, str, str | None]:
    subject = " ".join(render_to_string(f"notifications/{template}.subject.txt", context).split())
    text = render_to_string(f"notifications/{template}.txt", context)
    try:
        html = render_to_string(f"notifications/{template}.html", context)
    except TemplateDoesNotExist:
        html = None
    return subject, text, html


def send_templated_email(
    *,
    organization,
    to: Sequence[str],
    template: str,
    context: dict | None = None,
    attachments: Iterable[tuple[str, bytes, str]] = (),
    reply_to: Sequence[str] = (),
    key: str | None = None,
    customer=None,
) -> None:
    """Render now, send after commit (a rolled-back change sends nothing), through the outbox. A
    `key` sends the message once however often this is called with it (a consumer run again).
    `customer`: whom it is written to, for the delivery log (None: staff, or no customer)."""
    context = {"organization": organization, "portal_url": organization.portal_url, **(context or {})}
    subject, text, html = render_email(template, context)
    for customize in _customizers:
        customized = customize(
            organization=organization, template=template, context=context, subject=subject, text=text
        )
        if customized is None:
            return  # the organization switched this kind of email off
        if customized != (subject, text):
            subject, text = customized
            html = None  # the template's own HTML says the default text; the layout shows this one
    send_rendered_email(
        organization=organization,
        to=to,
        subject=subject,
        text=text,
        html=html,
        attachments=attachments,
        reply_to=reply_to,
        key=key,
        kind=template,
        customer=customer,
    )


def send_rendered_email(
    *,
    organization,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Iterable[tuple[str, bytes, str]] = (),
    reply_to: Sequence[str] = (),
    key: str | None = None,
    kind: str = "",
    customer=None,
) -> None:
    """Queue an already rendered message (allauth's own emails too) on the outbox, in the current
    transaction: it leaves after commit, and is retried until the mail server takes it. Without an
    HTML part of its own it gets the organization's branded one."""
    subject = " ".join(str(subject).split())  # one header line, whatever the override wrote
    if not html:
        html = branded_html(organization, subject=subject, text=str(text))
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    payload = {
        "from": formataddr((organization.name, address)),
        "to": [str(a) for a in to],
        "reply_to": [str(a) for a in reply_to],
        "subject": str(subject),
        "text": str(text),
        "html": str(html) if html else None,
        "attachments": [_stored_attachment(f, c, m) for f, c, m in attachments],
    }
    event = outbox.emit(EMAIL_TOPIC, organization=organization, payload=payload, key=key)
    for record in _recorders:
        record(organization=organization, event=event, kind=kind, customer=customer, payload=payload)


def text_paragraphs(text: str) -> list[str]:
    """The text's paragraphs as HTML: escaped (whatever it says stays text), its addresses made
    links, its single line breaks kept."""
    paragraphs = []
    for block in str(text).replace("\r\n", "\n").split("\n\n"):
        lines = [line.rstrip() for line in block.strip("\n").split("\n")]
        if any(lines):
            paragraphs.append(
                mark_safe("<br>".join(urlize(line, nofollow=True, autoescape=True) for line in lines))
            )
    return paragraphs


def branded_html(organization, *, subject: str, text: str) -> str:
    """The HTML part of an email: the organization's logo, name and colour around the text. Inline
    styles only (mail clients drop style sheets), absolute addresses (it is read far from Portico)."""
    from portico.core.branding import brand_of

    return render_to_string(
        "core/email/layout.html",
        {
            "brand": brand_of(organization),
            "subject": subject,
            "paragraphs": text_paragraphs(text),
            "portal_url": organization.portal_url,
        },
    )


def _stored_attachment(filename: str, content: bytes | str, mimetype: str) -> dict:
    """Small attachments travel inside the event; big ones (PDFs) in a file of the media storage."""
    if isinstance(content, str):
        content = content.encode()
    if len(content) <= INLINE_ATTACHMENT_LIMIT:
        return {"filename": filename, "mimetype": mimetype, "base64": base64.b64encode(content).decode()}
    path = default_storage.save(
        f"outbox/{secrets.token_hex(8)}/{default_storage.get_valid_name(filename)}", ContentFile(content)
    )
    return {"filename": filename, "mimetype": mimetype, "path": path}


def _attachment_content(attachment: dict) -> bytes:
    if "base64" in attachment:
        return base64.b64decode(attachment["base64"])
    with default_storage.open(attachment["path"], "rb") as file:
        return file.read()


def message_id(event) -> str:
    """The same Message-ID for every delivery of one event, so a redelivered email is recognisable."""
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    domain = address.rpartition("@")[2] or "portico.localhost"
    return f"<outbox.{event.pk}.{event.created_at:%Y%m%d%H%M%S}@{domain}>"


# The consumer keeps the name it had in `notifications.email`: queued deliveries are stored under it.
@outbox.consumer(EMAIL_TOPIC, name="notifications.email")
def deliver_email(event) -> None:
    """Hand one queued message to Django's email backend (SMTP in production)."""
    payload = event.payload
    message = EmailMultiAlternatives(
        subject=payload["subject"],
        body=payload["text"],
        from_email=payload["from"],
        to=payload["to"],
        reply_to=payload["reply_to"],
        headers={"Message-ID": message_id(event)},
    )
    if payload.get("html"):
        message.attach_alternative(payload["html"], "text/html")
    for attachment in payload.get("attachments", []):
        message.attach(attachment["filename"], _attachment_content(attachment), attachment["mimetype"])
    message.send()
