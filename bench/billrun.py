"""The bill run at scale (issue 11): `--subscriptions N` due subscriptions (default 50,000; a quick
run: `make bench BENCH_ARGS="--only billrun --subscriptions 5000"`), each a plan with an addon and a
coupon, half of them auto-charging (through the `test` gateway).

Figures, printed, never asserted:
- one `portico billrun` process: renewals/s, its peak memory (max RSS of the process), measured on
  the database a first run left (the first run's own figure, on tables that never held an invoice,
  printed beside it): the median of BENCH_ROUNDS rounds (default 3; each is printed, the machine
  is noisy);
- the floor, measured in the same run: the same invoice and line rows (copied from the bill run's
  own) bulk-inserted directly with `core.bulk.insert`, in transactions of the same batch size;
- the full floor: every row the bill run wrote (invoices, lines, periods, audit events, outbox
  events and deliveries) copied and inserted the same way, and the subscriptions' terms moved by one
  UPDATE a batch — what the bill run's writes cost without its reading, pricing and checking;
- 2 and 4 bill runs in parallel over the same subscriptions again (PostgreSQL; SQLite is
  single-writer, so its parallel runs take turns): totals, duplicates, numbering, per-process RSS;
- the automatic charges the runs queued, delivered by the outbox worker for a while (charges/s).

Between rounds the subscriptions are put back where they were (their invoices, periods, audit and
outbox rows deleted, the counter reset), so each round bills the same N renewals.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection, transaction

from tests.subscriptions.billrun_world import FIRST_DUE, ONE_LATE, STARTED, seed

ROOT = Path(__file__).resolve().parents[1]
BATCH = 500
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CARDS = 200  # saved cards (save_method is one gateway call each): the first auto-charging customers


def _env() -> dict:
    paths = [str(ROOT), str(ROOT / "src")]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(paths), DJANGO_SETTINGS_MODULE="bench.settings")


# The child reports its own peak (VmHWM, of its own memory map). Not the kernel's ru_maxrss: Linux
# carries the forked parent's resident size across exec into it, so a child of this (large) bench
# process would be reported at the bench's size, growing with the number of subscriptions built.
_CHILD = (
    "import runpy, sys\n"
    "sys.argv = ['manage.py', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_path('manage.py', run_name='__main__')\n"
    "finally:\n"
    "    peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "    print('peak-rss-kib', peak, file=sys.stderr, flush=True)\n"
)


def _billrun_processes(count: int) -> tuple[float, list[str], list[int]]:
    """Start `count` bill runs at once; wall time, their summary lines and peak RSS (KiB) each."""
    command = [sys.executable, "-c", _CHILD, "billrun", "--at", ONE_LATE.isoformat(), "--no-dunning"]
    command += ["--batch-size", str(BATCH)]
    started = time.perf_counter()
    runs = [
        subprocess.Popen(
            command, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(count)
    ]
    summaries, rss = [], []
    for run in runs:
        out, err = run.communicate()
        if run.returncode != 0:
            raise RuntimeError(f"billrun failed: {err[-2000:]}")
        summaries.append(out.strip().splitlines()[-1])
        peaks = [line.split()[1] for line in err.splitlines() if line.startswith("peak-rss-kib")]
        rss.append(int(peaks[-1]))
    return time.perf_counter() - started, summaries, rss


def _reset(organization) -> None:
    """Put every subscription back to due-since-FIRST_DUE, removing what the previous round wrote."""
    from portico.billing.models import Invoice, InvoiceLine, NumberSequence
    from portico.core.models import AuditEvent, OutboxDelivery, OutboxEvent
    from portico.subscriptions.models import BillingPeriod, Subscription

    with transaction.atomic():
        BillingPeriod.all_tenants.filter(organization=organization).delete()
        InvoiceLine.objects.filter(invoice__organization=organization)._raw_delete(connection.alias)
        Invoice.all_tenants.filter(organization=organization)._raw_delete(connection.alias)
        OutboxDelivery.all_tenants.filter(organization=organization)._raw_delete(connection.alias)
        OutboxEvent.all_tenants.filter(organization=organization)._raw_delete(connection.alias)
        AuditEvent.all_tenants.filter(organization=organization)._raw_delete(connection.alias)
        NumberSequence.all_tenants.filter(organization=organization).update(next_value=1)
        Subscription.all_tenants.filter(organization=organization).update(
            current_term_start=STARTED, current_term_end=FIRST_DUE, next_billing_on=FIRST_DUE, cycles_billed=1
        )
    _analyze()


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def _settle() -> None:
    """Before each timed phase: flush what the last one wrote (a checkpoint; SQLite: the WAL into
    the database), so no phase pays for another's writes — a checkpoint falling inside the bill run
    right after the build cost it a quarter of its time, and the floor after it the same."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CHECKPOINT" if connection.vendor == "postgresql" else "PRAGMA wal_checkpoint(TRUNCATE)"
        )


def _check(organization, count: int) -> str:
    from portico.billing.models import Invoice, NumberSequence
    from portico.subscriptions.models import BillingPeriod

    periods = BillingPeriod.all_tenants.filter(organization=organization)
    billed = periods.count()
    distinct = periods.values("subscription_id").distinct().count()
    numbers = Invoice.all_tenants.filter(organization=organization).count()
    counter = NumberSequence.all_tenants.get(organization=organization, kind="invoice").next_value
    ok = billed == distinct == numbers == count == counter - 1
    return f"{billed} periods for {distinct} subscriptions, {numbers} invoices numbered 1–{counter - 1}" + (
        "" if ok else "  <-- MISMATCH"
    )


def _floor(organization) -> float:
    """Seconds to bulk-insert the same invoice and line rows directly, BATCH invoices a transaction."""
    from portico.billing.models import Invoice, InvoiceLine
    from portico.core import bulk
    from portico.core.models import Organization
    from portico.customers.models import new_public_id

    floor_org, _ = Organization.objects.get_or_create(
        slug="billrun-floor", defaults={"name": "Floor", "time_zone": organization.time_zone}
    )
    template = Invoice.all_tenants.filter(organization=organization).order_by("pk").first()
    lines = list(InvoiceLine.objects.filter(invoice=template).values())
    invoice_fields = {
        f.attname: getattr(template, f.attname) for f in Invoice._meta.concrete_fields if not f.primary_key
    }
    invoice_fields["organization_id"] = floor_org.pk
    invoice_fields["number"] = ""
    customer_ids = list(
        Invoice.all_tenants.filter(organization=organization).values_list("customer_id", flat=True)
    )
    started = time.perf_counter()
    for first in range(0, len(customer_ids), BATCH):
        with transaction.atomic():
            rows = [
                # each its own public id, as the bill run gives its invoices (the column is unique)
                dict(invoice_fields, customer_id=customer_id, public_id=new_public_id())
                for customer_id in customer_ids[first : first + BATCH]
            ]
            ids = bulk.insert(Invoice, rows, set_pk=False)
            bulk.insert(
                InvoiceLine,
                [
                    {**{k: v for k, v in line.items() if k != "id"}, "invoice_id": pk}
                    for pk in ids
                    for line in lines
                ],
                set_pk=False,
            )
    # The floor's rows stay, as another organization's history: a real database is never without
    # invoices, and the rounds after this one (their own rows deleted, then VACUUM ANALYZE) must not
    # run on statistics that say the invoice table is empty — a session's foreign-key checks are
    # planned on them once, and would scan the growing table for every line (seen: 230 renewals/s).
    return time.perf_counter() - started


def _full_floor(organization) -> tuple[float, str]:
    """Seconds to write every row the bill run wrote (its invoices, lines, periods, audit, outbox
    events and deliveries, copied) and move every subscription's term, directly, BATCH renewals a
    transaction: what the same writes cost without the bill run's reading, pricing and checking."""
    from portico.billing.models import Invoice, InvoiceLine
    from portico.core import bulk, clock
    from portico.core.models import AuditEvent, OutboxDelivery, OutboxEvent
    from portico.customers.models import new_public_id
    from portico.subscriptions.models import BillingPeriod, Subscription

    def rows(model, **where):
        return list(model.all_tenants.filter(organization=organization, **where).order_by("pk").values())

    invoices = rows(Invoice)
    lines: dict[int, list[dict]] = {}
    for line in InvoiceLine.objects.filter(invoice__organization=organization).order_by("pk").values():
        lines.setdefault(line["invoice_id"], []).append(line)
    period_of = {p["invoice_id"]: p for p in rows(BillingPeriod)}
    audits = rows(AuditEvent)
    events = {e["key"]: e for e in rows(OutboxEvent)}
    deliveries: dict[int, list[dict]] = {}
    for delivery in rows(OutboxDelivery):
        deliveries.setdefault(delivery["event_id"], []).append(delivery)
    per_invoice = len(audits) // max(1, len(invoices))
    written = 0
    quote = connection.ops.quote_name
    table = quote(Subscription._meta.db_table)

    def strip(row, **changes):
        row = {k: v for k, v in row.items() if k != "id"}
        row.update(changes)
        return row

    started = time.perf_counter()
    for first in range(0, len(invoices), BATCH):
        batch = invoices[first : first + BATCH]
        with transaction.atomic():
            copies = [strip(i, number=f"F{i['number']}", public_id=new_public_id()) for i in batch]
            new_ids = bulk.insert(Invoice, copies)
            line_rows, period_rows, event_rows, event_deliveries = [], [], [], []
            for old, new_id in zip(batch, new_ids, strict=True):
                line_rows += [strip(line, invoice_id=new_id) for line in lines.get(old["id"], [])]
                period = period_of[old["id"]]
                period_rows.append(
                    strip(period, invoice_id=new_id, start=period["start"] + dt.timedelta(days=1))
                )
                event = events.get(f"invoice.finalized:billing.invoice:{old['id']}")
                if event is not None:
                    event_rows.append(strip(event, key=f"floor:{new_id}"))
                    event_deliveries.append(deliveries.get(event["id"], []))
            bulk.insert_rows(InvoiceLine, line_rows)
            bulk.insert_rows(BillingPeriod, period_rows)
            written += bulk.insert_rows(
                AuditEvent,
                [strip(a) for a in audits[first * per_invoice : (first + len(batch)) * per_invoice]],
            )
            event_ids = bulk.insert(OutboxEvent, event_rows)
            written += bulk.insert_rows(
                OutboxDelivery,
                [
                    strip(d, event_id=pk)
                    for pk, ds in zip(event_ids, event_deliveries, strict=True)
                    for d in ds
                ],
            )
            with connection.cursor() as cursor:  # the term moved on, as the bill run moves it
                ids = [p["subscription_id"] for p in period_rows]
                later = (
                    "current_term_end + 28"
                    if connection.vendor == "postgresql"
                    else ("date(current_term_end, '+28 days')")
                )
                cursor.execute(
                    f"UPDATE {table} SET current_term_start = current_term_end, current_term_end = {later}, "
                    f"next_billing_on = {later}, cycles_billed = cycles_billed + 1, updated_at = %s "
                    f"WHERE id IN ({', '.join(['%s'] * len(ids))})",
                    [clock.now(), *ids],
                )
            written += len(copies) + len(line_rows) + len(period_rows) + len(event_rows)
    elapsed = time.perf_counter() - started
    return elapsed, f"{written / max(1, len(invoices)):.1f} rows and 1 update a renewal"


def _deliver_charges(seconds: float) -> str:
    from portico.core import outbox
    from portico.payments.models import GatewayCharge

    before = GatewayCharge.all_tenants.count()
    started = time.perf_counter()
    report = outbox.DeliveryReport()
    while time.perf_counter() - started < seconds:
        part = outbox.deliver(limit=100)
        report.delivered += part.delivered
        report.failed += part.failed
        report.retrying += part.retrying
        if not part.claimed:
            break
    elapsed = time.perf_counter() - started
    charges = GatewayCharge.all_tenants.count() - before
    return (
        f"billrun: outbox worker for {elapsed:.0f} s: {report.delivered} deliveries "
        f"({report.delivered / elapsed:.0f}/s), {charges} test-gateway charges"
    )


def build(count: int):
    from portico.core.audit import Actor
    from portico.core.models import Organization
    from portico.customers.models import Customer
    from portico.payments.gateways import CardDetails
    from portico.payments.methods import save_method
    from portico.payments.models import PaymentSettings

    organization, created = Organization.objects.get_or_create(
        slug=f"billrun-{count}", defaults={"name": "Bill Run Bench", "time_zone": "America/Chicago"}
    )
    if not created:
        _reset(organization)
        return organization
    started = time.perf_counter()
    PaymentSettings.all_tenants.update_or_create(organization=organization, defaults={"gateway": "test"})
    customers = Customer.all_tenants.bulk_create(
        Customer(
            organization=organization,
            display_name=f"Subscriber {n:06d}",
            email=f"billing{n}@subscriber.example",
            currency="USD",
        )
        for n in range(count)
    )
    seed(organization, count, customers=customers, auto_charge_every=2)
    actor = Actor.system("bench")
    for customer in customers[: 2 * CARDS : 2]:  # the auto-charging ones (every other subscription)
        save_method(
            organization=organization,
            customer=customer,
            actor=actor,
            card=CardDetails(number="4242424242424242", exp_month=12, exp_year=2030, cvc="123", name="Bench"),
        )
    _analyze()
    print(f"billrun: built {count} due subscriptions in {time.perf_counter() - started:.1f} s", flush=True)
    return organization


def run(h):
    if not h.wants("billrun"):
        return
    count = int(os.environ.get("BENCH_SUBSCRIPTIONS", "50000"))
    organization = build(count)
    _settle()
    # The first run meets tables that never held an invoice (and statistics that say so); a real
    # database has its history. Its figure is printed; the rounds measured run on the database it
    # and the floor left (their own rows deleted), as the ones after them always did.
    first, _summaries, _rss = _billrun_processes(1)
    _settle()
    floor = _floor(organization)  # copies the first run's invoices; its rows stay, as history
    rounds = []
    for _ in range(ROUNDS):
        _reset(organization)
        _settle()
        elapsed, [summary], [rss] = _billrun_processes(1)
        rounds.append(elapsed)
    elapsed = statistics.median(rounds)
    h.notes.append(
        f"billrun: 1 process, {count} renewals in {elapsed:.1f} s = {count / elapsed:.0f} renewals/s "
        f"(median of {ROUNDS}: {', '.join(f'{r:.1f}' for r in rounds)} s; the very first run, on tables "
        f"that never held an invoice: {first:.1f} s = {count / first:.0f}/s)"
    )
    h.notes.append(f"billrun:   {summary}")
    h.notes.append(f"billrun:   peak RSS of the process {rss / 1024:.0f} MiB; {_check(organization, count)}")
    h.notes.append(
        f"billrun: floor (the same {count} invoices and their lines bulk-inserted directly): "
        f"{floor:.1f} s = {count / floor:.0f} invoices/s; bill run / floor = {elapsed / floor:.1f}x"
    )
    _settle()
    full, what = _full_floor(organization)
    h.notes.append(
        f"billrun: full floor (every row the bill run wrote, {what}, written directly): "
        f"{full:.1f} s = {count / full:.0f} renewals/s; bill run / full floor = {elapsed / full:.1f}x"
    )
    for processes in (2, 4):
        _reset(organization)
        _settle()
        elapsed, summaries, rss = _billrun_processes(processes)
        renewed = [int(s.split("renewed ", 1)[1].split(",")[0]) for s in summaries]
        h.notes.append(
            f"billrun: {processes} processes in parallel: {elapsed:.1f} s = {count / elapsed:.0f} renewals/s; "
            f"renewed {renewed} (total {sum(renewed)}); peak RSS {[round(r / 1024) for r in rss]} MiB; "
            f"{_check(organization, count)}"
        )
    # The statistics are those of the reset (the organization had no invoices): autovacuum would
    # have analyzed the 50,000 new ones before long, and without that a charge's lookup of its
    # attempt's invoices walked all of them (0.4 s a charge, 4 charges/s).
    _analyze()
    h.notes.append(_deliver_charges(20))  # last: the payments it books reference the invoices
