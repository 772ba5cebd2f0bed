"""Lockout after repeated failures: passwords, second-factor codes and reset requests.

Counts `AuthFailure` rows inside a sliding window read from `core.clock`, so every worker sees the
same count and tests move time instead of sleeping. While locked, even the right password is
refused: an attacker must not learn that a guess was right.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from portico.accounts.models import AuthFailure
from portico.core import clock


@dataclass(frozen=True)
class Limit:
    per_key: int  # failures for one account (email or user) in the window
    per_ip: int  # failures from one address in the window, whichever account
    window: dt.timedelta


def limit_of(kind: str) -> Limit:
    configured = getattr(settings, "PORTICO_LOCKOUT", {}).get(kind, {})
    defaults = {
        AuthFailure.Kind.LOGIN: (5, 20, 15),
        AuthFailure.Kind.MFA: (5, 20, 15),
        AuthFailure.Kind.RESET: (3, 20, 60),
    }[kind]
    per_key, per_ip, minutes = (
        configured.get("per_key", defaults[0]),
        configured.get("per_ip", defaults[1]),
        configured.get("minutes", defaults[2]),
    )
    return Limit(per_key=per_key, per_ip=per_ip, window=dt.timedelta(minutes=minutes))


def _recent(kind: str, organization, since):
    return AuthFailure.objects.filter(
        kind=kind, organization_id=getattr(organization, "pk", None), at__gte=since
    )


def is_locked(*, kind: str, organization, key: str, ip_address: str | None) -> bool:
    limit = limit_of(kind)
    recent = _recent(kind, organization, clock.now() - limit.window)
    if recent.filter(key=key.lower()).count() >= limit.per_key:
        return True
    return bool(ip_address) and recent.filter(ip_address=ip_address).count() >= limit.per_ip


def record_failure(*, kind: str, organization, key: str, ip_address: str | None) -> None:
    now = clock.now()
    AuthFailure.objects.create(
        kind=kind,
        organization_id=getattr(organization, "pk", None),
        key=key.lower()[:254],
        ip_address=ip_address or None,
        at=now,
    )
    # Rows older than the longest window count for nothing any more.
    longest = max(limit_of(k).window for k in AuthFailure.Kind.values)
    AuthFailure.objects.filter(Q(at__lt=now - longest - dt.timedelta(days=1))).delete()


def minutes_of(kind: str) -> int:
    return int(limit_of(kind).window.total_seconds() // 60)
