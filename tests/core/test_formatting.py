"""One date format for pages and documents: Babel's medium format in the organization's locale."""

import datetime as dt

from django.template import Context, Template

from portico.core import tenancy
from portico.core.formatting import local_date, local_datetime


def render(source: str, **context) -> str:
    return Template("{% load dates %}" + source).render(Context(context))


def test_dates_follow_the_organizations_locale(org):
    day = dt.date(2026, 12, 8)
    for locale, expected in (("en_US", "Dec 8, 2026"), ("en_GB", "8 Dec 2026"), ("de_DE", "08.12.2026")):
        org.locale = locale
        with tenancy.for_tenant(org):
            assert render("{{ day|local_date }}", day=day) == expected
    assert render('{{ day|local_date:"fr_FR" }}', day=day) == "8 déc. 2026"


def test_a_moment_is_shown_in_the_organizations_zone_and_locale(org):
    moment = dt.datetime(2026, 12, 1, 3, 30, tzinfo=dt.UTC)  # still Nov 30 in Chicago
    org.time_zone, org.locale = "America/Chicago", "en_US"
    with tenancy.for_tenant(org):
        assert local_date(moment) == "Nov 30, 2026"
        assert local_datetime(moment) == "Nov 30, 2026, 9:30\u202fPM" or local_datetime(moment) == (
            "Nov 30, 2026, 9:30 PM"
        )
    org.time_zone, org.locale = "Europe/London", "en_GB"
    with tenancy.for_tenant(org):
        assert local_datetime(moment) == "1 Dec 2026, 03:30"


def test_empty_and_unknown_values_do_not_break_a_page(org):
    assert render("[{{ none|local_date }}]", none=None) == "[]"
    org.locale = "xx_NOWHERE"
    with tenancy.for_tenant(org):
        assert local_date(dt.date(2026, 1, 2)) == "Jan 2, 2026"
