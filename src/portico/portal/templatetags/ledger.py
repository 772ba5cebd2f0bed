"""Ledger parts the portal repeats: the status badge and the rows of an invoice table.

The rows are written in Python rather than as a template loop: a page of 25 invoices is about
300 template variable lookups, most of the invoice list's rendering time. The markup is what a
template would write; every value is escaped (`html.escape`, as Django's autoescape does).
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from portico.core.formatting import short_date
from portico.core.templatetags.money import current_locale, format_money

register = template.Library()

_NUMBER_SLOT = "__number__"
_URL_SAFE = RFC3986_SUBDELIMS + "/~:@"  # what django.urls.reverse leaves unquoted


def _badge_html(badge) -> str:
    html = f'<span class="badge badge-{escape(badge.tone)}">{escape(str(badge.text))}</span>'
    if badge.detail:
        html += f' <span class="badge badge-warn">{escape(str(badge.detail))}</span>'
    return html


@register.simple_tag
def badge(badge) -> SafeString:
    """An invoice's status badge: words first, the colour only repeats them."""
    return mark_safe(_badge_html(badge))  # every value escaped in _badge_html


@register.simple_tag
def invoice_rows(invoices) -> SafeString:
    """The `<tr>`s of `_invoice_table.html`: number (a link), issue and due dates, total, balance, badge."""
    link = _slot_link("portal:invoice")
    locale = current_locale()
    issued, due, total_label, balance_label, status = _labels(
        _("Issued"), _("Due"), _("Total"), _("Balance"), _("Status")
    )
    rows = []
    for invoice in invoices:
        number = invoice.number
        href = link(number)
        total = escape(format_money(invoice.total_minor, invoice.currency, locale))
        balance = escape(format_money(invoice.balance_minor, invoice.currency, locale))
        rows.append(
            f'<tr><th scope="row"><a href="{href}">{escape(number)}</a></th>'
            f"<td{issued}>{escape(short_date(invoice.issue_date))}</td>"
            f"<td{due}>{escape(short_date(invoice.due_date))}</td>"
            f'<td class="num"{total_label}>{total}</td><td class="num"{balance_label}>{balance}</td>'
            f"<td{status}>{_badge_html(invoice.badge)}</td></tr>"
        )
    return mark_safe("\n".join(rows))  # every value escaped above


def _labels(*labels: str) -> tuple[str, ...]:
    """` data-label="…"` attributes: each cell names its column, shown beside the value on phones
    (portico.css, `table.responsive`)."""
    return tuple(f' data-label="{escape(label)}"' for label in labels)


def _slot_link(name: str):
    """`number → URL` for a URL pattern taking one document number: one reverse, then each number
    quoted into it exactly as `reverse` quotes it."""
    link = reverse(name, args=[_NUMBER_SLOT])
    return lambda number: escape(link.replace(_NUMBER_SLOT, quote(number, safe=_URL_SAFE)))


@register.simple_tag
def payment_rows(payments) -> SafeString:
    """The `<tr>`s of the payments page: number, date, method (and card), amount, where the money
    went (each invoice it paid, what is unused, what was refunded) and the receipt link.
    Each payment's `allocations` are prefetched, each with its `amount` (ledger_queries.attach_amounts)."""
    invoice_link = _slot_link("portal:invoice")
    receipt_link = _slot_link("portal:payment_receipt")
    locale = current_locale()
    unused_label, refunded_label = escape(_("Unused credit")), escape(_("Refunded"))
    received, method_label, amount_label, applied, receipt_label = _labels(
        _("Received"), _("Method"), _("Amount"), _("Applied to"), _("Receipt")
    )
    rows = []
    for payment in payments:
        number = escape(payment.number)
        currency = payment.currency
        method = escape(str(payment.get_method_display()))
        if payment.card_last4:
            method += f" · {escape(payment.card_brand[:1].upper() + payment.card_brand[1:])} •••• {escape(payment.card_last4)}"
        went = [
            f'<li><a href="{invoice_link(a.invoice.number)}">{escape(a.invoice.number)}</a>: '
            f"{escape(format_money(a.amount_minor, currency, locale))}</li>"
            for a in payment.allocations.all()
        ]
        if payment.unused_minor:
            went.append(
                f"<li>{unused_label}: {escape(format_money(payment.unused_minor, currency, locale))}</li>"
            )
        if payment.refunded_minor:
            went.append(
                f"<li>{refunded_label}: {escape(format_money(payment.refunded_minor, currency, locale))}</li>"
            )
        receipt = _('Receipt (PDF)<span class="visually-hidden"> for %(number)s</span>') % {"number": number}
        rows.append(
            f'<tr id="payment-{number}"><th scope="row">{number}</th>'
            f"<td{received}>{escape(short_date(payment.received_on))}</td><td{method_label}>{method}</td>"
            f'<td class="num"{amount_label}>{escape(format_money(payment.amount_minor, currency, locale))}</td>'
            f'<td{applied}><ul class="plain">{"".join(went)}</ul></td>'
            f'<td{receipt_label}><a href="{receipt_link(payment.number)}">{receipt}</a></td></tr>'
        )
    return mark_safe("\n".join(rows))  # every value escaped above
