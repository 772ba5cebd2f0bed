"""A refusal reaches the customer as its message, on the page it concerns, and writes nothing."""

from portico.billing.models import StatementExport
from tests.portal.test_ledger_pages import history, text

BAD_PERIOD = "period=custom&start=2026-03-01&end=2026-02-01"


def test_a_backwards_period_on_the_statement_pdf_goes_back_to_the_form_with_its_error(
    portal_client, customer, clock
):
    history(customer, clock)
    response = portal_client.get(f"/portal/statements/pdf/?{BAD_PERIOD}", follow=True)
    assert response.redirect_chain == [(f"/portal/statements/?{BAD_PERIOD}", 302)]
    assert response["Content-Type"].startswith("text/html")
    html = text(response)
    assert "The end date must be on or after the start date." in html and "Closing balance" not in html
    assert not StatementExport.objects.exists()


def test_a_backwards_period_on_the_statement_csv_goes_back_to_the_form_with_its_error(
    portal_client, customer, clock
):
    history(customer, clock)
    response = portal_client.get(f"/portal/statements/csv/?{BAD_PERIOD}", follow=True)
    assert response.redirect_chain == [(f"/portal/statements/?{BAD_PERIOD}", 302)]
    assert response["Content-Type"].startswith("text/html")
    assert "The end date must be on or after the start date." in text(response)
