"""Demo additions of the portal: RenoTech has a second portal configuration, "Pay in full", chosen
for Bluebird Cafe — its people pay whole invoices only (no bulk pay, no "any amount"), and change
neither their subscriptions nor the company's details; every other customer keeps the default.
Idempotent: the configuration is found by name."""

from __future__ import annotations

from portico.core import tenancy
from portico.core.audit import Actor
from portico.portal import services
from portico.portal.models import PortalConfiguration, configuration_for

ACTOR = Actor.system("demo")
NAME = "Pay in full"
SWITCHED_OFF = [
    "invoices.bulk_pay",
    "invoices.pay_any_amount",
    "subscriptions.change",
    "subscriptions.cancel",
    "profile.company",
]


def extend(demo) -> None:
    organization, customer = demo.renotech, demo.customers["bluebird"]
    with tenancy.tenant(organization):
        configuration = PortalConfiguration.objects.filter(name=NAME).first()
        if configuration is None:
            configuration = services.create_portal_configuration(
                organization=organization, name=NAME, disabled=SWITCHED_OFF, enabled=[], actor=ACTOR
            )
        if configuration_for(customer, organization).pk != configuration.pk:
            services.choose_portal_configuration(customer=customer, configuration=configuration, actor=ACTOR)
