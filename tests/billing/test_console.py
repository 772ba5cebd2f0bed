"""The ledger in the console, over HTTP, as staff use it."""

import pytest

from portico.billing.invariants import ledger_violations
from portico.billing.models import CreditNote, Invoice, Payment
from portico.catalog.models import TaxRate
from tests.billing.factories import credit_note, draft_invoice, open_invoice, pay
from tests.conftest import tenant_client
from tests.factories import CustomerFactory, staff_user


@pytest.fixture
def staff(org):
    client = tenant_client(org)
    client.force_login(staff_user(org), backend="portico.accounts.backends.TenantAuthenticationBackend")
    return client


@pytest.fixture(autouse=True)
def _invariants_hold(db):
    yield
    assert ledger_violations() == []


def lines_post(*rows, initial=(), prefix="lines"):
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(initial) + len(rows)),
        f"{prefix}-INITIAL_FORMS": str(len(initial)),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, line in enumerate([*initial, *rows]):
        for key, value in line.items():
            data[f"{prefix}-{i}-{key}"] = value
    return data


def test_staff_build_a_draft_with_lines_and_finalize_it(org, customer, staff):
    vat = TaxRate.objects.create(organization=org, name="Sales tax", percent="8.25")
    response = staff.post(
        "/console/billing/invoice/add/",
        {
            "customer": customer.pk,
            "source": "one_time",
            "payment_terms_days": "",
            "purchase_order": "PO-7",
            "memo": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    invoice = Invoice.all_tenants.get()
    assert (invoice.status, invoice.payment_terms_days, invoice.purchase_order) == ("draft", 30, "PO-7")
    response = staff.post(
        f"/console/billing/invoice/{invoice.pk}/change/",
        {
            "payment_terms_days": "15",
            "purchase_order": "PO-7",
            "memo": "Kitchen",
            **lines_post(
                {
                    "description": "Tiling",
                    "quantity": "3",
                    "unit_price": "19.99",
                    "discount_percent": "10",
                    "catalog_tax": vat.pk,
                },
                {
                    "description": "Design",
                    "quantity": "1",
                    "unit_price": "100",
                    "discount_percent": "0",
                    "catalog_tax": "",
                },
            ),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    invoice.refresh_from_db()
    assert invoice.total_minor == 5842 + 10000
    assert invoice.payment_terms_days == 15
    assert staff.post(f"/console/billing/invoice/{invoice.pk}/finalize/").status_code == 302
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == ("open", "INV-00001")


def test_a_bad_line_shows_an_error_and_saves_nothing(customer, staff):
    invoice = draft_invoice(customer, 1000)
    [line] = invoice.lines.all()
    response = staff.post(
        f"/console/billing/invoice/{invoice.pk}/change/",
        {
            "payment_terms_days": "30",
            **lines_post(
                {"description": "x", "quantity": "0", "unit_price": "1.999", "discount_percent": "0"},
                initial=[
                    {
                        "id": line.pk,
                        "invoice": invoice.pk,
                        "description": "Line 1",
                        "quantity": "1",
                        "unit_price": "10.00",
                        "discount_percent": "0",
                    }
                ],
            ),
        },
    )
    assert response.status_code == 200
    assert "Too many decimal places for USD" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.lines.count() == 1 and invoice.total_minor == 1000


def test_a_finalized_invoice_is_read_only_in_the_console(customer, staff):
    invoice = open_invoice(customer, 1000)
    page = staff.get(f"/console/billing/invoice/{invoice.pk}/change/").content.decode()
    assert "INV-00001" in page and 'name="lines-0-description"' not in page
    assert 'name="_save"' not in page
    staff.post(
        f"/console/billing/invoice/{invoice.pk}/change/", {"memo": "changed", "payment_terms_days": "1"}
    )
    invoice.refresh_from_db()
    assert invoice.memo == "" and invoice.payment_terms_days == 30


def test_staff_record_a_payment_across_invoices_and_keep_the_rest_as_an_advance(customer, staff):
    first, second = open_invoice(customer, 3000), open_invoice(customer, 5000)
    page = staff.get(f"/console/billing/invoice/record-payment/?customer={customer.pk}").content.decode()
    assert "INV-00001" in page and "INV-00002" in page
    form = {
        "customer": customer.pk,
        "idempotency_key": "abc123",
        "amount": "100.00",
        "method": "bank_transfer",
        "received_on": "2026-03-10",
        "reference": "TR-1",
        f"invoice_{first.pk}": "30.00",
        f"invoice_{second.pk}": "20.00",
    }
    response = staff.post("/console/billing/invoice/record-payment/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    staff.post("/console/billing/invoice/record-payment/", form)  # a double submit records nothing more
    payment = Payment.all_tenants.get()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.balance_minor, payment.unused_minor) == ("paid", 3000, 5000)


def test_paying_too_much_in_the_console_is_refused_with_a_message(customer, staff):
    invoice = open_invoice(customer, 3000)
    response = staff.post(
        "/console/billing/invoice/record-payment/",
        {
            "customer": customer.pk,
            "idempotency_key": "k",
            "amount": "50.00",
            "method": "cash",
            "received_on": "2026-03-10",
            f"invoice_{invoice.pk}": "50.00",
        },
    )
    assert response.status_code == 200
    assert "has $30.00 left to pay" in response.content.decode()
    assert Payment.all_tenants.count() == 0


def test_an_invoice_field_of_another_customer_is_ignored(customer, outsider_customer, staff):
    theirs = open_invoice(outsider_customer, 3000)
    response = staff.post(
        "/console/billing/invoice/record-payment/",
        {
            "customer": customer.pk,
            "idempotency_key": "k2",
            "amount": "30.00",
            "method": "cash",
            "received_on": "2026-03-10",
            f"invoice_{theirs.pk}": "30.00",
        },
    )
    assert response.status_code == 302
    theirs.refresh_from_db()
    assert theirs.balance_minor == 3000
    assert Payment.all_tenants.get().unused_minor == 3000


def test_another_organizations_ledger_is_not_found(other_org, staff):
    theirs = CustomerFactory(organization=other_org, currency="GBP")
    invoice = open_invoice(theirs, 1000)
    draft = draft_invoice(theirs, 1000)
    payment = pay(theirs, 500)
    note = credit_note(theirs, 100)
    assert staff.get(f"/console/billing/invoice/{invoice.pk}/change/").status_code in (302, 404)
    assert staff.post(f"/console/billing/invoice/{draft.pk}/finalize/").status_code == 404
    assert staff.get(f"/console/billing/invoice/{invoice.pk}/void/").status_code == 404
    assert staff.get(f"/console/billing/invoice/record-payment/?customer={theirs.pk}").status_code == 404
    assert staff.get(f"/console/billing/payment/{payment.pk}/refund/").status_code == 404
    assert staff.post(f"/console/billing/creditnote/{note.pk}/apply/", {"amount": "1"}).status_code == 404
    assert "INV-00001" not in staff.get("/console/billing/invoice/").content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_staff_void_an_unpaid_invoice_with_a_reason(customer, staff):
    invoice = open_invoice(customer, 1000)
    response = staff.post(f"/console/billing/invoice/{invoice.pk}/void/", {"reason": "Sent twice"})
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.status, invoice.void_reason) == ("void", "Sent twice")


def test_staff_issue_a_credit_note_for_an_invoice_apply_it_and_refund_the_rest(customer, staff):
    invoice = open_invoice(customer, 5000)
    response = staff.post(
        "/console/billing/creditnote/add/",
        {"customer": customer.pk, "invoice": invoice.pk, "reason": "Damaged"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    note = CreditNote.all_tenants.get()
    staff.post(
        f"/console/billing/creditnote/{note.pk}/change/",
        {
            "reason": "Damaged",
            **lines_post(
                {
                    "description": "Refund for tiles",
                    "quantity": "1",
                    "unit_price": "40.00",
                    "discount_percent": "0",
                }
            ),
        },
    )
    assert staff.post(f"/console/billing/creditnote/{note.pk}/finalize/").status_code == 302
    note.refresh_from_db()
    assert (note.number, note.remaining_minor) == ("CN-00001", 4000)
    response = staff.post(
        f"/console/billing/creditnote/{note.pk}/apply/", {"invoice": invoice.pk, "amount": "25.00"}
    )
    assert response.status_code == 302
    response = staff.post(
        f"/console/billing/creditnote/{note.pk}/refund/", {"amount": "20.00", "method": "bank_transfer"}
    )
    assert response.status_code == 200 and "At most $15.00" in response.content.decode()
    response = staff.post(
        f"/console/billing/creditnote/{note.pk}/refund/", {"amount": "15.00", "method": "bank_transfer"}
    )
    assert response.status_code == 302
    note.refresh_from_db()
    invoice.refresh_from_db()
    assert (note.status, invoice.balance_minor) == ("closed", 2500)


def test_staff_apply_an_advance_and_refund_what_is_left(customer, staff):
    payment = pay(customer, 5000)
    invoice = open_invoice(customer, 3000)
    response = staff.post(
        f"/console/billing/payment/{payment.pk}/allocate/", {f"invoice_{invoice.pk}": "30.00"}
    )
    assert response.status_code == 302
    response = staff.post(
        f"/console/billing/payment/{payment.pk}/refund/", {"amount": "20.00", "method": "card"}
    )
    assert response.status_code == 302
    payment.refresh_from_db()
    assert (payment.allocated_minor, payment.unused_minor, payment.refunded_minor) == (3000, 0, 2000)


def test_the_finalize_action_on_the_list(customer, staff):
    drafts = [draft_invoice(customer, 1000), draft_invoice(customer, 2000)]
    response = staff.post(
        "/console/billing/invoice/",
        {"action": "finalize_selected", "_selected_action": [d.pk for d in drafts]},
    )
    assert response.status_code == 302
    assert sorted(Invoice.all_tenants.values_list("number", flat=True)) == ["INV-00001", "INV-00002"]


def test_console_pages_render(customer, staff):
    invoice = open_invoice(customer, 1000)
    payment = pay(customer, 1500, (invoice, 1000))
    note = credit_note(customer, 300)
    for url in [
        "/console/billing/invoice/",
        "/console/billing/invoice/add/",
        f"/console/billing/invoice/{invoice.pk}/change/",
        f"/console/billing/invoice/{draft_invoice(customer).pk}/change/",
        "/console/billing/invoice/record-payment/",
        "/console/billing/payment/",
        f"/console/billing/payment/{payment.pk}/change/",
        f"/console/billing/payment/{payment.pk}/allocate/",
        "/console/billing/creditnote/",
        f"/console/billing/creditnote/{note.pk}/change/",
        f"/console/billing/creditnote/{note.pk}/apply/",
        "/console/billing/refund/",
        "/console/billing/billingsettings/",
        "/console/catalog/taxrate/",
        "/console/catalog/item/add/",
    ]:
        assert staff.get(url).status_code == 200, url
    assert "Issue credit note" in staff.get(f"/console/billing/invoice/{invoice.pk}/change/").content.decode()
    assert (
        "Record payment"
        in staff.get(f"/console/billing/invoice/{open_invoice(customer).pk}/change/").content.decode()
    )


def test_choosing_a_catalog_item_fills_the_line(org, customer, staff):
    from portico.catalog.models import Item

    tax = TaxRate.objects.create(organization=org, name="VAT", percent="20", is_inclusive=True)
    item = Item.objects.create(
        organization=org, name="Workshop", currency="USD", unit_price_minor=12000, tax_rate=tax
    )
    invoice = draft_invoice(customer, 1000)
    [line] = invoice.lines.all()
    existing = {
        "id": line.pk,
        "invoice": invoice.pk,
        "description": "Line 1",
        "quantity": "1",
        "unit_price": "10.00",
        "discount_percent": "0",
    }
    response = staff.post(
        f"/console/billing/invoice/{invoice.pk}/change/",
        {
            "payment_terms_days": "30",
            **lines_post({"item": item.pk, "quantity": "2", "discount_percent": "0"}, initial=[existing]),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    added = invoice.lines.order_by("position").last()
    assert (added.description, added.unit_price_minor, added.tax_name, added.tax_inclusive) == (
        "Workshop",
        12000,
        "VAT",
        True,
    )
    assert (added.total_minor, added.tax_minor) == (24000, 4000)
    response = staff.post(
        f"/console/billing/invoice/{invoice.pk}/change/",
        {
            "payment_terms_days": "30",
            **lines_post(
                {"description": "Nothing priced", "quantity": "1", "discount_percent": "0"},
                initial=[existing],
            ),
        },
    )
    assert "Enter a unit price or choose an item." in response.content.decode()


def test_staff_send_an_invoice_by_email(customer, staff, mailbox, django_capture_on_commit_callbacks):
    invoice = open_invoice(customer, 4200)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(f"/console/billing/invoice/{invoice.pk}/send/")
    assert response.status_code == 302
    [message] = mailbox.to(customer.email)
    assert invoice.number in message["Subject"] and "$42.00" in mailbox.body(message)


def test_check_ledger_command_reports_a_broken_invariant(customer):
    from django.core.management import CommandError, call_command

    invoice = open_invoice(customer, 1000)
    call_command("check_ledger")
    Invoice.all_tenants.filter(pk=invoice.pk).update(
        paid_minor=100, balance_minor=900
    )  # no allocation behind it
    with pytest.raises(CommandError, match="ledger invariant"):
        call_command("check_ledger", organization=customer.organization.slug)
    Invoice.all_tenants.filter(pk=invoice.pk).update(paid_minor=0, balance_minor=1000)


def test_a_refused_list_action_names_the_invoice_and_says_why(customer, staff):
    from portico.billing import services
    from tests.billing.factories import ACTOR

    empty = services.create_invoice(customer=customer, lines=[], actor=ACTOR)
    filled = draft_invoice(customer, 1000)
    response = staff.post(
        "/console/billing/invoice/",
        {"action": "finalize_selected", "_selected_action": [empty.pk, filled.pk]},
        follow=True,
    )
    html = response.content.decode()
    assert f"{empty}: Add at least one line before finalizing." in html
    assert "1 finalized." in html
    empty.refresh_from_db()
    filled.refresh_from_db()
    assert (empty.status, filled.status) == (Invoice.Status.DRAFT, Invoice.Status.OPEN)
