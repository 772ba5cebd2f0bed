"""Form fields shared by the portal and the console."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from portico.core.money import AmountError, Money, amount_example, format_unit_price, parse_unit_price


def current_locale() -> str:
    from portico.core.templatetags.money import current_locale as locale_of_request

    return locale_of_request()


class MoneyField(forms.Field):
    """An amount typed in the organization's locale, cleaned to `Money` by `Money.parse` (the one
    parser). The currency is often known only when the form is built: set `field.currency` then.

    `locale` defaults to the active organization's (as the `money` filter does)."""

    widget = forms.TextInput
    default_error_messages = {"required": _("Enter an amount.")}

    def __init__(
        self, *, currency: str | None = None, locale: str | None = None, allow_negative=False, **kwargs
    ):
        self.currency = currency
        self.locale = locale
        self.allow_negative = allow_negative
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        # Not type=number: a browser's number input would refuse "125,50" in a German form.
        attrs.setdefault("inputmode", "decimal")
        attrs.setdefault("autocomplete", "off")
        return attrs

    def get_locale(self) -> str:
        return self.locale or current_locale()

    def prepare_value(self, value):
        if isinstance(value, Money):
            return value.format_input(self.get_locale())
        return value

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Money):
            return value
        if self.currency is None:
            raise TypeError("MoneyField needs its currency before it can clean a value")
        try:
            return Money.parse(
                str(value), self.currency, self.get_locale(), allow_negative=self.allow_negative
            )
        except AmountError as error:
            raise forms.ValidationError(error.message, code=error.code) from None

    @property
    def example(self) -> str:
        return amount_example(self.currency or "USD", self.get_locale())


class UnitPriceField(MoneyField):
    """A unit price typed in the organization's locale, which may be finer than the currency's minor
    unit ("0,0015"), cleaned to a `Decimal` in major units by `core.money.parse_unit_price`."""

    def prepare_value(self, value):
        if isinstance(value, Decimal) and self.currency:
            return format_unit_price(value, self.currency, self.get_locale())
        return value

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal):
            return value
        if self.currency is None:
            raise TypeError("UnitPriceField needs its currency before it can clean a value")
        try:
            return parse_unit_price(str(value), self.currency, self.get_locale())
        except AmountError as error:
            raise forms.ValidationError(error.message, code=error.code) from None


class LongSelect(forms.Select):
    """A `<select>` with hundreds of flat options (countries) written in Python: Django renders each
    option through its own template, which made the company page take over a second. Same markup,
    escaped; no option groups."""

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        chosen = {str(v) for v in self.format_value(value)}
        options = "".join(
            f'<option value="{escape(option)}"{" selected" if str(option) in chosen else ""}>{escape(label)}</option>'
            for option, label in self.choices
        )
        return mark_safe(f'<select name="{escape(name)}"{flatatt(final)}>{options}</select>')
