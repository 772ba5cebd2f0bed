"""Decorators other apps use for sensitive portal actions (adding a card, changing roles, email…).

`sensitive` asks for the password (or a second factor) again unless the user reauthenticated within
allauth's ACCOUNT_REAUTHENTICATION_TIMEOUT; a POST is kept and replayed once they have. Put it
*under* `@portal_view(...)` so the role and preference gates answer first:

    @portal_view(module="payment_methods", action="manage")
    @sensitive
    def add_card(request): ...
"""

from allauth.account.decorators import reauthentication_required

sensitive = reauthentication_required
