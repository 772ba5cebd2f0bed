"""Statement PDFs too long to render in a request, prepared by a worker instead.

Even drawn directly (`billing.statement_pdf`, about half a millisecond a line), a statement of many
thousands of lines would hold a web request for seconds. The portal asks for it
(`request_statement_export`), a task renders it (`prepare_statement_export`) and stores the file, and
whoever asked gets an email pointing to the statements page, where the file is listed for download. Asking again for the same statement while it
is being prepared, or soon after it was, hands back the same export: one render per statement.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from django_tasks import task

from portico.billing import documents
from portico.billing.models import StatementExport
from portico.billing.statements import statement_for
from portico.core import clock, tenancy
from portico.core.audit import Actor, audit
from portico.core.mail import send_templated_email
from portico.customers.models import Customer

log = logging.getLogger(__name__)

# A ready PDF answers the same request for a day; later ones may have new documents to show.
READY_REUSE = dt.timedelta(hours=24)
# An export still queued after this long was lost (a worker died, the enqueue after commit failed):
# asking again queues a new one rather than waiting on it forever.
QUEUED_REUSE = dt.timedelta(hours=1)

SYSTEM = Actor.system("statement exports")


def request_statement_export(
    *,
    customer: Customer,
    start: dt.date,
    end: dt.date,
    currency: str,
    line_count: int,
    requested_by,
    actor: Actor,
) -> tuple[StatementExport, bool]:
    """Queue the PDF of one statement, unless the same statement is already queued or was made ready
    in the last day: then that export is handed back. Returns the export and whether it is new."""
    now = clock.now()
    with transaction.atomic():
        # One request at a time per customer, so a double click cannot queue two renders.
        Customer.all_tenants.select_for_update(of=("self",)).filter(pk=customer.pk).first()
        earlier = (
            StatementExport.all_tenants.filter(
                organization_id=customer.organization_id,
                customer=customer,
                start=start,
                end=end,
                currency=currency,
            )
            .filter(
                Q(status=StatementExport.Status.QUEUED, created_at__gte=now - QUEUED_REUSE)
                | Q(status=StatementExport.Status.READY, created_at__gte=now - READY_REUSE)
            )
            .order_by("-created_at", "-id")
            .first()
        )
        if earlier is not None:
            return earlier, False
        export = StatementExport.all_tenants.create(
            organization=customer.organization,
            customer=customer,
            requested_by=requested_by,
            start=start,
            end=end,
            currency=currency,
            line_count=line_count,
            created_at=now,
        )
        audit(
            actor,
            "statement_export.requested",
            export,
            start=start,
            end=end,
            currency=currency,
            line_count=line_count,
        )
        transaction.on_commit(partial(prepare_statement_export.enqueue, export.pk))
    return export, True


@task()
def prepare_statement_export(export_id: int) -> str:
    """Render a queued export and store its PDF. A re-run finds it ready (or failed) and does nothing."""
    export = StatementExport.all_tenants.select_related("organization", "customer", "requested_by").get(
        pk=export_id
    )
    if export.status != StatementExport.Status.QUEUED:
        return export.status
    organization = export.organization
    export.customer.organization = organization
    with tenancy.for_tenant(organization), translation.override(settings.LANGUAGE_CODE):
        try:
            statement = statement_for(export.customer, export.start, export.end, export.currency)
            content = documents.statement_pdf_bytes(statement)
            name = export.file.storage.save(
                export.file.field.generate_filename(export, f"statement-{export.public_id}.pdf"),
                ContentFile(content),
            )
        except Exception as error:
            log.exception("Statement export %s (%s) could not be prepared", export.pk, organization.slug)
            _fail(export, error)
        else:
            _mark_ready(export, name, line_count=len(statement.lines))
    return export.status


def _mark_ready(export: StatementExport, name: str, *, line_count: int) -> None:
    storage = export.file.storage
    finished = clock.now()
    try:
        with transaction.atomic():
            # Claim the export only while it is still queued: a second run never replaces a ready file.
            claimed = StatementExport.all_tenants.filter(
                pk=export.pk, status=StatementExport.Status.QUEUED
            ).update(
                status=StatementExport.Status.READY, file=name, line_count=line_count, finished_at=finished
            )
            if claimed:
                export.status, export.file.name = StatementExport.Status.READY, name
                export.line_count, export.finished_at = line_count, finished
                audit(SYSTEM, "statement_export.ready", export, line_count=line_count)
                _email_requester(export)
    except BaseException:
        storage.delete(name)
        raise
    if not claimed:
        storage.delete(name)
        export.refresh_from_db(fields=["status", "file", "line_count", "error", "finished_at"])


def _fail(export: StatementExport, error: Exception) -> None:
    message = f"{type(error).__name__}: {error}"[:2000]
    finished = clock.now()
    with transaction.atomic():
        failed = StatementExport.all_tenants.filter(
            pk=export.pk, status=StatementExport.Status.QUEUED
        ).update(status=StatementExport.Status.FAILED, error=message, finished_at=finished)
        if failed:
            export.status, export.error, export.finished_at = StatementExport.Status.FAILED, message, finished
            audit(SYSTEM, "statement_export.failed", export, error=message)
    if not failed:
        export.refresh_from_db(fields=["status", "file", "line_count", "error", "finished_at"])


def statements_url(organization) -> str:
    """The portal's statements page, absolute, on the organization's own host."""
    return organization.portal_url.removesuffix("/portal/") + reverse("portal:statements")


def _email_requester(export: StatementExport) -> None:
    user = export.requested_by
    if user is None or not user.is_active or not user.email:
        return
    send_templated_email(
        organization=export.organization,
        to=[user.email],
        template="statement_ready",
        customer=export.customer,
        context={
            "export": export,
            "user": user,
            "customer": export.customer,
            "statements_url": statements_url(export.organization),
        },
    )
