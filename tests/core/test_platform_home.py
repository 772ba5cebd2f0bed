"""The platform's own address (what `make run` prints, http://127.0.0.1:8000) links to the real
portal and console addresses of the demo organizations, and every host serves a favicon."""

import re
from io import StringIO
from urllib.parse import urlparse

from django.core.management import call_command
from django.test import Client

from portico.demo.loader import load_demo


def links(html: str) -> list[str]:
    return re.findall(r'href="(http[^"]+)"', html)


def test_the_platform_page_links_each_demo_portal_and_console_on_its_own_host(db):
    load_demo()
    html = Client(HTTP_HOST="127.0.0.1:8000").get("/").content.decode()
    assert links(html) == [
        "http://northwind.localhost:8000/portal/",
        "http://northwind.localhost:8000/console/",
        "http://renotech.localhost:8000/portal/",
        "http://renotech.localhost:8000/console/",
    ]
    assert "renotech.127.0.0.1" not in html
    names = {"renotech": "RenoTech", "northwind": "Northwind"}
    for link in links(html):
        url = urlparse(link)
        response = Client(HTTP_HOST=url.netloc).get(url.path, follow=True)  # to that tenant's sign-in
        assert response.status_code == 200 and response.redirect_chain
        assert names[url.hostname.split(".")[0]] in response.content.decode()


def test_the_platform_page_honours_the_public_port_and_base_domain(db, settings):
    load_demo()
    settings.PORTICO_PUBLIC_PORT = 8443
    settings.PORTICO_BASE_DOMAIN = "portico.test"
    settings.PORTICO_PLATFORM_HOSTS = {"portico.test", "127.0.0.1"}
    html = Client(HTTP_HOST="127.0.0.1:8000").get("/").content.decode()
    assert "http://renotech.portico.test:8443/portal/" in links(html)
    assert "<slug>.portico.test:8443" in html.replace("&lt;", "<").replace("&gt;", ">")


def test_the_platform_page_lists_no_tenant_when_there_is_no_demo(db):
    from tests.factories import OrganizationFactory

    OrganizationFactory(name="Some Business", slug="somebusiness")
    html = Client(HTTP_HOST="127.0.0.1:8000").get("/").content.decode()
    assert links(html) == [] and "somebusiness" not in html


def test_the_demo_command_prints_the_real_portal_and_console_addresses(db, settings):
    settings.PORTICO_BASE_DOMAIN = "localhost"
    out = StringIO()
    call_command("demo", "--port", "8123", stdout=out)
    printed = out.getvalue()
    for slug in ("renotech", "northwind"):
        assert f"portal:  http://{slug}.localhost:8123/portal/" in printed
        assert f"console: http://{slug}.localhost:8123/console/" in printed
    assert "maria@acme.example / portico-demo" in printed


def test_every_host_serves_a_favicon(db, org):
    for host in ("127.0.0.1:8000", org.host, "unknown.example"):
        response = Client(HTTP_HOST=host).get("/favicon.ico")
        assert response.status_code == 200 and response["Content-Type"] == "image/x-icon"
        assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # the ICO header


def test_pages_link_the_favicon(db):
    html = Client(HTTP_HOST="127.0.0.1:8000").get("/").content.decode()
    assert re.search(r'<link rel="icon" href="/static/portico/favicon\.svg"', html)
