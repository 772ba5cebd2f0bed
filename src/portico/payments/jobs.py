"""Payments' periodic jobs, run by `portico periodic` (see `core.periodic`)."""

import datetime as dt

from portico.core.periodic import periodic
from portico.payments.expiry import notify_expiring_cards
from portico.payments.services import reconcile_pending_attempts


@periodic("payments.reconcile", every=dt.timedelta(minutes=5))
def reconcile() -> str:
    return f"payment attempts: {reconcile_pending_attempts()}"


@periodic("payments.card_expiry", every=dt.timedelta(days=1))
def card_expiry() -> str:
    return f"card expiry notices: {notify_expiring_cards()} sent"
