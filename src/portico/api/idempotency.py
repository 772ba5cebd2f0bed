"""`Idempotency-Key` on POSTs (Stripe's rule): the first response to a key is stored and replayed,
byte for byte, to every retry with the same method, path and body; the same key with another path
or body is refused (409). Keys are per organization and API key, and kept 24 hours.

The record is inserted and committed *before* the request runs, so two identical requests sent at
once collide on its unique constraint: the second waits a few seconds for the first to finish and
replays its response, or answers 409 "in progress" — it never runs the change a second time. A
response of 500 or above is not stored (the record is removed), so that a retry may run again."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time

from django.db import IntegrityError, transaction
from django.http import HttpResponse

from portico.api.errors import IdempotencyInProgress, IdempotencyKeyReused, MalformedRequest, error_response
from portico.api.models import IdempotencyRecord
from portico.core import clock

HEADER = "Idempotency-Key"
KEPT = dt.timedelta(hours=24)
WAIT_SECONDS = 5.0
POLL_SECONDS = 0.05
_KEY_TEXT = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces


def fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b"\n" + request.get_full_path().encode() + b"\n")
    digest.update(request.body)
    return digest.hexdigest()


def run(request, api_key, get_response):
    """Serve a POST through its idempotency record (when it names a key)."""
    key = request.headers.get(HEADER)
    if key is None:
        return get_response(request)
    if not _KEY_TEXT.match(key):
        return error_response(
            MalformedRequest(
                "An Idempotency-Key is 1 to 255 printable ASCII characters without spaces.", field=HEADER
            )
        )
    print_ = fingerprint(request)
    record, claimed = _claim(api_key, key, print_)
    if not claimed:
        return _replay(record, print_)
    try:
        response = get_response(request)
    except BaseException:
        IdempotencyRecord.all_tenants.filter(pk=record.pk).delete()
        raise
    if response.status_code >= 500 or response.streaming:
        IdempotencyRecord.all_tenants.filter(pk=record.pk).delete()
        return response
    IdempotencyRecord.all_tenants.filter(pk=record.pk).update(
        status_code=response.status_code,
        content_type=response.get("Content-Type", ""),
        body=response.content,
    )
    return response


def _claim(api_key, key: str, print_: str) -> tuple[IdempotencyRecord, bool]:
    for _attempt in range(3):
        now = clock.now()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.all_tenants.create(
                    organization_id=api_key.organization_id,
                    api_key=api_key,
                    key=key,
                    fingerprint=print_,
                    created_at=now,
                )
            # the key's records past their 24 hours are no longer replayed: forget them
            IdempotencyRecord.all_tenants.filter(api_key=api_key, created_at__lt=now - KEPT).delete()
            return record, True
        except IntegrityError:
            record = IdempotencyRecord.all_tenants.filter(
                organization_id=api_key.organization_id, api_key=api_key, key=key
            ).first()
            if record is None:
                continue  # removed meanwhile (the first request failed): claim it again
            if record.created_at < now - KEPT:
                IdempotencyRecord.all_tenants.filter(pk=record.pk, created_at=record.created_at).delete()
                continue
            return record, False
    raise IdempotencyInProgress


def _replay(record: IdempotencyRecord, print_: str):
    if record.fingerprint != print_:
        return error_response(IdempotencyKeyReused())
    deadline = time.monotonic() + WAIT_SECONDS
    while record.status_code is None:
        if time.monotonic() > deadline:
            return error_response(IdempotencyInProgress())
        time.sleep(POLL_SECONDS)
        record = IdempotencyRecord.all_tenants.filter(pk=record.pk).first()
        if record is None:  # the first request failed and gave the key back
            return error_response(IdempotencyInProgress())
    response = HttpResponse(bytes(record.body), status=record.status_code, content_type=record.content_type)
    response["Idempotent-Replayed"] = "true"
    return response
