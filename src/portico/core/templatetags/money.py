"""`{{ amount|money }}`: the one way a template shows money (Babel, the organization's locale)."""

from babel.core import UnknownLocaleError
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


@register.filter
def money(value, locale: str | None = None) -> str:
    """Format a `Money`; `{{ amount|money:"de_DE" }}` names a locale, otherwise the organization's."""
    if value is None or value == "":
        return ""
    if not isinstance(value, Money):
        raise template.TemplateSyntaxError(f"money takes a Money value, not {type(value).__name__}")
    try:
        return value.format(locale or current_locale())
    except (UnknownLocaleError, ValueError):
        return value.format("en_US")
