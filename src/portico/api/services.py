"""API keys: create (the secret is returned once), revoke, and find the key a request presents.

A key reads `ptk_<prefix>_<secret>`. The prefix is public (it tells keys apart in the console) and
finds the row; the whole key's SHA-256 is what is stored and compared, in constant time. The secret
is 256 random bits, so a fast hash is enough (there is nothing to brute-force, unlike a password)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from django.db import transaction

from portico.api.errors import KeyNameRequired
from portico.api.models import ApiKey, Scope
from portico.core import clock
from portico.core.audit import Actor, audit
from portico.core.fields import new_random_id

KEY_PREFIX = "ptk"
KEY_FORMAT = re.compile(r"^ptk_([A-Za-z0-9]{4,24})_([A-Za-z0-9_\-]{16,128})$")
LAST_USED_PRECISION = dt.timedelta(minutes=1)  # `last_used_at` is written at most once a minute


@dataclass(frozen=True)
class NewKey:
    """A created key and its secret, which is never shown again."""

    key: ApiKey
    secret: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _create(*, organization, name: str, scope: str, actor: Actor, prefix: str, secret: str) -> NewKey:
    token = f"{KEY_PREFIX}_{prefix}_{secret}"
    key = ApiKey.all_tenants.create(
        organization=organization,
        name=name,
        scope=scope,
        prefix=prefix,
        secret_hash=_hash(token),
        created_by=actor.user if getattr(actor.user, "pk", None) else None,
        created_at=clock.now(),
    )
    audit(actor, "api_key.created", key, name=name, scope=scope, prefix=prefix)
    return NewKey(key=key, secret=token)


def create_key(*, organization, name: str, scope: str, actor: Actor) -> NewKey:
    """A new key of the organization; the returned secret is the only copy there will ever be."""
    name = (name or "").strip()
    if not name:
        raise KeyNameRequired
    with transaction.atomic():
        return _create(
            organization=organization,
            name=name[:100],
            scope=Scope(scope),
            actor=actor,
            prefix=new_random_id()[:10],
            secret=secrets.token_urlsafe(32),
        )


def ensure_demo_key(*, organization, secret: str, actor: Actor) -> str:
    """The demo's fixed write key of an organization (`portico demo` only, never in production):
    created once, and the same key on every run so that the README's curl examples keep working."""
    prefix = f"demo{re.sub(r'[^A-Za-z0-9]', '', organization.slug)}"[:24]
    token = f"{KEY_PREFIX}_{prefix}_{secret}"
    with transaction.atomic():
        existing = ApiKey.all_tenants.filter(prefix=prefix).first()
        if existing is None:
            _create(
                organization=organization,
                name="Demo key",
                scope=Scope.WRITE,
                actor=actor,
                prefix=prefix,
                secret=secret,
            )
        elif existing.secret_hash != _hash(token) or existing.revoked_at is not None:
            ApiKey.all_tenants.filter(pk=existing.pk).update(secret_hash=_hash(token), revoked_at=None)
    return token


def revoke_key(*, key: ApiKey, actor: Actor) -> ApiKey:
    """Revoke a key at once: its next request answers 401. Revoking twice changes nothing."""
    with transaction.atomic():
        key = ApiKey.all_tenants.select_for_update().get(pk=key.pk)
        if key.revoked_at is not None:
            return key
        key.revoked_at = clock.now()
        key.save(update_fields=["revoked_at"])
        audit(actor, "api_key.revoked", key, name=key.name, prefix=key.prefix)
    return key


def key_for_token(token: str) -> ApiKey | None:
    """The active key this token is, or None (unknown, malformed or revoked). Spans tenants: the
    key is what tells which organization the request acts for."""
    match = KEY_FORMAT.match(token or "")
    if match is None:
        return None
    key = ApiKey.all_tenants.select_related("organization").filter(prefix=match.group(1)).first()
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(token)):
        return None
    if key.revoked_at is not None or not key.organization.is_active:
        return None
    return key


def touch(key: ApiKey) -> None:
    """Record that the key was used: one conditional UPDATE at most once a minute per key."""
    now = clock.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_PRECISION:
        return
    ApiKey.all_tenants.filter(pk=key.pk, last_used_at=key.last_used_at).update(last_used_at=now)
    key.last_used_at = now
