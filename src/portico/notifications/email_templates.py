"""The organization's own subject and text for an email, and its on/off per kind.

An override is plain text with `{{ variable }}` placeholders: a restricted substitution of our own,
not Django's template engine. Only the names the kind declares (`core.email_kinds`) are replaced, by
plain-text values the declaration takes from the email's context; there are no tags, no filters and
no dotted paths, so an override can neither run logic nor reach a field nobody declared
(`{{ organization.stripe_secret_key }}` is refused as an unknown variable). The text stays text: the
HTML part escapes it (`core.mail.branded_html`), so a `<script>` in an override is shown, not run.

`customize` is `core.mail`'s email customizer (registered in `NotificationsConfig.ready()`): with an
override the subject and text come from it; with the kind switched off nothing is sent.
"""

from __future__ import annotations

import logging
import re

from django.db import transaction
from django.utils.translation import gettext as _

from portico.core import clock
from portico.core.audit import Actor, audit
from portico.core.email_kinds import EmailKind, kinds
from portico.core.mail import branded_html
from portico.core.models import Organization
from portico.notifications.errors import EmailTemplateInvalid
from portico.notifications.models import BODY_MAX_LENGTH, SUBJECT_MAX_LENGTH, EmailTemplate

log = logging.getLogger(__name__)

PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.S)
TAG_MARKS = ("{%", "%}", "{#", "#}")


def _allowed(kind: EmailKind) -> str:
    return ", ".join(f"{{{{ {name} }}}}" for name in kind.variable_names()) or _("none")


def check_text(kind: EmailKind, text: str, *, field: str) -> None:
    """Refuse anything but `{{ declared_name }}` placeholders, naming what is wrong and what is allowed."""
    for mark in TAG_MARKS:
        if mark in text:
            raise EmailTemplateInvalid(
                _(
                    "“%(mark)s” is not allowed: an email text offers no tags or comments, only "
                    "variables written as {{ name }}. The variables of this email: %(allowed)s."
                )
                % {"mark": mark, "allowed": _allowed(kind)},
                field=field,
            )
    names = set(kind.variable_names())
    for match in PLACEHOLDER.finditer(text):
        name = match.group(1).strip()
        if name not in names:
            raise EmailTemplateInvalid(
                _("“%(found)s” is not a variable of this email. The variables of this email: %(allowed)s.")
                % {"found": "{{ " + name + " }}", "allowed": _allowed(kind)},
                field=field,
            )
    rest = PLACEHOLDER.sub("", text)
    if "{{" in rest or "}}" in rest:
        raise EmailTemplateInvalid(
            _("A variable is not closed: write it as {{ name }}. The variables of this email: %(allowed)s.")
            % {"allowed": _allowed(kind)},
            field=field,
        )


def check_override(kind: EmailKind, *, subject: str, body: str) -> tuple[str, str]:
    """The subject and text as they would be saved (the subject on one line), or a refusal."""
    subject = " ".join((subject or "").split())
    body = (body or "").replace("\r\n", "\n").strip("\n")
    if len(subject) > SUBJECT_MAX_LENGTH:
        raise EmailTemplateInvalid(
            _("Keep the subject to %(max)d characters or fewer.") % {"max": SUBJECT_MAX_LENGTH},
            field="subject",
        )
    if len(body) > BODY_MAX_LENGTH:
        raise EmailTemplateInvalid(
            _("Keep the text to %(max)d characters or fewer.") % {"max": BODY_MAX_LENGTH}, field="body"
        )
    check_text(kind, subject, field="subject")
    check_text(kind, body, field="body")
    return subject, body


def substitute(text: str, values: dict[str, str]) -> str:
    """Each `{{ name }}` replaced by its value, in one pass: a value that itself contains `{{ x }}`
    stays as written (a customer named "{{ portal_url }}" is not expanded)."""
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1).strip(), ""), text)


def kind_for(key: str) -> EmailKind | None:
    """A customisable kind by its key ("payments.receipt"), None for any other."""
    kind = kinds().by_key(key)
    return kind if kind is not None and kind.customisable else None


def template_of(organization, kind: EmailKind) -> EmailTemplate | None:
    return EmailTemplate.all_tenants.filter(organization_id=organization.pk, kind=kind.template).first()


def is_enabled(organization, kind: EmailKind) -> bool:
    if not kind.switchable:
        return True
    row = template_of(organization, kind)
    return row is None or row.is_enabled


# -- the customizer ---------------------------------------------------------------------------------


def customize(*, organization, template: str, context: dict, subject: str, text: str):
    """`core.mail`'s hook: (subject, text) to send, or None when the organization switched it off."""
    kind = kinds().get(template)
    if kind is None or not kind.customisable:
        return subject, text
    row = template_of(organization, kind)
    if row is None:
        return subject, text
    if not row.is_enabled and kind.switchable:
        return None
    if not row.is_overridden:
        return subject, text
    try:
        own_subject, own_body = check_override(kind, subject=row.subject, body=row.body)
    except EmailTemplateInvalid:  # the kind's variables changed since it was saved: the default
        log.warning(
            "organization %s: the override of %s no longer fits; sending the default",
            organization.pk,
            template,
        )
        return subject, text
    values = kind.values(context)
    return (
        " ".join(substitute(own_subject, values).split()) if own_subject else subject,
        substitute(own_body, values) if own_body else text,
    )


# -- the console's writes ----------------------------------------------------------------------------


def _locked_row(organization, kind: EmailKind) -> EmailTemplate:
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    row = (
        EmailTemplate.all_tenants.select_for_update()
        .filter(organization=organization, kind=kind.template)
        .first()
    )
    return row or EmailTemplate(organization=organization, kind=kind.template)


def save_email_template(
    *, organization, kind: EmailKind, is_enabled: bool, subject: str, body: str, actor: Actor
) -> EmailTemplate:
    """Save the organization's choice for `kind`: refused (nothing saved) for an unknown variable, a
    tag, or switching off what must always be sent. Blank subject or text: Portico's default."""
    if not kind.customisable:
        raise EmailTemplateInvalid(_("This email is not one your customers receive; it cannot be changed."))
    if not is_enabled and not kind.switchable:
        raise EmailTemplateInvalid(
            _("“%(label)s” cannot be switched off. %(why)s") % {"label": kind.label, "why": kind.why_always},
            field="is_enabled",
        )
    subject, body = check_override(kind, subject=subject, body=body)
    with transaction.atomic():
        row = _locked_row(organization, kind)
        before = {"is_enabled": row.is_enabled, "subject": row.subject, "body": row.body} if row.pk else None
        row.is_enabled, row.subject, row.body = bool(is_enabled), subject, body
        row.updated_at = clock.now()
        row.save()
        audit(
            actor,
            "email_template.changed",
            row,
            organization=organization,
            kind=kind.template,
            is_enabled=row.is_enabled,
            subject=subject,
            body=body,
            before=before,
        )
    return row


def restore_default(*, organization, kind: EmailKind, actor: Actor) -> EmailTemplate | None:
    """Back to Portico's subject and text (the on/off choice stays)."""
    with transaction.atomic():
        row = _locked_row(organization, kind)
        if row.pk is None or not row.is_overridden:
            return row if row.pk else None
        before = {"subject": row.subject, "body": row.body}
        row.subject, row.body, row.updated_at = "", "", clock.now()
        row.save()
        audit(
            actor,
            "email_template.restored",
            row,
            organization=organization,
            kind=kind.template,
            before=before,
        )
    return row


# -- the preview ---------------------------------------------------------------------------------------


def preview(*, organization, kind: EmailKind, subject: str, body: str) -> dict:
    """The email as it would look with the kind's sample data: subject, text and branded HTML, or
    the refusal saving would give (`error`, `field`). Blank subject or text: the default's."""
    values = {
        **kind.sample_values(),
        "organization_name": organization.display_title,
        "portal_url": organization.portal_url,
    }
    try:
        subject, body = check_override(kind, subject=subject, body=body)
    except EmailTemplateInvalid as error:
        return {"error": str(error.message), "field": error.field}
    subject = " ".join(substitute(subject or str(kind.default_subject), values).split())
    text = substitute(body or str(kind.default_body), values)
    return {
        "subject": subject,
        "text": text,
        "html": branded_html(organization, subject=subject, text=text),
        "error": "",
        "field": None,
    }
