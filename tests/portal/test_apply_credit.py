"""Customers apply their own credit (credit notes, advances) to invoices from the portal (issue 8,
item 11): through the ledger's services, once per form, never someone else's, never too much."""

import re

import pytest

from portico.billing.invariants import ledger_violations
from portico.billing.models import CreditApplication, CreditNote, Invoice, Payment, PaymentAllocation
from portico.payments.models import CreditUse
from portico.portal.models import preferences_of
from tests.billing.factories import credit_note, open_invoice, pay
from tests.conftest import tenant_client
from tests.factories import CustomerFactory, OrganizationFactory
from tests.payments.test_reconcile import CrashBeforeCharge, interrupted
from tests.portal.test_ledger_pages import form_token, text

URL = "/portal/credits/apply/"


@pytest.fixture
def ledger(customer, clock):
    """An overdue $900 invoice and a $400 one, then $250 of credit note and a $500 advance."""
    clock.set("2026-01-05T15:00:00+00:00")
    overdue = open_invoice(customer, 90000)
    later = open_invoice(customer, 40000)
    clock.set("2026-03-10T15:00:00+00:00")
    note = credit_note(customer, 25000)
    advance = pay(customer, 50000)
    return {"overdue": overdue, "later": later, "note": note, "advance": advance}


def form(client, credit=""):
    response = client.get(URL, {"credit": credit} if credit else {})
    assert response.status_code == 200
    return response.content.decode()


def test_applying_a_credit_note_to_a_chosen_invoice(portal_client, customer, ledger):
    html = form(portal_client, f"credit_note:{ledger['note'].number}")
    overdue = ledger["overdue"]
    response = portal_client.post(
        URL,
        {
            "form_token": form_token(html),
            "credit": f"credit_note:{ledger['note'].number}",
            "invoices": [overdue.number],
            f"amount_{overdue.number}": "100.00",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/portal/credits/"
    overdue.refresh_from_db()
    ledger["note"].refresh_from_db()
    assert (overdue.balance_minor, overdue.status) == (80000, Invoice.Status.PARTIALLY_PAID)
    assert (ledger["note"].remaining_minor, ledger["note"].applied_minor) == (15000, 10000)
    page = text(portal_client.get("/portal/credits/"))
    assert f"$100.00 of credit {ledger['note'].number} was applied to {overdue.number}" in page
    assert ledger_violations() == []


def test_an_advance_applied_with_no_amount_fills_the_invoices_in_order(portal_client, customer, ledger):
    key = f"payment:{ledger['advance'].number}"
    html = form(portal_client, key)
    numbers = [ledger["overdue"].number, ledger["later"].number]
    response = portal_client.post(URL, {"form_token": form_token(html), "credit": key, "invoices": numbers})
    assert response.status_code == 302
    allocations = {
        a.invoice.number: a.amount_minor for a in PaymentAllocation.objects.filter(payment=ledger["advance"])
    }
    assert allocations == {ledger["overdue"].number: 50000}  # $500 all went to the first chosen
    ledger["advance"].refresh_from_db()
    assert ledger["advance"].unused_minor == 0
    assert ledger_violations() == []


def test_typing_an_amount_chooses_the_invoice(portal_client, customer, ledger):
    key = f"payment:{ledger['advance'].number}"
    later = ledger["later"]
    html = form(portal_client, key)
    portal_client.post(URL, {"form_token": form_token(html), "credit": key, f"amount_{later.number}": "40"})
    later.refresh_from_db()
    assert (later.balance_minor, later.status) == (36000, Invoice.Status.PARTIALLY_PAID)


def test_a_double_submission_applies_the_credit_once(portal_client, customer, ledger):
    key = f"credit_note:{ledger['note'].number}"
    html = form(portal_client, key)
    data = {"form_token": form_token(html), "credit": key, "invoices": [ledger["overdue"].number]}
    first = portal_client.post(URL, data)
    second = portal_client.post(URL, data)  # the note is used up by now: still recognised, not a 404
    assert first.status_code == second.status_code == 302
    assert CreditApplication.objects.filter(credit_note=ledger["note"]).count() == 1
    assert CreditUse.objects.count() == 1
    ledger["overdue"].refresh_from_db()
    assert ledger["overdue"].balance_minor == 65000
    assert "nothing was applied twice" in text(portal_client.get(second["Location"]))


def test_two_tabs_cannot_use_the_same_credit_twice(portal_client, customer, ledger):
    key = f"credit_note:{ledger['note'].number}"
    first_tab, second_tab = form(portal_client, key), form(portal_client, key)
    for html, invoice in ((first_tab, ledger["overdue"]), (second_tab, ledger["later"])):
        response = portal_client.post(
            URL,
            {
                "form_token": form_token(html),
                "credit": key,
                "invoices": [invoice.number],
                f"amount_{invoice.number}": "200.00",
            },
        )
    assert response.status_code == 400  # the second tab still showed $250
    assert f"Only $50.00 of credit {ledger['note'].number} is left" in text(response)
    ledger["note"].refresh_from_db()
    assert (ledger["note"].applied_minor, ledger["note"].remaining_minor) == (20000, 5000)


def test_more_than_the_credit_has_left_is_refused_with_a_message(portal_client, customer, ledger):
    key = f"credit_note:{ledger['note'].number}"
    overdue, later = ledger["overdue"], ledger["later"]
    html = form(portal_client, key)
    response = portal_client.post(
        URL,
        {
            "form_token": form_token(html),
            "credit": key,
            "invoices": [overdue.number, later.number],
            f"amount_{overdue.number}": "200.00",
            f"amount_{later.number}": "50.01",
        },
    )
    assert response.status_code == 400
    assert f"Only $250.00 of credit {ledger['note'].number} is left" in text(response)
    assert not CreditApplication.objects.exists() and not CreditUse.objects.exists()


def test_more_than_the_invoice_balance_is_refused_and_nothing_is_applied(portal_client, customer, ledger):
    key = f"payment:{ledger['advance'].number}"
    later = ledger["later"]
    html = form(portal_client, key)
    response = portal_client.post(
        URL, {"form_token": form_token(html), "credit": key, f"amount_{later.number}": "400.01"}
    )
    assert response.status_code == 400
    assert "has $400.00 left to pay" in text(response)
    assert not PaymentAllocation.objects.filter(payment=ledger["advance"]).exists()


def test_a_malformed_amount_is_a_form_error(portal_client, customer, ledger):
    key = f"payment:{ledger['advance'].number}"
    later = ledger["later"]
    html = form(portal_client, key)
    response = portal_client.post(
        URL, {"form_token": form_token(html), "credit": key, f"amount_{later.number}": "ten dollars"}
    )
    assert response.status_code == 400 and 'aria-invalid="true"' in response.content.decode()
    assert not CreditUse.objects.exists()


def test_another_customers_credit_or_invoice_is_not_found(
    portal_client, customer, outsider_customer, ledger, clock
):
    their_note = credit_note(outsider_customer, 10000)
    their_invoice = open_invoice(outsider_customer, 5000)
    html = form(portal_client)
    mine = f"credit_note:{ledger['note'].number}"
    assert (
        portal_client.post(
            URL,
            {
                "form_token": form_token(html),
                "credit": f"credit_note:{their_note.number}",
                "invoices": [ledger["overdue"].number],
            },
        ).status_code
        == 404
    )
    assert (
        portal_client.post(
            URL, {"form_token": form_token(html), "credit": mine, "invoices": [their_invoice.number]}
        ).status_code
        == 404
    )
    assert portal_client.get(URL, {"credit": "payment:PAY-99999"}).status_code == 404
    assert not CreditApplication.objects.exists() and not CreditUse.objects.exists()
    their_note.refresh_from_db()
    assert their_note.remaining_minor == 10000


def test_another_organizations_credit_is_not_found(portal_client, customer, ledger, clock):
    elsewhere = CustomerFactory(organization=OrganizationFactory(slug="elsewhere"))
    credit_note(elsewhere, 10000)
    theirs = credit_note(elsewhere, 10000)  # a number this customer's organization has not used
    html = form(portal_client)
    response = portal_client.post(
        URL,
        {
            "form_token": form_token(html),
            "credit": f"credit_note:{theirs.number}",
            "invoices": [ledger["overdue"].number],
        },
    )
    assert response.status_code == 404
    assert CreditNote.all_tenants.get(pk=theirs.pk).remaining_minor == 10000


def test_credit_cannot_pay_what_a_card_checkout_has_reserved(portal_client, customer, ledger):
    interrupted(customer, [ledger["overdue"]], CrashBeforeCharge(), form_token="tab-1")
    key = f"credit_note:{ledger['note'].number}"
    html = form(portal_client, key)
    assert "Payment in progress" in html
    response = portal_client.post(
        URL, {"form_token": form_token(html), "credit": key, "invoices": [ledger["overdue"].number]}
    )
    assert response.status_code == 400 and "being paid by card" in text(response)
    assert not CreditApplication.objects.exists()


def test_a_viewer_cannot_apply_credit(viewer_client, customer, ledger):
    assert viewer_client.get(URL).status_code == 403
    assert viewer_client.post(URL, {"credit": f"credit_note:{ledger['note'].number}"}).status_code == 403
    assert not CreditApplication.objects.exists()


def test_a_billing_contact_can_apply_credit(billing_client, customer, ledger):
    html = form(billing_client)
    key = re.search(r'name="credit" value="([^"]+)"', html).group(1)
    response = billing_client.post(
        URL, {"form_token": form_token(html), "credit": key, "invoices": [ledger["later"].number]}
    )
    assert response.status_code == 302
    ledger["later"].refresh_from_db()
    assert ledger["later"].balance_minor == 15000  # the oldest credit first: the $250 note


def test_the_business_can_switch_applying_credit_off(portal_client, org, customer, ledger):
    prefs = preferences_of(org)
    prefs.disabled = ["credits.apply"]
    prefs.save()
    assert portal_client.get(URL).status_code == 404
    page = portal_client.get("/portal/credits/").content.decode()
    assert "Apply credit" not in page and URL not in page
    assert URL not in portal_client.get("/portal/pay/").content.decode()


def test_the_credits_and_pay_pages_offer_to_apply_unused_credit(portal_client, customer, ledger):
    assert URL in portal_client.get("/portal/credits/").content.decode()
    pay_page = text(portal_client.get("/portal/pay/"))
    assert "You have unused credit: <strong>$750.00</strong>" in pay_page and URL in pay_page


def test_without_credit_the_page_says_so(portal_client, customer, clock):
    open_invoice(customer, 1000)
    response = portal_client.get(URL, follow=True)
    assert "no unused credit" in text(response)


def test_another_tenants_portal_user_cannot_reach_this_customers_credit(org, other_org, customer, ledger):
    from tests.factories import ContactFactory, portal_user

    stranger = ContactFactory(customer=CustomerFactory(organization=other_org), email="maria@acme.example")
    client = tenant_client(other_org)
    client.force_login(portal_user(stranger), backend="portico.accounts.backends.TenantAuthenticationBackend")
    response = client.post(
        URL,
        {
            "form_token": "x",
            "credit": f"credit_note:{ledger['note'].number}",
            "invoices": [ledger["overdue"].number],
        },
    )
    assert response.status_code in (302, 404)  # no credit of theirs: nothing to apply
    assert not CreditApplication.objects.exists()
    assert Payment.objects.filter(customer=customer).count() == 1


def test_a_flood_of_invoice_numbers_is_refused_with_a_message(portal_client, customer, ledger):
    key = f"credit_note:{ledger['note'].number}"
    html = form(portal_client, key)
    response = portal_client.post(
        URL, {"form_token": form_token(html), "credit": key, "invoices": [f"INV-{n}" for n in range(500)]}
    )
    assert response.status_code == 400 and "at most 200 invoices" in text(response)
    assert not CreditUse.objects.exists()
