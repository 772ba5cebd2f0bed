"""`{{ day|local_date }}` and `{{ moment|local_datetime }}`: the one way a page or a document shows a
date (Babel's medium format in the organization's locale; see `core.formatting`)."""

from django import template

from portico.core import formatting

register = template.Library()


@register.filter
def local_date(value, locale: str | None = None) -> str:
    """`{{ invoice.due_date|local_date }}`; `{{ d|local_date:"de_DE" }}` names a locale."""
    return formatting.local_date(value, locale)


@register.filter
def local_datetime(value, locale: str | None = None) -> str:
    return formatting.local_datetime(value, locale)


@register.filter
def country_name(code: str, locale: str | None = None) -> str:
    return formatting.country_name(code, locale)
