"""Forms of the portal's ledger pages. All work without JavaScript."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.billing.statements import PERIODS
from portico.payments.gateways import CardDetails
from portico.portal.ledger_queries import INVOICE_FILTERS, INVOICE_SORTS


class DateInput(forms.DateInput):
    input_type = "date"


class InvoiceFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Show"), choices=list(INVOICE_FILTERS.items()), required=False)
    start = forms.DateField(label=_("Issued from"), required=False, widget=DateInput)
    end = forms.DateField(label=_("Issued until"), required=False, widget=DateInput)
    q = forms.CharField(label=_("Invoice number"), required=False, max_length=40)
    sort = forms.ChoiceField(
        label=_("Sort by"), choices=[(k, v[0]) for k, v in INVOICE_SORTS.items()], required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The end date must be on or after the start date."))
        return data


class StatementForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=list(PERIODS.items()), initial="this_month")
    start = forms.DateField(
        label=_("From"), required=False, widget=DateInput, help_text=_("For custom dates")
    )
    end = forms.DateField(label=_("To"), required=False, widget=DateInput, help_text=_("For custom dates"))
    currency = forms.ChoiceField(label=_("Currency"), required=False)

    def __init__(self, *args, currencies: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(c, c) for c in currencies]
        self.show_currency = len(currencies) > 1


class CardNumberInput(forms.TextInput):
    """Never echoes the card number back into the page (a re-shown form asks for it again)."""

    def format_value(self, value):
        return None


class CardForm(forms.Form):
    """Card fields for gateways that tokenize on our server (the test gateway). The number and the
    security code are never stored or logged; only the gateway's token, brand, last 4 and expiry are."""

    name = forms.CharField(
        label=_("Name on card"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "cc-name"})
    )
    number = forms.CharField(
        label=_("Card number"),
        max_length=23,
        widget=CardNumberInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}),
    )
    exp_month = forms.IntegerField(
        label=_("Expiry month"),
        min_value=1,
        max_value=12,
        widget=forms.NumberInput(attrs={"autocomplete": "cc-exp-month"}),
    )
    exp_year = forms.IntegerField(
        label=_("Expiry year"),
        min_value=2000,
        max_value=2200,
        widget=forms.NumberInput(attrs={"autocomplete": "cc-exp-year"}),
    )
    cvc = forms.CharField(
        label=_("Security code (CVC)"),
        max_length=4,
        widget=forms.PasswordInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric"}),
    )

    def card(self) -> CardDetails:
        data = self.cleaned_data
        return CardDetails(
            number=data["number"],
            exp_month=data["exp_month"],
            exp_year=data["exp_year"],
            cvc=data["cvc"],
            name=data["name"],
        )
