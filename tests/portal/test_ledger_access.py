"""Every ledger page is scoped to the signed-in customer and gated by role and portal preferences."""

import pytest

from portico.billing.models import Payment
from portico.payments.models import PaymentAttempt
from portico.portal.models import preferences_of
from tests.billing.factories import open_invoice, pay
from tests.factories import CustomerFactory

INVOICE_PAGES = [
    "/portal/invoices/{}/",
    "/portal/invoices/{}/print/",
    "/portal/invoices/{}/pdf/",
    "/portal/invoices/{}/pay/",
]
LIST_PAGES = {
    "/portal/invoices/": "invoices",
    "/portal/payments/": "payments",
    "/portal/credits/": "credits",
    "/portal/statements/": "statements",
    "/portal/statements/pdf/?period=this_year": "statements",
    "/portal/statements/csv/?period=this_year": "statements",
}


@pytest.mark.parametrize("page", INVOICE_PAGES)
def test_another_customers_invoice_number_is_not_found_on_every_invoice_page(
    page, portal_client, customer, outsider_customer, clock
):
    open_invoice(customer, 1000)
    theirs = open_invoice(outsider_customer, 5000)
    assert portal_client.get(page.format(theirs.number)).status_code == 404
    assert portal_client.post(page.format(theirs.number), {}).status_code in (404, 405)


@pytest.mark.parametrize("page", INVOICE_PAGES)
def test_another_organizations_invoice_is_not_found(page, portal_client, other_org, clock):
    theirs = open_invoice(CustomerFactory(organization=other_org, currency="GBP"), 5000)
    assert portal_client.get(page.format(theirs.number)).status_code == 404


def test_another_customers_payment_receipt_is_not_found(portal_client, outsider_customer, clock):
    theirs = pay(outsider_customer, 5000)
    assert portal_client.get(f"/portal/payments/{theirs.number}/receipt/").status_code == 404


def test_lists_never_show_another_customers_documents(portal_client, customer, outsider_customer, clock):
    mine, theirs = open_invoice(customer, 1000), open_invoice(outsider_customer, 2000)
    their_payment = pay(outsider_customer, 2000, (theirs, 2000))
    for page in ("/portal/", "/portal/invoices/", "/portal/payments/", "/portal/credits/", "/portal/pay/"):
        html = portal_client.get(page).content.decode()
        assert theirs.number not in html and their_payment.number not in html, page
    assert mine.number in portal_client.get("/portal/invoices/").content.decode()


def test_a_viewer_cannot_pay(viewer_client, customer, clock):
    invoice = open_invoice(customer, 1000)
    assert viewer_client.get(f"/portal/invoices/{invoice.number}/").status_code == 200
    assert viewer_client.get(f"/portal/invoices/{invoice.number}/pay/").status_code == 403
    assert viewer_client.get("/portal/pay/").status_code == 403
    response = viewer_client.post(
        "/portal/pay/",
        {
            "invoices": [invoice.number],
            "form_token": "t",
            "name": "V",
            "number": "4242424242424242",
            "exp_month": "12",
            "exp_year": "2030",
            "cvc": "123",
        },
    )
    assert response.status_code == 403
    assert not Payment.objects.exists() and not PaymentAttempt.objects.exists()
    assert "Pay $10.00" not in viewer_client.get(f"/portal/invoices/{invoice.number}/").content.decode()


def test_a_billing_contact_can_open_the_pay_page(billing_client, customer, clock):
    invoice = open_invoice(customer, 1000)
    assert billing_client.get(f"/portal/invoices/{invoice.number}/pay/").status_code == 200


@pytest.mark.parametrize(("page", "module"), list(LIST_PAGES.items()))
def test_a_module_switched_off_is_not_found(page, module, portal_client, org, clock):
    assert portal_client.get(page).status_code == 200
    prefs = preferences_of(org)
    prefs.disabled = [module]
    prefs.save()
    assert portal_client.get(page).status_code == 404


def test_paying_and_downloading_can_be_switched_off_separately(portal_client, org, customer, clock):
    invoice = open_invoice(customer, 1000)
    prefs = preferences_of(org)
    prefs.disabled = ["invoices.pay", "invoices.download"]
    prefs.save()
    assert portal_client.get(f"/portal/invoices/{invoice.number}/").status_code == 200
    assert portal_client.get(f"/portal/invoices/{invoice.number}/pay/").status_code == 404
    assert portal_client.get("/portal/pay/").status_code == 404
    assert portal_client.get(f"/portal/invoices/{invoice.number}/pdf/").status_code == 404
    html = portal_client.get(f"/portal/invoices/{invoice.number}/").content.decode()
    assert "Download PDF" not in html and "/pay/" not in html


def test_signed_out_visitors_are_sent_to_sign_in(org, customer, clock):
    from tests.conftest import tenant_client

    invoice = open_invoice(customer, 1000)
    response = tenant_client(org).get(f"/portal/invoices/{invoice.number}/pdf/")
    assert response.status_code == 302 and "/portal/account/login/" in response["Location"]


def test_without_an_online_gateway_there_is_no_pay_page(portal_client, customer, clock, settings):
    settings.PAYMENT_GATEWAY = "offline"
    invoice = open_invoice(customer, 1000)
    assert portal_client.get(f"/portal/invoices/{invoice.number}/pay/").status_code == 404
    assert portal_client.get("/portal/pay/").status_code == 404
    html = portal_client.get(f"/portal/invoices/{invoice.number}/").content.decode()
    assert f"/portal/invoices/{invoice.number}/pay/" not in html
