"""Demo additions of shared documents: RenoTech shares a price list (a PDF) with all its customers and
a maintenance schedule (a CSV) with Acme, and Acme's portal shows one open share link. Idempotent: an
organization that has documents gets no others."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile

from portico.core import clock, tenancy
from portico.core.audit import Actor
from portico.engagement import documents
from portico.engagement.models import SharedDocument

ACTOR = Actor.system("demo")
PRICE_LIST = b"%PDF-1.4\n% RenoTech price list 2026 (a placeholder document)\n%%EOF\n"
SCHEDULE = b"month,visit\nApril,Boiler service\nOctober,Gutter cleaning\n"


def extend(demo) -> None:
    organization = demo.renotech
    acme = demo.customers.get("acme")
    with tenancy.tenant(organization):
        if SharedDocument.objects.exists():
            return
        documents.create_document(
            organization=organization,
            title="Price list 2026",
            upload=SimpleUploadedFile("price-list-2026.pdf", PRICE_LIST),
            actor=ACTOR,
        )
        if acme is None:
            return
        schedule = documents.create_document(
            organization=organization,
            title="Maintenance schedule",
            upload=SimpleUploadedFile("schedule.csv", SCHEDULE),
            customer=acme,
            actor=ACTOR,
        )
        documents.create_share_link(
            organization=organization,
            document=schedule,
            customer=acme,
            expires_at=clock.now() + dt.timedelta(days=30),
            actor=ACTOR,
        )
