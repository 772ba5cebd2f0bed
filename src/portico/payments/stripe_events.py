"""Stripe's webhook signature, verified without stripe-python, and the event read into a `GatewayEvent`.

Stripe signs `"<timestamp>.<raw body>"` with HMAC-SHA256 under the endpoint's signing secret and sends
`Stripe-Signature: t=<timestamp>,v1=<hex>[,v1=<hex>…]` (several `v1` while a secret is being rolled;
`v0` is a test-mode scheme we ignore). A signature verifies if any `v1` matches (compared in constant
time) and the timestamp is within `tolerance` seconds of now, so a captured delivery cannot be
replayed later (https://docs.stripe.com/webhooks#verify-manually).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

from django.utils.translation import gettext_lazy as _

from portico.core import clock
from portico.payments.gateways import GatewayEvent, SignatureError

SIGNATURE_HEADER = "Stripe-Signature"
DEFAULT_TOLERANCE = 300  # seconds; Stripe's libraries use the same


def _header(headers, name: str) -> str:
    """A header from a mapping that may or may not be case-insensitive (Django's `request.headers`
    is; a plain dict from a test or a `META`-style mapping may not be)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    if value is None:
        value = headers.get("HTTP_" + name.upper().replace("-", "_"))
    return value or ""


def sign(*, body: bytes, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header Stripe would send for `body` (tests and tools sign with it)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(*, body: bytes, header: str, secret: str, tolerance: int = DEFAULT_TOLERANCE) -> int:
    """Check a `Stripe-Signature` header against the raw body; the signed timestamp, or SignatureError."""
    if not secret:
        raise SignatureError(_("No webhook signing secret is configured for this organization."))
    timestamp, signatures = None, []
    for item in header.split(","):
        key, _sep, value = item.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not timestamp.isdigit() or not signatures:
        raise SignatureError(_("The Stripe-Signature header is missing or malformed."))
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    # Every candidate is compared, whatever the first one gives: the time taken says nothing.
    matched = False
    for candidate in signatures:
        matched |= hmac.compare_digest(expected.encode(), candidate.encode())
    if not matched:
        raise SignatureError(_("The webhook signature does not verify."))
    if abs(clock.now().timestamp() - int(timestamp)) > tolerance:
        raise SignatureError(_("The webhook signature is too old (or from the future)."))
    return int(timestamp)


def parse(*, body: bytes, headers, secret: str, tolerance: int = DEFAULT_TOLERANCE) -> GatewayEvent:
    """Verify a Stripe webhook delivery and read its event; SignatureError if it does not verify or
    is not a Stripe event."""
    verify(body=body, header=_header(headers, SIGNATURE_HEADER), secret=secret, tolerance=tolerance)
    try:
        event = json.loads(body.decode("utf-8"))
        obj = event["data"]["object"]
        event_id, event_type = str(event["id"]), str(event["type"])
        created = dt.datetime.fromtimestamp(int(event["created"]), tz=dt.UTC)
        if not isinstance(obj, dict) or not event_id or not event_type:
            raise ValueError
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, OverflowError, OSError):
        raise SignatureError(_("The webhook body is not a Stripe event.")) from None
    return GatewayEvent(
        id=event_id,
        type=event_type,
        created=created,
        object_reference=str(obj.get("id") or ""),
        data=obj,
    )
