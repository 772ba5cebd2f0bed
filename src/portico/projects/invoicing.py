"""Invoicing a project's approved unbilled time and due milestones through the ledger's services,
and releasing them when the invoice is voided.

Each entry and milestone is billed at most once, even by concurrent runs: `invoice_project` locks the
customer and the project (so two runs of one project take turns), then the entries and milestones it
bills (by primary key), and bills only those still approved / due once the locks are held; a run that
waited finds nothing left. Voiding the invoice (billing's `void_invoice`) calls
`release_voided_invoice` in its own transaction (billing's void hook, registered in `AppConfig.ready`),
after locking the customer and the invoice: the same order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction

from portico.billing import services as billing
from portico.billing.models import Invoice
from portico.core import clock, outbox
from portico.core.audit import Actor, audit
from portico.projects import errors, pricing
from portico.projects.checks import choice, lock_customer, lock_one, period, require_staff
from portico.projects.models import Milestone, Project, ProjectInvoice, TimeEntry
from portico.projects.pricing import InvoicePreview


def _preview(project, entries, milestones, grouping) -> InvoicePreview:
    grouping = choice(grouping or project.invoice_grouping, Project.Grouping, "grouping")
    if not project.is_hourly:
        entries = []
    return pricing.build_preview(
        project, entries, milestones, grouping, pricing.member_rates_of([project.pk])
    )


def preview_project_invoice(
    *,
    project: Project,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    grouping: str | None = None,
    include_milestones: bool = True,
) -> InvoicePreview:
    """The invoice `invoice_project` would issue now with the same arguments, line for line."""
    period(date_from, date_to)
    entries = list(
        pricing.billable_entries(project, date_from, date_to).select_related("task", "staff_member")
    )
    milestones = list(pricing.due_milestones(project)) if include_milestones else []
    return _preview(project, entries, milestones, grouping)


def invoice_project(
    *,
    project: Project,
    actor: Actor,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    grouping: str | None = None,
    include_milestones: bool = True,
    issue_date: dt.date | None = None,
    memo: str = "",
    expected: tuple[Iterable[int], Iterable[int]] | None = None,
) -> Invoice:
    """Issue one invoice for the project's approved unbilled time in the period and its due milestones.
    Each entry and milestone is billed at most once: they are locked and re-read under the project's
    lock, and only those still unbilled are billed (a concurrent run finds nothing left). `expected`
    (the entry and milestone ids a preview showed) makes it bill exactly those or nothing
    (`PreviewChanged`), so what staff confirmed is what is issued."""
    require_staff(actor)
    period(date_from, date_to)
    with transaction.atomic():
        customer = lock_customer(project.customer_id)
        project = lock_one(Project, project.pk)
        entries = list(
            pricing.billable_entries(project, date_from, date_to)
            .select_related("task", "staff_member")
            .order_by("pk")
            .select_for_update(of=("self",))
        )
        entries = [e for e in entries if e.state == TimeEntry.State.APPROVED and e.invoice_line_id is None]
        milestones = []
        if include_milestones:
            milestones = list(pricing.due_milestones(project).order_by("pk").select_for_update(of=("self",)))
            milestones = [m for m in milestones if m.status == Milestone.Status.DUE and m.invoice_id is None]
        preview = _preview(project, entries, milestones, grouping)
        if preview.is_empty:
            raise errors.NothingToInvoice()
        if expected is not None and (set(preview.entry_ids), set(preview.milestone_ids)) != (
            set(expected[0]),
            set(expected[1]),
        ):
            raise errors.PreviewChanged()
        invoice = billing.create_invoice(
            customer=customer,
            actor=actor,
            lines=[line.line for line in preview.lines],
            source=Invoice.Source.PROJECT,
            memo=memo or f"{project.code} · {project.name}",
        )
        invoice = billing.finalize_invoice(invoice=invoice, actor=actor, issue_date=issue_date)
        rows = list(invoice.lines.order_by("position"))
        for line, row in zip(preview.lines, rows, strict=True):
            if line.milestone is not None:
                Milestone.all_tenants.filter(pk=line.milestone.pk).update(
                    status=Milestone.Status.INVOICED, invoice=invoice, invoice_line=row
                )
            else:
                TimeEntry.all_tenants.filter(pk__in=line.entry_ids).update(
                    state=TimeEntry.State.INVOICED, invoice_line=row, updated_at=clock.now()
                )
        ProjectInvoice.all_tenants.create(
            organization_id=project.organization_id,
            project=project,
            invoice=invoice,
            period_start=date_from,
            period_end=date_to,
            grouping=grouping or project.invoice_grouping,
            hours=preview.hours,
        )
        audit(
            actor,
            "project.invoiced",
            project,
            invoice=invoice.number,
            total=invoice.total,
            hours=preview.hours,
            entries=len(preview.entry_ids),
            milestones=len(preview.milestone_ids),
        )
        outbox.emit_for(
            "project.invoiced",
            project,
            once=False,
            invoice=invoice.pk,
            number=invoice.number,
            total=invoice.total,
            hours=preview.hours,
            entries=len(preview.entry_ids),
            milestones=len(preview.milestone_ids),
        )
    return invoice


def release_voided_invoice(*, invoice: Invoice, actor: Actor) -> None:
    """Billing's void hook: the time and milestones a voided project invoice billed may be billed
    again (entries approved, milestones due). Runs inside `void_invoice`'s transaction."""
    link = ProjectInvoice.all_tenants.filter(invoice_id=invoice.pk).select_related("project").first()
    if link is None:
        return
    entries = list(
        TimeEntry.all_tenants.filter(invoice_line__invoice_id=invoice.pk)
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    milestones = list(
        Milestone.all_tenants.filter(invoice_id=invoice.pk).order_by("pk").select_for_update(of=("self",))
    )
    TimeEntry.all_tenants.filter(pk__in=[e.pk for e in entries]).update(
        state=TimeEntry.State.APPROVED, invoice_line=None, updated_at=clock.now()
    )
    Milestone.all_tenants.filter(pk__in=[m.pk for m in milestones]).update(
        status=Milestone.Status.DUE, invoice=None, invoice_line=None
    )
    audit(
        actor,
        "project.invoice_released",
        link.project,
        invoice=invoice.number,
        entries=len(entries),
        milestones=len(milestones),
    )
