"""`{% if portal|can_ask %}`: whether the signed-in contact may open a conversation (the module on
for their portal and posting allowed), so a page offers "Ask about this …" only where it works."""

from django import template

register = template.Library()


@register.filter
def can_ask(portal) -> bool:
    return portal is not None and portal.may("conversations") and portal.may("conversations", "post")
