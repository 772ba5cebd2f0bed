"""Long lists: counted up to a cap, paged past it without a total, never a wrong page."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from portico.billing.models import BillingSettings, Invoice
from portico.core import clock as clock_module
from portico.portal import paging
from portico.portal.paging import CountCappedPaginator
from tests.perf.bulk import bulk_ledger


def numbers_on(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', html)


@pytest.fixture
def invoices(customer, clock):
    bulk_ledger(customer, 53, end=clock_module.today("America/Chicago"), lines_per_invoice=1)
    return Invoice.objects.filter(customer=customer).order_by("issue_date", "id")


def test_up_to_the_cap_the_count_and_pages_are_exact(invoices):
    paginator = CountCappedPaginator(invoices, 5, cap=53)
    assert not paginator.capped
    assert (paginator.count, paginator.num_pages) == (53, 11)
    assert len(paginator.get_page(11).object_list) == 3


def test_past_the_cap_every_page_is_found_and_the_last_one_says_so(invoices):
    everything = list(invoices)
    paginator = CountCappedPaginator(invoices, 5, cap=10)
    assert paginator.capped
    seen = []
    number = 1
    while True:
        page = paginator.get_page(number)
        assert page.number == number
        seen += page.object_list
        if not page.has_next():
            break
        assert page.next_page_number() == number + 1
        number += 1
    assert number == 11 and seen == everything
    assert paginator.get_page(1).has_previous() is False


def test_past_the_cap_a_page_beyond_the_end_or_not_a_number_lands_on_a_real_page(invoices):
    paginator = CountCappedPaginator(invoices, 5, cap=10)
    last = paginator.get_page(99)
    assert last.number == 11 and len(last.object_list) == 3 and not last.has_next()
    assert paginator.get_page("x").number == 1
    assert paginator.get_page(0).number == 11  # as Django's paginator: below range → the last page


def test_the_invoice_list_says_more_than_the_cap_and_pages_without_a_total(
    portal_client, customer, invoices, monkeypatch
):
    monkeypatch.setattr(paging, "COUNT_CAP", 20)
    first = portal_client.get("/portal/invoices/?sort=issue_date").content.decode()
    assert "More than 20 invoices" in first
    assert "Page 1</span>" in first and " of " not in re.search(r"Page 1[^<]*<", first).group(0)
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = portal_client.get("/portal/invoices/?sort=issue_date&page=2").content.decode()
    assert 'rel="next"' in second and 'rel="prev"' in second and "Page 2</span>" in second
    third = portal_client.get("/portal/invoices/?sort=issue_date&page=3").content.decode()
    assert 'rel="next"' not in third and 'rel="prev"' in third
    expected = [invoice.number for invoice in invoices]
    assert numbers_on(first) + numbers_on(second) + numbers_on(third) == expected


def test_each_row_links_to_its_invoice_as_reverse_would(portal_client, customer, clock):
    BillingSettings.objects.create(organization=customer.organization, invoice_prefix="R.D_2026-")
    bulk_ledger(customer, 3, end=clock_module.today("America/Chicago"), lines_per_invoice=1, tag="X-")
    html = portal_client.get("/portal/invoices/").content.decode()
    links = re.findall(r'<th scope="row"><a href="([^"]+)">([^<]+)</a></th>', html)
    assert len(links) == 3
    for href, number in links:
        assert href == reverse("portal:invoice", args=[number])
        assert portal_client.get(href).status_code == 200


@pytest.mark.parametrize("prefix", ["INV/", "INV ", "R&D-", "INV?"])
def test_a_number_prefix_that_would_not_survive_in_an_address_is_refused(org, prefix):
    settings = BillingSettings(organization=org, invoice_prefix=prefix)
    with pytest.raises(ValidationError) as refused:
        settings.full_clean()
    assert "letters, digits, dashes" in str(refused.value.message_dict["invoice_prefix"])


def test_the_list_counts_at_most_the_cap_whatever_the_number_of_invoices(
    portal_client, customer, clock, monkeypatch
):
    """The count is bounded: with a cap of 20 the database is asked for 21 rows at most."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(paging, "COUNT_CAP", 20)
    bulk_ledger(customer, 40, end=clock_module.today("America/Chicago"), lines_per_invoice=1)
    with CaptureQueriesContext(connection) as captured:
        portal_client.get("/portal/invoices/")
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and re.search(r"LIMIT 21\b", counts[0]), counts
