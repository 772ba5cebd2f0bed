"""Addresses laid out as each country's post expects, the country named (not coded) and left off
for a domestic letter."""

import pytest

from portico.customers.addresses import address_lines
from portico.customers.models import Address

SPRINGFIELD = {"line1": "100 Main Street", "city": "Springfield", "region": "IL", "postal_code": "62701"}


@pytest.mark.parametrize(
    ("address", "home", "expected"),
    [
        ({**SPRINGFIELD, "country": "US"}, "US", ["100 Main Street", "Springfield, IL 62701"]),
        (
            {**SPRINGFIELD, "country": "US"},
            "GB",
            ["100 Main Street", "Springfield, IL 62701", "United States"],
        ),
        (
            {
                "line1": "350 Bay St",
                "city": "Toronto",
                "region": "ON",
                "postal_code": "M5H 2S6",
                "country": "CA",
            },
            "US",
            ["350 Bay St", "Toronto, ON M5H 2S6", "Canada"],
        ),
        (
            {"line1": "221 Deansgate", "city": "Manchester", "postal_code": "M3 4EN", "country": "GB"},
            "GB",
            ["221 Deansgate", "Manchester", "M3 4EN"],
        ),
        (
            {"line1": "Hauptstraße 5", "city": "Berlin", "postal_code": "10115", "country": "DE"},
            "US",
            ["Hauptstraße 5", "10115 Berlin", "Germany"],
        ),
        (
            {"line1": "Somewhere 1", "city": "Springfield", "postal_code": "62701"},
            "US",
            ["Somewhere 1", "62701 Springfield"],
        ),
        ({}, "US", []),
    ],
)
def test_addresses_follow_their_countrys_layout(address, home, expected):
    assert address_lines(address, home_country=home, locale="en_US") == expected


def test_the_country_is_named_in_the_readers_language():
    assert address_lines({**SPRINGFIELD, "country": "us"}, home_country="DE", locale="de_DE")[-1] == (
        "Vereinigte Staaten"
    )


def test_a_customers_address_object_lays_out_the_same_way():
    address = Address(**SPRINGFIELD, country="US")
    assert address.lines(home_country="US") == ["100 Main Street", "Springfield, IL 62701"]
    assert address.lines(home_country="FR")[-1] == "United States"


def test_the_country_list_renders_as_one_select_that_keeps_the_chosen_country_and_escapes_labels():
    from portico.core.formfields import LongSelect

    html = LongSelect(choices=[("", "—"), ("DE", "Germany"), ("X", '<b>"x"</b>')]).render(
        "billing_country", "DE", attrs={"id": "id_billing_country", "aria-invalid": "true"}
    )
    assert html.startswith('<select name="billing_country" aria-invalid="true" id="id_billing_country">')
    assert '<option value="DE" selected>Germany</option>' in html
    assert '<option value="">—</option>' in html
    assert "&lt;b&gt;&quot;x&quot;&lt;/b&gt;" in html and "<b>" not in html
