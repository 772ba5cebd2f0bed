"""Password reset links expire by `core.clock` (so tests move time instead of waiting)."""

from __future__ import annotations

import datetime as dt

from allauth.account.forms import EmailAwarePasswordResetTokenGenerator

from portico.core import clock


class ClockPasswordResetTokenGenerator(EmailAwarePasswordResetTokenGenerator):
    """allauth's reset token (it also changes when the user's email does), timed by `core.clock`."""

    def _now(self) -> dt.datetime:
        # Django compares naive datetimes since 2001-01-01; UTC keeps them unambiguous.
        return clock.now().astimezone(dt.UTC).replace(tzinfo=None)
