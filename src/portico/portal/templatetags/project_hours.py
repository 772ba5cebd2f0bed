"""`{{ hours|hours }}`: a `Decimal` of hours as the charts' tables write it (`12.25 h`, the
organization's locale), so a page's figures and its charts' tables read alike."""

from django import template
from django.utils.translation import gettext as _

from portico.core.charts import NumberValues

register = template.Library()


@register.filter
def hours(value) -> str:
    if value is None or value == "":
        return ""
    return NumberValues(_("h")).full(value)
