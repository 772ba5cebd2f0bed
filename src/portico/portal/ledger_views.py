"""The customer's ledger in the portal: what its pages share, and the overview's figures and panel.

The pages are one module per family: `invoice_views`, `payment_views`, `statement_views`, `pay_views`.

Views parse, authorize (through `@portal_view`), call one selector or service and render. Every
object is reached through a `portal.ledger_queries` helper scoped to the organization and customer.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portico.billing.selectors import invoiced_and_paid_by_month
from portico.core.charts import MoneyValues, Series, bar_chart, month_categories
from portico.payments.gateways import bank_transfer_instructions, online_gateway
from portico.portal import ledger_queries as q

PAGE_SIZE = 25
STATEMENT_PAGE_SIZE = 100


# -- dashboard --------------------------------------------------------------------------------------------


def ledger_cards(portal) -> list[dict]:
    """The dashboard's account figures (registered in `portal.views.DASHBOARD_CARDS`). They come from
    one aggregate per currency, so they cannot contradict each other: the next due date is the
    earliest due date of the invoices making up the outstanding total, "overdue since" when past."""
    from portico.core.formatting import local_date
    from portico.core.templatetags.money import money

    if not portal.allows("invoices"):
        return []
    today = q.today_for(portal)
    cards = []
    for summary in q.account_summaries(portal):
        suffix = f" ({summary.currency})" if summary.currency != portal.customer.currency else ""
        cards.append({"label": _("Total outstanding") + suffix, "value": money(summary.outstanding)})
        note = ""
        if summary.overdue_count:
            note = ngettext(
                "%(count)d invoice overdue", "%(count)d invoices overdue", summary.overdue_count
            ) % {"count": summary.overdue_count}
        cards.append({"label": _("Overdue") + suffix, "value": money(summary.overdue), "note": note})
        if portal.allows("credits"):
            cards.append({"label": _("Unused credits") + suffix, "value": money(summary.unused_credits)})
        cards.append({"label": _("Next due date") + suffix, **_next_due(summary, today, local_date)})
    return cards


def _next_due(summary, today, local_date) -> dict:
    due = summary.next_due_date
    if not summary.outstanding:
        return {"value": _("Nothing due")}
    if due is None:
        return {"value": _("Due on receipt")}
    if due >= today:
        return {"value": local_date(due)}
    upcoming = summary.next_upcoming_due_date
    return {
        "value": _("Overdue since %(date)s") % {"date": local_date(due)},
        "note": _("Next due date after that: %(date)s") % {"date": local_date(upcoming)} if upcoming else "",
    }


def latest_invoices_panel(portal) -> list[dict]:
    if not portal.allows("invoices"):
        return []
    today = q.today_for(portal)
    invoices = list(q.invoices_of(portal).order_by("-issue_date", "-id")[:5])
    for invoice in invoices:
        invoice.badge = q.badge_for(invoice, today)
    return [
        {
            "template": "portal/ledger/_latest_invoices.html",
            "invoices": invoices,
            "can_pay": can_pay_online(portal),
            "can_bulk_pay": can_pay_online(portal) and portal.may("invoices", "bulk_pay"),
            "can_pay_any_amount": can_pay_online(portal) and portal.may("invoices", "pay_any_amount"),
            "bank_transfer": pay_by_transfer(portal),
        }
    ]


def invoiced_vs_paid_panel(portal) -> list[dict]:
    """The customer's last twelve months, invoiced vs paid, in their currency: a chart with its table."""
    if not portal.may("invoices"):
        return []
    months = invoiced_and_paid_by_month(portal.customer, today=q.today_for(portal), months=12)
    chart = bar_chart(
        id="invoiced-vs-paid",
        title=_("Invoiced and paid, last 12 months"),
        categories=month_categories([m.month for m in months]),
        series=[
            Series(_("Invoiced"), [m.invoiced.minor for m in months]),
            Series(_("Paid"), [m.paid.minor for m in months]),
        ],
        values=MoneyValues(portal.customer.currency),
        category_header=_("Month"),
        description=_("Invoices issued and payments received per month, in %(currency)s.")
        % {"currency": portal.customer.currency},
        empty_text=_("Nothing invoiced or paid in the last 12 months yet."),
    )
    return [{"template": "portal/ledger/_invoiced_vs_paid.html", "chart": chart}]


def can_pay_online(portal) -> bool:
    return portal.may("invoices", "pay") and online_gateway(portal.organization) is not None


def pay_by_transfer(portal) -> str:
    """Where "Pay" would be when the organization takes no payments online: how to pay by bank
    transfer (plain text; the template escapes it). Invoices show the instructions in any case."""
    if online_gateway(portal.organization) is not None:
        return ""
    return bank_transfer_instructions(portal.organization)
