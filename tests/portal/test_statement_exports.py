"""Long statement PDFs: prepared by a worker (the immediate task backend under test), listed on the
statements page, emailed about, downloaded by the customer who asked and by nobody else."""

import datetime as dt
import re
import subprocess

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portico.billing import documents, exports
from portico.billing.models import StatementExport
from portico.core.models import AuditEvent
from portico.portal import statement_views
from portico.portal.models import preferences_of
from tests.billing.factories import ACTOR, credit_note, open_invoice, pay
from tests.conftest import tenant_client
from tests.factories import CustomerFactory, staff_user

PDF_LINK = "/portal/statements/pdf/?period=this_year"
PREPARING = (
    "Your PDF statement (5 lines) is being prepared. "
    "It will be listed below when ready, and we will email you."
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def long_statements(monkeypatch):
    """Anything over two lines is too long to render in the request."""
    monkeypatch.setattr(statement_views, "STATEMENT_PDF_INLINE_LINES", 2)


@pytest.fixture
def renders(monkeypatch):
    """Counts the statement PDFs actually rendered."""
    calls = []
    real = documents.statement_pdf_bytes

    def counting(statement):
        calls.append(statement)
        return real(statement)

    monkeypatch.setattr(documents, "statement_pdf_bytes", counting)
    return calls


def ledger(customer, clock):
    """Three invoices, a payment and a credit note this year: five lines, closing at $450.00."""
    clock.set("2026-02-02T15:00:00+00:00")
    first, second, third = (open_invoice(customer, amount) for amount in (30000, 12000, 20000))
    pay(customer, 12000, (second, 12000), received_on=dt.date(2026, 2, 20))
    clock.set("2026-03-02T15:00:00+00:00")
    credit_note(customer, 5000)
    clock.set("2026-03-10T15:00:00+00:00")
    return [first, second, third]


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def pdf_text(content: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout
    return " ".join(out.decode().split())


def download_links(html: str) -> list[str]:
    return re.findall(r'href="(/portal/statements/exports/[^"/]+/)"', html)


def prepared_for(customer, capture):
    """An export of another customer's statement this year, prepared."""
    with capture(execute=True):
        export, _created = exports.request_statement_export(
            customer=customer,
            start=dt.date(2026, 1, 1),
            end=dt.date(2026, 3, 10),
            currency=customer.currency,
            line_count=3,
            requested_by=None,
            actor=ACTOR,
        )
    export.refresh_from_db()
    assert export.status == StatementExport.Status.READY
    return export


def test_a_long_statement_is_prepared_in_the_background_with_every_line(
    portal_client, org, customer, clock, mailbox, long_statements, django_capture_on_commit_callbacks
):
    invoices = ledger(customer, clock)
    with django_capture_on_commit_callbacks(execute=True):
        response = portal_client.get(PDF_LINK)
    assert response.status_code == 302
    assert response["Location"] == "/portal/statements/?period=this_year"

    export = StatementExport.objects.get()
    assert export.status == StatementExport.Status.READY
    assert (export.customer, export.currency, export.line_count) == (customer, "USD", 5)
    assert (export.start, export.end) == (dt.date(2026, 1, 1), dt.date(2026, 3, 10))
    assert export.file.name.startswith("statements/") and export.finished_at is not None
    content = pdf_text(export.file.read())
    assert "Account statement" in content and "Acme Interiors" in content
    for invoice in invoices:
        assert f"Invoice {invoice.number}" in content, invoice.number
    assert "Closing balance" in content and "$170.00 $450.00" in content  # credits, closing balance

    actions = list(AuditEvent.objects.order_by("id").values_list("action", "actor_kind"))
    assert ("statement_export.requested", AuditEvent.ActorKind.PORTAL) in actions
    assert ("statement_export.ready", AuditEvent.ActorKind.SYSTEM) in actions


def test_whoever_asked_is_emailed_a_link_to_the_statements_page(
    portal_client, org, customer, clock, mailbox, long_statements, django_capture_on_commit_callbacks
):
    ledger(customer, clock)
    with django_capture_on_commit_callbacks(execute=True):
        portal_client.get(PDF_LINK)
    [message] = mailbox.messages
    assert message["To"] == "maria@acme.example"
    assert message["Subject"] == "Your statement from RenoTech Solutions is ready"
    body = mailbox.body(message)
    assert "Hello Maria," in body and "(USD, 5 lines) is ready" in body
    assert "http://renotech.localhost/portal/statements/" in body.split()


def test_the_page_says_it_is_being_prepared_and_then_lists_it_for_download(
    portal_client, customer, clock, long_statements, django_capture_on_commit_callbacks
):
    ledger(customer, clock)
    with django_capture_on_commit_callbacks() as queued:
        page = text(portal_client.get(PDF_LINK, follow=True))
    assert PREPARING in page
    assert "Prepared statements" in page and "Preparing…" in page and not download_links(page)

    for callback in queued:  # the worker picks it up
        callback()
    page = text(portal_client.get("/portal/statements/?period=this_year"))
    assert "Preparing…" not in page and "Ready" in page
    [link] = download_links(page)
    export = StatementExport.objects.get()
    assert link == f"/portal/statements/exports/{export.public_id}/"
    response = portal_client.get(link)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="statement-2026-01-01-2026-03-10.pdf"'
    content = b"".join(response.streaming_content)
    assert content.startswith(b"%PDF") and "Acme Interiors" in pdf_text(content)


def test_asking_again_reuses_the_export_while_queued_and_for_a_day_once_ready(
    portal_client, customer, clock, mailbox, long_statements, renders, django_capture_on_commit_callbacks
):
    ledger(customer, clock)
    link = "/portal/statements/pdf/?period=custom&start=2026-01-01&end=2026-03-10"  # not moving with today
    with django_capture_on_commit_callbacks(execute=True):
        portal_client.get(link)
        again = text(portal_client.get(link, follow=True))  # before the worker ran
    assert PREPARING in again
    assert StatementExport.objects.count() == 1 and len(renders) == 1 and len(mailbox.messages) == 1

    clock.advance(hours=23)
    with django_capture_on_commit_callbacks(execute=True):
        ready = text(portal_client.get(link, follow=True))
    assert "Your PDF statement (5 lines) is ready below." in ready
    assert StatementExport.objects.count() == 1 and len(renders) == 1 and len(mailbox.messages) == 1

    clock.advance(hours=2)  # a day later the period may hold new documents: prepared afresh
    with django_capture_on_commit_callbacks(execute=True):
        portal_client.get(link)
    assert StatementExport.objects.count() == 2 and len(renders) == 2 and len(mailbox.messages) == 2


def test_another_period_or_another_customer_is_another_export(
    portal_client, customer, outsider_customer, clock, long_statements, django_capture_on_commit_callbacks
):
    ledger(customer, clock)
    ledger(outsider_customer, clock)
    with django_capture_on_commit_callbacks(execute=True):
        portal_client.get(PDF_LINK)
        portal_client.get("/portal/statements/pdf/?period=custom&start=2026-02-01&end=2026-03-10")
    theirs = prepared_for(outsider_customer, django_capture_on_commit_callbacks)
    mine = StatementExport.objects.filter(customer=customer)
    assert sorted((e.start.isoformat(), e.status) for e in mine) == [
        ("2026-01-01", "ready"),
        ("2026-02-01", "ready"),
    ]
    assert theirs.customer == outsider_customer


def test_rerunning_the_task_never_renders_again_nor_replaces_the_file(
    portal_client, customer, clock, long_statements, renders, django_capture_on_commit_callbacks
):
    ledger(customer, clock)
    with django_capture_on_commit_callbacks(execute=True):
        portal_client.get(PDF_LINK)
    export = StatementExport.objects.get()
    name = export.file.name
    assert exports.prepare_statement_export.call(export.pk) == "ready"
    export.refresh_from_db()
    assert export.file.name == name and len(renders) == 1


def test_another_customers_or_organizations_export_is_not_found(
    portal_client, customer, outsider_customer, other_org, clock, django_capture_on_commit_callbacks
):
    ledger(customer, clock)
    ledger(outsider_customer, clock)
    theirs = prepared_for(outsider_customer, django_capture_on_commit_callbacks)
    elsewhere = prepared_for(
        CustomerFactory(organization=other_org, display_name="Acme Interiors", currency="USD"),
        django_capture_on_commit_callbacks,
    )
    mine = prepared_for(customer, django_capture_on_commit_callbacks)
    assert portal_client.get(f"/portal/statements/exports/{mine.public_id}/").status_code == 200
    assert portal_client.get(f"/portal/statements/exports/{theirs.public_id}/").status_code == 404
    assert portal_client.get(f"/portal/statements/exports/{elsewhere.public_id}/").status_code == 404
    assert download_links(portal_client.get("/portal/statements/").content.decode()) == [
        f"/portal/statements/exports/{mine.public_id}/"
    ]


def test_a_queued_export_is_not_downloadable(
    portal_client, customer, clock, long_statements, django_capture_on_commit_callbacks
):
    ledger(customer, clock)
    with django_capture_on_commit_callbacks():  # the worker never runs
        portal_client.get(PDF_LINK)
    export = StatementExport.objects.get()
    assert export.status == StatementExport.Status.QUEUED
    assert portal_client.get(f"/portal/statements/exports/{export.public_id}/").status_code == 404


def test_a_failed_render_is_recorded_with_no_file_and_said_on_the_page(
    portal_client,
    customer,
    clock,
    mailbox,
    long_statements,
    media,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    ledger(customer, clock)

    def broken(statement):
        raise RuntimeError("no fonts on this worker")

    monkeypatch.setattr(documents, "statement_pdf_bytes", broken)
    with django_capture_on_commit_callbacks(execute=True):
        portal_client.get(PDF_LINK)
    export = StatementExport.objects.get()
    assert export.status == StatementExport.Status.FAILED
    assert export.error == "RuntimeError: no fonts on this worker"
    assert not export.file and export.finished_at is not None
    assert not (media / "statements").exists()
    assert not mailbox.messages
    assert AuditEvent.objects.filter(action="statement_export.failed").count() == 1

    page = text(portal_client.get("/portal/statements/?period=this_year"))
    assert "Could not be prepared" in page and not download_links(page)
    assert portal_client.get(f"/portal/statements/exports/{export.public_id}/").status_code == 404

    monkeypatch.undo()  # a failure is not reused: asking again prepares it anew
    monkeypatch.setattr(statement_views, "STATEMENT_PDF_INLINE_LINES", 2)
    with django_capture_on_commit_callbacks(execute=True):
        portal_client.get(PDF_LINK)
    assert sorted(StatementExport.objects.values_list("status", flat=True)) == ["failed", "ready"]


def test_a_short_statement_still_downloads_at_once(portal_client, customer, clock):
    ledger(customer, clock)
    response = portal_client.get(PDF_LINK)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="statement-2026-01-01-2026-03-10.pdf"'
    content = pdf_text(response.content)
    assert "Closing balance" in content and "$170.00 $450.00" in content
    assert not StatementExport.objects.exists()


def test_another_contact_of_the_customer_sees_the_export_but_is_not_promised_the_email(
    portal_client,
    viewer_client,
    customer,
    clock,
    mailbox,
    long_statements,
    django_capture_on_commit_callbacks,
):
    ledger(customer, clock)
    with django_capture_on_commit_callbacks() as queued:
        portal_client.get(PDF_LINK)
        page = text(viewer_client.get(PDF_LINK, follow=True))
    assert "is being prepared. It will be listed below when ready." in page
    assert "we will email you" not in page
    with django_capture_on_commit_callbacks(execute=True):  # the worker picks it up
        for callback in queued:
            callback()
    assert [m["To"] for m in mailbox.messages] == ["maria@acme.example"]


def test_exports_follow_the_statements_switch(
    portal_client, org, customer, clock, long_statements, django_capture_on_commit_callbacks
):
    ledger(customer, clock)
    export = prepared_for(customer, django_capture_on_commit_callbacks)
    preferences = preferences_of(org)
    preferences.disabled = ["statements"]
    preferences.save()
    assert portal_client.get(f"/portal/statements/exports/{export.public_id}/").status_code == 404
    assert portal_client.get(PDF_LINK).status_code == 404
    assert StatementExport.objects.count() == 1


def test_the_prepared_list_costs_the_same_queries_for_one_export_and_for_many(
    portal_client, customer, clock, django_capture_on_commit_callbacks
):
    ledger(customer, clock)
    prepared_for(customer, django_capture_on_commit_callbacks)
    url = "/portal/statements/?period=this_year"
    portal_client.get(url)  # warm per-process caches

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert portal_client.get(url).status_code == 200
        return len([q for q in captured if "usersessions_usersession" not in q["sql"]])

    few = count()
    for day in range(1, 15):
        StatementExport.objects.create(
            organization=customer.organization,
            customer=customer,
            start=dt.date(2026, 1, day),
            end=dt.date(2026, 3, 10),
            currency="USD",
            line_count=5,
            created_at=clock.now(),
        )
    assert count() == few
    page = portal_client.get(url).content.decode()
    assert page.count("Preparing…") == 10 and not download_links(page)  # the latest ten only


def test_staff_see_exports_read_only_in_the_console(customer, clock, django_capture_on_commit_callbacks):
    ledger(customer, clock)
    export = prepared_for(customer, django_capture_on_commit_callbacks)
    client = tenant_client(customer.organization)
    client.force_login(
        staff_user(customer.organization), backend="portico.accounts.backends.TenantAuthenticationBackend"
    )
    listing = client.get("/console/billing/statementexport/")
    assert listing.status_code == 200 and "Acme Interiors" in listing.content.decode()
    change = client.get(f"/console/billing/statementexport/{export.pk}/change/")
    assert change.status_code == 200 and export.file.name in change.content.decode()
    assert client.get("/console/billing/statementexport/add/").status_code == 403
    assert client.post(f"/console/billing/statementexport/{export.pk}/delete/").status_code == 403


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_for_one_statement_queue_one_export(customer, clock):
    from tests.billing.test_concurrency import race

    assert connection.vendor == "postgresql"
    ledger(customer, clock)

    def ask():
        return exports.request_statement_export(
            customer=customer,
            start=dt.date(2026, 1, 1),
            end=dt.date(2026, 3, 10),
            currency="USD",
            line_count=5,
            requested_by=None,
            actor=ACTOR,
        )

    outcomes = race(*[ask for _ in range(8)])
    assert all(isinstance(o, tuple) for o in outcomes), outcomes
    assert sorted(created for _export, created in outcomes) == [False] * 7 + [True]
    assert len({export.pk for export, _created in outcomes}) == 1
    assert StatementExport.objects.get().status == StatementExport.Status.READY
