"""Outgoing email: one way to send, rendered from templates, leaving only when the transaction commits.

A template `notifications/<name>` has three files: `<name>.subject.txt`, `<name>.txt` and
optionally `<name>.html`. Every message carries the organization's name as sender name and
reply-to address when it has one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string


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
) -> None:
    """Render now, send after commit (a rolled-back change sends nothing)."""
    context = {"organization": organization, "portal_url": organization.portal_url, **(context or {})}
    subject, text, html = render_email(template, context)
    send_rendered_email(
        organization=organization,
        to=to,
        subject=subject,
        text=text,
        html=html,
        attachments=attachments,
        reply_to=reply_to,
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
) -> None:
    """Send an already rendered message (allauth's own emails) the same way: after commit."""
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=formataddr((organization.name, address)),
        to=list(to),
        reply_to=list(reply_to),
    )
    if html:
        message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    transaction.on_commit(message.send)
