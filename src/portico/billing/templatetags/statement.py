"""`{% statement_rows lines %}`: the rows of a statement, written in Python.

A statement page shows 100 lines and its PDF thousands; as a template loop each line costs a dozen
variable lookups and filters, most of the page's rendering time. The markup is what the loop would
write, every value escaped (`html.escape`, as Django's autoescape does).
"""

from __future__ import annotations

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from portico.core.formatting import short_date
from portico.core.templatetags.money import current_locale, format_money

register = template.Library()


@register.simple_tag
def statement_rows(lines) -> SafeString:
    locale = current_locale()
    # Each cell names its column (` data-label`), shown beside the value on phones (portico.css).
    date, description, charges, credits, balance_label = (
        f' data-label="{escape(label)}"'
        for label in (_("Date"), _("Description"), _("Charges"), _("Credits"), _("Balance"))
    )
    rows = []
    for line in lines:
        amount, currency = line.amount_minor, line.currency
        debit = escape(format_money(amount, currency, locale)) if amount >= 0 else ""
        credit = escape(format_money(-amount, currency, locale)) if amount < 0 else ""
        balance = escape(format_money(line.balance_minor, currency, locale))
        rows.append(
            f"<tr><td{date}>{escape(short_date(line.date))}</td><td{description}>{escape(line.description)}</td>"
            f'<td class="num"{charges}>{debit}</td><td class="num"{credits}>{credit}</td>'
            f'<td class="num"{balance_label}>{balance}</td></tr>'
        )
    return mark_safe("\n".join(rows))  # every value escaped above
