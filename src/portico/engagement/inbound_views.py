"""The inbound-mail webhook: a mail provider (or the install's own MTA) POSTs each email for the
reply domain here, raw (RFC 822 bytes, `Content-Type: message/rfc822`), with the shared secret in
the `Authorization: Bearer <PORTICO_INBOUND_SECRET>` header. Not under any organization's host: the
signed address names the thread. Answers 202 when appended (or already there), 400 with the reason
when refused — a provider that bounces on 4xx tells the sender — and 403 without the secret."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from portico.core.errors import domain_error_response
from portico.engagement.errors import InboundEmailRefused
from portico.engagement.inbound import MAX_EMAIL_BYTES, receive_email

log = logging.getLogger(__name__)


def _authorized(request) -> bool:
    secret = settings.PORTICO_INBOUND_SECRET
    header = request.headers.get("Authorization", "")
    scheme, _space, presented = header.partition(" ")
    return bool(secret) and scheme.lower() == "bearer" and constant_time_compare(presented.strip(), secret)


@csrf_exempt
@require_POST
def inbound_email(request):
    if not _authorized(request):
        return JsonResponse(
            {"error": {"code": "forbidden", "message": "Wrong or missing secret."}}, status=403
        )
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_EMAIL_BYTES:
        return domain_error_response(InboundEmailRefused("The email is too large."), status=413)
    recipients = [r for r in request.GET.getlist("recipient") if r]
    try:
        received = receive_email(request.body, recipients=recipients)
    except InboundEmailRefused as error:
        log.info("inbound email refused: %s", error.message)
        return domain_error_response(error)
    return JsonResponse({"received": True, "appended": received.is_new}, status=202)
