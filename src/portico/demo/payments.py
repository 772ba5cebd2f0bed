"""Demo additions of payments: RenoTech takes card payments through the built-in `test` gateway and
also tells customers how to pay by bank transfer; Acme Interiors has a saved default card
(Visa 4242) and a second one that expires next month, so the portal's "replace an expiring card"
has something to show. Idempotent: cards already saved are found by their fingerprint."""

from __future__ import annotations

from portico.core import clock, tenancy
from portico.core.audit import Actor
from portico.payments import configuration
from portico.payments.gateways import CardDetails, payment_settings

ACTOR = Actor.system("demo")

RENOTECH_BANK_TRANSFER = """Bank transfer to RenoTech Solutions LLC
First Springfield Bank · routing 071000013 · account 4455 6677 01
Reference: your invoice number"""


def _next_month(today) -> tuple[int, int]:
    return (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)


def extend(demo) -> None:
    from portico.payments.methods import active_methods, save_method

    organization = demo.renotech
    with tenancy.tenant(organization):
        if not payment_settings(organization).gateway:
            configuration.update_payment_settings(
                organization=organization,
                actor=ACTOR,
                gateway="test",
                offline_instructions=RENOTECH_BANK_TRANSFER,
            )
        acme = demo.customers["acme"]
        if active_methods(acme).exists():
            return
        today = clock.today(organization.time_zone)
        year, month = _next_month(today)
        save_method(
            organization=organization,
            customer=acme,
            actor=ACTOR,
            card=CardDetails(
                number="4242 4242 4242 4242",
                exp_month=12,
                exp_year=today.year + 3,
                cvc="123",
                name="Maria Lopez",
            ),
            make_default=True,
        )
        save_method(
            organization=organization,
            customer=acme,
            actor=ACTOR,
            card=CardDetails(
                number="5555 5555 5555 4444", exp_month=month, exp_year=year, cvc="123", name="Maria Lopez"
            ),
            make_default=False,
        )
