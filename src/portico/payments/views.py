"""Gateway webhooks: `/payments/webhooks/<gateway>/<organization slug>/`, on any host.

Stripe posts every event of an account to one fixed URL that we register in its dashboard, so the
organization is named in the path, not by the host, and the signature (under that organization's
own signing secret) is what proves the sender. An event that does not verify answers 400 and writes
nothing; a verified one answers 200 — also when it was applied before, since Stripe retries anything
but a 2xx. The body is never logged: it may hold a customer's billing details.
"""

from __future__ import annotations

import logging

from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from portico.core import tenancy
from portico.core.models import Organization
from portico.payments.gateways import GATEWAYS, SignatureError, gateway_for
from portico.payments.webhooks import apply_event

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def webhook(request, gateway: str, organization: str):
    if gateway not in GATEWAYS:
        raise Http404("No such gateway")
    org = Organization.objects.filter(slug=organization, is_active=True).first()
    if org is None:
        raise Http404("No such organization")
    with tenancy.tenant(org):
        receiver = gateway_for(org, gateway)
        try:
            event = receiver.parse_event(body=request.body, headers=request.headers)
        except SignatureError as error:
            log.warning("%s webhook for %s refused: %s", gateway, org.slug, error.message)
            return JsonResponse({"error": {"code": error.code, "message": str(error.message)}}, status=400)
        row = apply_event(org, receiver.name, event)
    log.info("%s webhook for %s: event %s (%s): %s", gateway, org.slug, event.id, event.type, row.outcome)
    return JsonResponse({"received": True})
