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
    # One reverse for the page; each number is quoted into it exactly as `reverse` quotes it.
    link = reverse("portal:invoice", args=[_NUMBER_SLOT])
    locale = current_locale()
    rows = []
    for invoice in invoices:
        number = invoice.number
        href = escape(link.replace(_NUMBER_SLOT, quote(number, safe=_URL_SAFE)))
        total = escape(format_money(invoice.total_minor, invoice.currency, locale))
        balance = escape(format_money(invoice.balance_minor, invoice.currency, locale))
        rows.append(
            f'<tr><th scope="row"><a href="{href}">{escape(number)}</a></th>'
            f"<td>{escape(short_date(invoice.issue_date))}</td><td>{escape(short_date(invoice.due_date))}</td>"
            f'<td class="num">{total}</td><td class="num">{balance}</td>'
            f"<td>{_badge_html(invoice.badge)}</td></tr>"
        )
    return mark_safe("\n".join(rows))  # every value escaped above
