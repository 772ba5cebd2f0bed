"""Limits on repeated failures: password sign-ins (growing delays), second-factor codes and reset
requests (a sliding window of `AuthFailure` rows).

Passwords are throttled per bucket (`SignInThrottle`), never by locking the account for everyone:
- an account from browsers it has never signed in from ("unknown browsers") shares one budget,
- each known device of the account (a signed cookie set after a successful sign-in, OWASP's
  "device cookies", ASVS 2.2.1) has its own, so the owner still gets in while an attacker's
  failures from elsewhere are throttled,
- one client address across accounts (unknown browsers only) has a larger one, against spraying.
The first `free` attempts of a bucket pass; after that each attempt must wait a delay that doubles
with every failure, up to `cap`. An attempt is counted *before* its password is checked, by a
conditional `UPDATE` that only passes while the bucket allows an attempt, so concurrent requests
cannot all pass the check; a right password gives its attempt back. While throttled even the right
password is refused: an attacker must not learn that a guess was right. Time comes from
`core.clock`, so every worker agrees and tests move time instead of sleeping.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Case, F, Q, Value, When

from portico.accounts.models import AuthFailure, SignInThrottle
from portico.core import clock
from portico.core.audit import client_ip


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


# -- password sign-ins: growing delays per bucket ------------------------------------------------

DEVICE_COOKIE = "portico_device"
_DEVICE_SALT = "portico.accounts.device"
_DEVICE_MAX_AGE = 400 * 24 * 60 * 60  # browsers keep a cookie at most 400 days (RFC 6265bis)


@dataclass(frozen=True)
class Delays:
    free: int  # attempts that pass without waiting
    base: dt.timedelta  # the wait after the first failure past `free`; doubled by each further one
    cap: dt.timedelta
    forget: dt.timedelta  # a bucket with no attempt for this long starts afresh

    def wait_after(self, failures: int) -> dt.timedelta:
        if failures < self.free:
            return dt.timedelta(0)
        doublings = failures - self.free
        if doublings >= 32:  # past any sensible cap; avoids huge numbers
            return self.cap
        return min(self.base * 2**doublings, self.cap)


def delays_of(bucket: str) -> Delays:
    """`bucket` is "account" (unknown browsers), "device" (one known device) or "ip"."""
    configured = getattr(settings, "PORTICO_LOCKOUT", {}).get(f"login_{bucket}", {})
    free = {"account": 5, "device": 5, "ip": 20}[bucket]
    return Delays(
        free=configured.get("free", free),
        base=dt.timedelta(seconds=configured.get("base_seconds", 60)),
        cap=dt.timedelta(minutes=configured.get("cap_minutes", 60)),
        forget=dt.timedelta(hours=configured.get("forget_hours", 24)),
    )


@dataclass(frozen=True)
class Attempt:
    """The buckets one sign-in attempt was counted in (in lock order), and whether it was let in."""

    keys: tuple[tuple[str, str], ...]  # (bucket kind, key)
    admitted: bool
    wait: dt.timedelta = dt.timedelta(0)
    device: str | None = None  # the known device's id, if the attempt came with a valid cookie

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.wait.total_seconds() / 60))


def _org_part(organization) -> str:
    return str(organization.pk) if organization is not None else "-"


def _account_fingerprint(organization, email: str) -> str:
    # The cookie names its account without showing the address.
    raw = f"{_org_part(organization)}|{email.lower()}".encode()
    return hashlib.sha256(settings.SECRET_KEY.encode() + b"|device|" + raw).hexdigest()[:32]


def known_device(request, organization, email: str) -> str | None:
    """The device id of a valid device cookie of this account in this browser, else None."""
    try:
        value = request.get_signed_cookie(DEVICE_COOKIE, salt=_DEVICE_SALT, max_age=_DEVICE_MAX_AGE)
    except (KeyError, signing.BadSignature):
        return None
    account, _, device = value.partition(":")
    if account != _account_fingerprint(organization, email) or not device:
        return None
    return device


def remember_device(request, response, organization, email: str) -> None:
    """After a successful sign-in: mark this browser as a known device of the account."""
    device = known_device(request, organization, email) or secrets.token_urlsafe(16)
    response.set_signed_cookie(
        DEVICE_COOKIE,
        f"{_account_fingerprint(organization, email)}:{device}",
        salt=_DEVICE_SALT,
        max_age=_DEVICE_MAX_AGE,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )


def _account_key(organization, email: str, client: str) -> str:
    return f"{_org_part(organization)}|account|{email.lower()[:254]}|{client}"


def _buckets(request, organization, email: str) -> tuple[tuple[tuple[str, str], ...], str | None]:
    device = known_device(request, organization, email)
    if device is not None:
        return (("device", _account_key(organization, email, f"device:{device}")),), device
    keys = [("account", _account_key(organization, email, "unknown"))]
    ip = client_ip(request)
    if ip:
        keys.append(("ip", f"{_org_part(organization)}|ip|{ip}"))
    return tuple(keys), None


def _admits(delays: Delays, now: dt.datetime) -> Q:
    """The rows of buckets that allow an attempt at `now`."""
    allowed = Q(failures__lt=delays.free) | Q(last_attempt_at__isnull=True)
    allowed |= Q(last_attempt_at__lte=now - delays.forget)
    failures = delays.free
    while delays.wait_after(failures) < delays.cap:
        allowed |= Q(failures=failures, last_attempt_at__lte=now - delays.wait_after(failures))
        failures += 1
    return allowed | Q(failures__gte=failures, last_attempt_at__lte=now - delays.cap)


def begin_attempt(request, *, organization, email: str) -> Attempt:
    """Count a password attempt in each of its buckets, or refuse it (counting nothing) if one of
    them must wait. Called before the password is checked."""
    keys, device = _buckets(request, organization, email)
    now = clock.now()
    organization_id = getattr(organization, "pk", None)
    SignInThrottle.all_tenants.bulk_create(
        [SignInThrottle(organization_id=organization_id, key=key) for _, key in keys], ignore_conflicts=True
    )
    refused = None
    with transaction.atomic():
        for kind, key in keys:  # always account before address: one lock order
            delays = delays_of(kind)
            counted = (
                SignInThrottle.all_tenants.filter(key=key)
                .filter(_admits(delays, now))
                .update(
                    failures=Case(
                        When(last_attempt_at__lte=now - delays.forget, then=Value(1)),
                        default=F("failures") + 1,
                    ),
                    last_attempt_at=now,
                )
            )
            if not counted:
                refused = (delays, key)
                transaction.set_rollback(True)  # the buckets counted before this one get it back
                break
    if refused is None:
        return Attempt(keys=keys, admitted=True, device=device)
    delays, key = refused
    row = SignInThrottle.all_tenants.get(key=key)
    wait = row.last_attempt_at + delays.wait_after(row.failures) - now
    return Attempt(keys=keys, admitted=False, wait=wait, device=device)


def attempt_succeeded(attempt: Attempt) -> None:
    """The password was right: a known device starts afresh; other buckets get the attempt back
    (not wiped, or an attacker could interleave their own successful sign-ins with guesses)."""
    for kind, key in attempt.keys:
        rows = SignInThrottle.all_tenants.filter(key=key)
        if kind == "device":
            rows.update(failures=0)
        else:
            rows.filter(failures__gt=0).update(failures=F("failures") - 1)


def forget_account(*, organization_id, email: str) -> None:
    """Proving control of the mailbox (a password reset) lifts the throttles of the account."""
    prefix = f"{organization_id if organization_id is not None else '-'}|account|{email.lower()[:254]}|"
    SignInThrottle.all_tenants.filter(key__startswith=prefix).delete()
