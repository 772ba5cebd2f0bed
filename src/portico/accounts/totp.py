"""TOTP codes are single-use across every app server worker (RFC 6238 §5.2).

allauth marks a used code in Django's cache, which is per process unless a shared cache is
configured; with several gunicorn workers a replayed code could land on another worker. We keep
the mark in the database instead: a unique (user, code) row, kept for as long as the code could
still be valid (the period times the tolerated steps either side).
"""

from __future__ import annotations

import datetime as dt

from allauth.core.internal.cryptokit import normalize_user_code
from allauth.mfa import app_settings
from allauth.mfa.totp.internal import auth
from django.db import IntegrityError, transaction

from portico.accounts.models import UsedTotpCode
from portico.core import clock


def _lifetime() -> dt.timedelta:
    return dt.timedelta(seconds=app_settings.TOTP_PERIOD * (2 * app_settings.TOTP_TOLERANCE + 2))


def mark_code_used(totp: auth.TOTP, code: str) -> bool:
    """True the first time a code is used for a user, False for a replay."""
    return mark_user_code_used(totp.instance.user_id, code)


def mark_user_code_used(user_id: int, code: str) -> bool:
    """As `mark_code_used`, for a code checked before the authenticator exists (turning the app on)."""
    now = clock.now()
    UsedTotpCode.objects.filter(user_id=user_id, used_at__lt=now - _lifetime()).delete()
    try:
        with transaction.atomic():
            UsedTotpCode.objects.create(user_id=user_id, code=normalize_user_code(code), used_at=now)
    except IntegrityError:
        return False
    return True


def install() -> None:
    auth.TOTP._mark_code_used = mark_code_used
