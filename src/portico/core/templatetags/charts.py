"""`{% chart chart %}`: a `core.charts.Chart` as its SVG, legend and table of the same numbers."""

from django import template

register = template.Library()


@register.inclusion_tag("core/charts/chart.html")
def chart(chart):
    return {"chart": chart}
