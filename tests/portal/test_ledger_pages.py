"""What a customer sees and does on the ledger pages."""

import datetime as dt
import re

from portico.billing.models import Invoice, Payment
from portico.billing.services import void_invoice
from portico.payments.models import PaymentAttempt
from tests.billing.factories import ACTOR, credit_note, open_invoice, pay

CARD = {
    "name": "Maria Lopez",
    "number": "4242 4242 4242 4242",
    "exp_month": "12",
    "exp_year": "2030",
    "cvc": "123",
}


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def form_token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def history(customer, clock):
    """Paid, partially paid, due, overdue and void invoices (clock at 2026-03-10, Chicago)."""
    clock.set("2026-01-05T15:00:00+00:00")
    overdue = open_invoice(customer, 30000)  # due 2026-02-04
    paid = open_invoice(customer, 12000)
    partly = open_invoice(customer, 20000)
    voided = open_invoice(customer, 5000)
    clock.set("2026-03-01T15:00:00+00:00")
    due = open_invoice(customer, 7500)  # due 2026-03-31
    pay(customer, 12000, (paid, 12000), received_on=dt.date(2026, 1, 20))
    pay(customer, 5000, (partly, 5000), received_on=dt.date(2026, 1, 21))
    void_invoice(invoice=voided, actor=ACTOR)
    clock.set("2026-03-10T15:00:00+00:00")
    return {"overdue": overdue, "paid": paid, "partly": partly, "void": voided, "due": due}


def test_invoice_badges_say_paid_due_overdue_and_partially_paid_in_words(portal_client, customer, clock):
    docs = history(customer, clock)
    html = text(portal_client.get("/portal/invoices/"))
    assert "5 invoices" in html
    row = lambda name: re.search(rf"{docs[name].number}</a></th>(.*?)</tr>", html).group(1)  # noqa: E731
    assert "Overdue (34 days)" in row("overdue")
    assert "Paid" in row("paid")
    assert "Overdue" in row("partly") and "Partially paid" in row("partly")
    assert "Void" in row("void")
    assert ">Due<" in row("due")


def test_invoice_filters(portal_client, customer, clock):
    docs = history(customer, clock)

    def numbers(query):
        html = portal_client.get("/portal/invoices/?" + query).content.decode()
        return {name for name, invoice in docs.items() if f">{invoice.number}</a>" in html}

    assert numbers("status=overdue") == {"overdue", "partly"}
    assert numbers("status=due") == {"due"}
    assert numbers("status=partially_paid") == {"partly"}
    assert numbers("status=paid") == {"paid"}
    assert numbers("status=void") == {"void"}
    assert numbers("status=all&start=2026-02-01") == {"due"}
    assert numbers("status=all&end=2026-02-01") == {"overdue", "paid", "partly", "void"}
    assert numbers(f"q={docs['paid'].number[-3:]}") == {"paid"}
    html = portal_client.get("/portal/invoices/?start=2026-03-01&end=2026-01-01").content.decode()
    assert "The end date must be on or after the start date." in html


def test_invoice_list_sorts_and_paginates(portal_client, customer, clock):
    for amount in range(1, 31):
        open_invoice(customer, amount * 100)
    html = portal_client.get("/portal/invoices/?sort=-total").content.decode()
    assert html.index("INV-00030") < html.index("INV-00029")
    assert "Page 1 of 2" in html
    second = portal_client.get("/portal/invoices/?sort=-total&page=2").content.decode()
    assert "INV-00001" in second and "INV-00030" not in second


def test_invoice_detail_shows_lines_taxes_credits_payments_and_balance(portal_client, customer, clock):
    from portico.billing import services
    from tests.billing.factories import taxed

    draft = services.create_invoice(
        customer=customer,
        lines=[taxed(10000, "10", description="Kitchen design"), taxed(5000, "10", description="Site visit")],
        actor=ACTOR,
    )
    invoice = services.finalize_invoice(invoice=draft, actor=ACTOR)
    note = credit_note(customer, 2000)
    services.apply_credit(credit_note=note, invoice=invoice, amount=note.total, actor=ACTOR)
    payment = pay(customer, 3000, (invoice, 3000))
    html = text(portal_client.get(f"/portal/invoices/{invoice.number}/"))
    for expected in (
        "Kitchen design",
        "Site visit",
        "Tax 10%",
        "$150.00",
        "$15.00",
        "$165.00",
        f"Credit note {note.number} applied",
        payment.number,
        "$115.00",
        "Balance due",
    ):
        assert expected in html, expected
    assert "Partially paid" in html


def test_print_view_is_the_document_alone(portal_client, customer, clock):
    invoice = open_invoice(customer, 10000)
    html = text(portal_client.get(f"/portal/invoices/{invoice.number}/print/"))
    assert f"Invoice {invoice.number}" in html and "Acme Interiors" in html and "Back to the invoice" in html
    assert 'class="sidenav"' not in html


def test_dashboard_shows_outstanding_overdue_credits_next_due_and_latest(portal_client, customer, clock):
    docs = history(customer, clock)
    credit_note(customer, 1000)
    html = text(portal_client.get("/portal/"))
    # outstanding: 30000 + 15000 + 7500; overdue: 30000 + 15000
    assert 'Total outstanding</h2><p class="stat-value">$525.00' in html
    assert 'Overdue</h2><p class="stat-value">$450.00' in html
    assert 'Unused credits</h2><p class="stat-value">$10.00' in html
    assert 'Next due date</h2><p class="stat-value">Overdue since Feb 4, 2026' in html
    assert "2 invoices overdue" in html and "Next due date after that: Mar 31, 2026" in html
    assert docs["due"].number in html


def test_bulk_pay_through_the_pages(portal_client, customer, clock):
    docs = history(customer, clock)
    choose = portal_client.get("/portal/pay/")
    assert (
        docs["overdue"].number in choose.content.decode()
        and docs["paid"].number not in choose.content.decode()
    )
    numbers = [docs["overdue"].number, docs["partly"].number, docs["due"].number]
    checkout = portal_client.get("/portal/pay/", {"invoices": numbers})
    html = checkout.content.decode()
    assert "Pay $525.00" in html
    response = portal_client.post(
        "/portal/pay/",
        {"invoices": numbers, "form_token": form_token(html), "expected_total": "52500", **CARD},
    )
    assert response.status_code == 302
    payment = Payment.objects.get(channel="online")
    assert payment.amount_minor == 52500 and payment.allocations.count() == 3
    page = text(portal_client.get(response["Location"]))
    assert f"payment {payment.number} of $525.00 was received" in page
    assert all(n in page for n in numbers)
    assert "$0.00" in text(portal_client.get("/portal/")).split("Total outstanding")[1][:80]


def test_double_submission_through_the_pages_pays_once(portal_client, customer, clock):
    invoice = open_invoice(customer, 10000)
    html = portal_client.get(f"/portal/invoices/{invoice.number}/pay/").content.decode()
    data = {"form_token": form_token(html), "amount": "100.00", **CARD}
    first = portal_client.post(f"/portal/invoices/{invoice.number}/pay/", data)
    second = portal_client.post(f"/portal/invoices/{invoice.number}/pay/", data)
    assert first.status_code == second.status_code == 302
    assert Payment.objects.count() == 1 and PaymentAttempt.objects.count() == 1
    assert "your card was not charged again" in text(portal_client.get(second["Location"]))


def test_a_declined_card_is_explained_and_nothing_is_paid(portal_client, customer, clock):
    invoice = open_invoice(customer, 10000)
    html = portal_client.get(f"/portal/invoices/{invoice.number}/pay/").content.decode()
    response = portal_client.post(
        f"/portal/invoices/{invoice.number}/pay/",
        {"form_token": form_token(html), **CARD, "number": "4000 0000 0000 0002"},
    )
    assert response.status_code == 400
    assert "Your card was declined" in text(response)
    assert form_token(response.content.decode()) != form_token(html)  # a retry is a new attempt
    assert not Payment.objects.exists()
    assert "4000 0000 0000 0002" not in response.content.decode()


def test_a_wrong_card_number_is_a_form_error_and_nothing_is_written(portal_client, customer, clock):
    invoice = open_invoice(customer, 10000)
    html = portal_client.get(f"/portal/invoices/{invoice.number}/pay/").content.decode()
    response = portal_client.post(
        f"/portal/invoices/{invoice.number}/pay/",
        {"form_token": form_token(html), **CARD, "number": "4242 4242 4242 4241"},
    )
    assert "Your card number is incorrect." in text(response)
    assert not PaymentAttempt.objects.exists()


def test_paying_more_than_the_balance_through_the_page_is_refused(portal_client, customer, clock):
    invoice = open_invoice(customer, 10000)
    html = portal_client.get(f"/portal/invoices/{invoice.number}/pay/").content.decode()
    response = portal_client.post(
        f"/portal/invoices/{invoice.number}/pay/",
        {"form_token": form_token(html), "amount": "100.01", **CARD},
    )
    assert response.status_code == 400 and "left to pay" in text(response)
    assert not PaymentAttempt.objects.exists()


def test_a_tampered_invoice_in_the_bulk_form_is_refused(portal_client, customer, outsider_customer, clock):
    mine, theirs = open_invoice(customer, 1000), open_invoice(outsider_customer, 2000)
    response = portal_client.post(
        "/portal/pay/", {"invoices": [mine.number, theirs.number], "form_token": "abc", **CARD}, follow=True
    )
    assert "That invoice was not found on this account." in text(response)
    assert not PaymentAttempt.objects.exists() and not Payment.objects.exists()
    mine.refresh_from_db()
    assert mine.balance_minor == 1000


def test_paying_a_void_invoice_through_the_page_is_refused(portal_client, customer, clock):
    invoice = open_invoice(customer, 1000)
    void_invoice(invoice=invoice, actor=ACTOR)
    response = portal_client.get(f"/portal/invoices/{invoice.number}/pay/", follow=True)
    assert "has been voided and cannot be paid" in text(response)


def test_payments_page_shows_allocations_and_a_receipt(portal_client, customer, clock):
    a, b = open_invoice(customer, 1000), open_invoice(customer, 2000)
    payment = pay(customer, 5000, (a, 1000), (b, 2000))
    html = text(portal_client.get("/portal/payments/"))
    assert (
        f"{a.number}</a>: $10.00" in html
        and f"{b.number}</a>: $20.00" in html
        and "Unused credit: $20.00" in html
    )
    receipt = portal_client.get(f"/portal/payments/{payment.number}/receipt/")
    assert receipt["Content-Type"] == "application/pdf"
    assert b"".join(receipt.streaming_content).startswith(b"%PDF")


def test_credits_page_shows_remaining_and_where_applied(portal_client, customer, clock):
    from portico.billing import services

    invoice = open_invoice(customer, 10000)
    note = credit_note(customer, 3000)
    services.apply_credit(
        credit_note=note, invoice=invoice, amount=type(note.total)(1000, "USD"), actor=ACTOR
    )
    advance = pay(customer, 4000)
    html = text(portal_client.get("/portal/credits/"))
    assert note.number in html and "$20.00" in html and f"{invoice.number}</a>: $10.00" in html
    assert advance.number in html and "$40.00" in html
    assert "Credit available to apply to your invoices: <strong>$60.00</strong>" in html


def test_credits_page_pages_each_list_and_keeps_the_others_place(portal_client, customer, clock):
    notes = [credit_note(customer, 100 + n) for n in range(27)]
    advances = [pay(customer, 500 + n) for n in range(26)]
    first = portal_client.get("/portal/credits/").content.decode()
    assert sum(note.number in first for note in notes) == 25
    assert sum(advance.number in first for advance in advances) == 25
    assert 'href="?notes=2#credit-notes"' in first and 'href="?advances=2#advances"' in first
    later = portal_client.get("/portal/credits/?notes=2&advances=2").content.decode()
    # Newest first: the two oldest credit notes and the oldest advance are on the second pages.
    assert {n.number for n in notes if n.number in later} == {notes[0].number, notes[1].number}
    assert {a.number for a in advances if a.number in later} == {advances[0].number}
    assert 'href="?advances=2&amp;notes=1#credit-notes"' in later


def test_statement_page_csv_and_bad_period(portal_client, customer, clock):
    history(customer, clock)
    html = text(portal_client.get("/portal/statements/?period=this_year"))
    assert "Opening balance" in html and "Closing balance" in html
    # 30000+12000+20000+5000+7500 − 12000 − 5000 − 5000 (void) = 52500
    assert "$525.00" in html
    csv = portal_client.get("/portal/statements/csv/?period=this_year").content.decode()
    assert csv.splitlines()[-1].endswith(",525.00")
    bad = text(portal_client.get("/portal/statements/?period=custom&start=2026-03-01&end=2026-02-01"))
    assert "The end date must be on or after the start date." in bad and "Closing balance" not in bad
    assert Invoice.objects.count() == 5


def test_a_long_statement_is_paged_with_the_balance_brought_forward(portal_client, customer, clock):
    from portico.billing.statements import statement_for
    from tests.perf.bulk import bulk_ledger

    bulk_ledger(customer, 300, end=dt.date(2026, 3, 10), span_days=60)
    statement = statement_for(customer, dt.date(2026, 1, 1), dt.date(2026, 3, 10))
    assert len(statement.lines) > 100
    first = text(portal_client.get("/portal/statements/?period=this_year"))
    pages = -(-len(statement.lines) // 100)
    assert f"Page 1 of {pages}" in first and "Opening balance" in first
    second = text(portal_client.get("/portal/statements/?period=this_year&page=2"))
    carried = statement.lines[99].balance.format()
    assert (
        'Balance brought forward</th><td class="num"></td><td class="num"></td>'
        f'<td class="num" data-label="Balance">{carried}' in second
    )
    assert statement.closing_balance.format() in second
    assert "period=this_year" in second and "page=2&amp;" not in second.split("Download CSV")[0]


def test_a_statement_too_long_to_render_at_once_is_prepared_in_the_background(
    portal_client, customer, clock, monkeypatch
):
    from portico.billing.models import StatementExport
    from portico.portal import statement_views

    history(customer, clock)
    monkeypatch.setattr(statement_views, "STATEMENT_PDF_INLINE_LINES", 3)
    response = portal_client.get("/portal/statements/pdf/?period=this_year", follow=True)
    assert response.redirect_chain == [("/portal/statements/?period=this_year", 302)]
    html = text(response)
    assert "Your PDF statement (8 lines) is being prepared." in html
    assert "Prepared statements" in html and "Preparing…" in html and "Download CSV" in html
    assert StatementExport.objects.get().line_count == 8  # five invoices, two payments, one void
