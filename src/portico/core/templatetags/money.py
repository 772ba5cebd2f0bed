"""`{{ amount|money }}`: the one way a template shows money (Babel, the organization's locale)."""

from functools import lru_cache

from babel.core import Locale, UnknownLocaleError
from django import template
from django.utils import translation

from portico.core import tenancy
from portico.core.money import Money

register = template.Library()


def current_locale() -> str:
    organization = tenancy.current_organization()
    if organization is not None and organization.locale:
        return organization.locale
    return translation.to_locale(translation.get_language() or "en_US")


@lru_cache(maxsize=64)
def _currency_pattern(locale: str):
    try:
        parsed = Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        parsed = Locale.parse("en_US")
    return parsed, parsed.currency_formats["standard"]


@lru_cache(maxsize=8192)
def format_money(minor: int, currency: str, locale: str) -> str:
    """Money.format, with the locale's pattern parsed once (a statement page formats hundreds)."""
    parsed, pattern = _currency_pattern(locale)
    return pattern.apply(Money(minor, currency).decimal, parsed, currency=currency)


@register.filter
def money(value, locale: str | None = None) -> str:
    """Format a `Money`; `{{ amount|money:"de_DE" }}` names a locale, otherwise the organization's."""
    if value is None or value == "":
        return ""
    if not isinstance(value, Money):
        raise template.TemplateSyntaxError(f"money takes a Money value, not {type(value).__name__}")
    return format_money(value.minor, value.currency, locale or current_locale())
