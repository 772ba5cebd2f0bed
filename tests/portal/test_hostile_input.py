"""Hostile input into every portal form never makes a server error (BRIEF: bad input is a form error or a
clear 400). The pages and forms are found structurally (`tests.portal.crawl`): every `/portal/` route of
the URL conf, each form the page renders, each field posted one at a time with hostile values while
the others keep their rendered values and the CSRF token is the page's own. Each POST runs in a
rolled-back savepoint with the session cookie restored, so one form's effect never hides another."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.http import QueryDict
from django.urls import reverse

from tests.conftest import tenant_client
from tests.portal.crawl import build_world, parse_page, portal_routes, portal_urls
from tests.portal.test_ledger_pages import CARD

HOSTILE = [
    "",
    "x" * 20000,
    "a\x00b",
    "Infinity",
    "-Infinity",
    "NaN",
    "1e999999999",
    "²",
    "-0",
    "9" * 5000,
    "9999-12-31",
    "0000-00-00",
    "Ünïcødé ✓ 日本語 \u202e",
    "' OR '1'='1' --",
    '"><script>alert(1)</script>',
    ["9999-12-31", "0001-01-01"],  # a list, by repeated keys
]

ROUTES = [name for name, _route in portal_routes()]


@pytest.fixture
def world(customer):
    return build_world(customer)


@pytest.fixture
def admin_client(org, portal_login):
    client = tenant_client(org, enforce_csrf_checks=True)
    client.force_login(portal_login, backend="portico.accounts.backends.TenantAuthenticationBackend")
    client.raise_request_exception = False
    return client


def _describe(response) -> str:
    exc = getattr(response, "exc_info", None)
    return f"{response.status_code} {exc[0].__name__}: {exc[1]}" if exc else str(response.status_code)


def _send(client, method: str, url: str, data: dict[str, list[str]]):
    """One request in a savepoint that is rolled back, the session cookie put back afterwards."""
    cookies = client.cookies
    client.cookies = type(cookies)(cookies)
    try:
        with transaction.atomic():
            if method == "post":
                query = QueryDict(mutable=True)
                for key, values in data.items():
                    query.setlist(key, values)
                response = client.post(
                    url, query.urlencode(), content_type="application/x-www-form-urlencoded"
                )
            else:
                response = client.get(url, {k: v if len(v) > 1 else v[0] for k, v in data.items()})
            transaction.set_rollback(True)
    finally:
        client.cookies = cookies
    return response


def _layout_actions(client) -> set[str]:
    """Forms of the shared layout (on every page): fuzzed once, on the page they post to."""
    html = client.get(reverse("portal:dashboard")).content.decode()
    return {form.action for form in parse_page("http://testserver/portal/", html).forms}


@pytest.mark.parametrize("route", ROUTES)
def test_hostile_values_in_every_field_of_every_form_make_no_server_error(admin_client, world, route):
    (url,) = [u for (name, _r), u in zip(portal_routes(), portal_urls(world), strict=True) if name == route]
    page = admin_client.get(url)
    assert page.status_code < 500, _describe(page)
    if page.status_code != 200 or "html" not in page.get("Content-Type", ""):
        return
    parsed = parse_page("http://testserver" + url, page.content.decode())
    layout = _layout_actions(admin_client) if route != "portal:dashboard" else set()
    failures = []
    forms = [f for f in parsed.forms if not (f.action in layout and not f.action.endswith(url))]
    # A filter's free fields may count only under one choice ("Custom dates"): try that state too.
    forms += [v for f in forms if f.method == "get" and (v := f.filled_in()) is not None]
    for form in forms:
        target = form.action.removeprefix("http://testserver")
        names = [n for n in dict.fromkeys(form.names) if n != "csrfmiddlewaretoken"]
        for name in names or [None]:
            for value in HOSTILE if name else [""]:
                response = _send(admin_client, form.method, target, form.data(name, value))
                if response.status_code >= 500:
                    failures.append((form.method, target, name, repr(value)[:40], _describe(response)))
    if "html" in page.get("Content-Type", ""):
        for name in sorted(parsed.link_parameters):  # ?page=, ?notes_page=, filters kept in links
            for value in HOSTILE:
                response = _send(
                    admin_client, "get", url, {name: value if isinstance(value, list) else [value]}
                )
                if response.status_code >= 500:
                    failures.append(("get", url, name, repr(value)[:40], _describe(response)))
    assert not failures, "\n".join(map(str, failures))


def test_the_walk_reaches_the_pages_and_forms_that_matter(admin_client, world):
    """The crawl is not vacuous: the pay form and the statement filters are among those it fuzzes."""
    urls = portal_urls(world)
    assert f"/portal/invoices/{world.open_invoice.number}/pay/" in urls
    assert f"/portal/payments/{world.payment.number}/receipt/" in urls
    assert f"/portal/profile/contacts/{world.colleague.public_id}/" in urls
    pay_url = f"/portal/invoices/{world.open_invoice.number}/pay/"
    forms = parse_page("http://testserver" + pay_url, admin_client.get(pay_url).content.decode()).forms
    posted = [f for f in forms if f.method == "post" and f.action.endswith(pay_url)]
    assert posted and {"amount", "expected_total", "form_token", *CARD} <= set(posted[0].names)
    statements = admin_client.get("/portal/statements/").content.decode()
    (filters,) = [
        f for f in parse_page("http://testserver/portal/statements/", statements).forms if f.method == "get"
    ]
    assert {"period", "start", "end"} <= set(filters.names)


@pytest.mark.parametrize(
    "path", ["/portal/statements/", "/portal/statements/pdf/", "/portal/statements/csv/"]
)
@pytest.mark.parametrize(
    ("start", "end"),
    [("2026-01-01", "9999-12-31"), ("0001-01-01", "2026-01-01"), ("9999-12-31", "9999-12-31")],
)
def test_a_statement_period_at_the_ends_of_the_calendar_is_a_form_error(
    admin_client, world, path, start, end
):
    response = admin_client.get(path, {"period": "custom", "start": start, "end": end}, follow=True)
    assert response.status_code == 200
    assert "Choose a date between 1900-01-01 and 2999-12-31." in response.content.decode()
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("charset", ["utf-16", "utf-32", "x-no-such-charset", "latin-1"])
def test_a_form_in_another_charset_is_refused_with_400(admin_client, world, charset):
    before = world.colleague.first_name
    body = f"first_name=Mallory&last_name=X&email={world.colleague.email}".encode(
        charset if charset != "x-no-such-charset" else "utf-8"
    )
    response = admin_client.generic(
        "POST",
        f"/portal/profile/contacts/{world.colleague.public_id}/",
        body,
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
    )
    assert response.status_code == 400
    assert "Forms must be sent as UTF-8" in response.content.decode()
    world.colleague.refresh_from_db()
    assert world.colleague.first_name == before


def test_a_form_that_names_utf_8_is_read(admin_client, world):
    page = admin_client.get("/portal/statements/")
    response = admin_client.generic(
        "GET",
        "/portal/statements/?period=custom&start=2026-01-01&end=2026-02-01",
        b"",
        content_type="application/x-www-form-urlencoded; charset=UTF-8",
    )
    assert page.status_code == response.status_code == 200


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_nul_character_in_any_field_is_refused_with_400(admin_client, world, method):
    url = f"/portal/invoices/{world.open_invoice.number}/pay/"
    response = getattr(admin_client, method)(url, {"form_token": "a\x00b", "invoices": "INV\x00"})
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
