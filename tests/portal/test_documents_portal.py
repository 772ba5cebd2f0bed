"""Shared documents and share links in the portal: a customer lists and downloads what is shared with
them (every download audited, never rendered inline), makes expiring links to their documents and
invoices, sees and revokes them; a link opens on the organization's host until it closes."""

from __future__ import annotations

import re

import pytest
from django.utils.html import escape

from portico.core import tenancy
from portico.core.audit import Actor
from portico.core.models import AuditEvent
from portico.engagement.models import ShareLink
from portico.portal import services as portal_services
from tests.billing.factories import open_invoice
from tests.conftest import tenant_client
from tests.engagement.factories_documents import PDF, share_link, shared_document
from tests.factories import ContactFactory
from tests.portal.conftest import client_for

ACTOR = Actor.system("tests")
XSS = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'


def nav(response) -> str:
    html = response.content.decode()
    return html[html.index('<nav class="sidenav"') : html.index("</nav>")]


def assert_attachment(response):
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; ")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "html" not in response["Content-Type"]


@pytest.fixture
def docs(org, customer, outsider_customer):
    return {
        "all": shared_document(org, title="Price list 2026"),
        "mine": shared_document(org, title="Acme contract", customer=customer),
        "theirs": shared_document(org, title="Bluebird contract", customer=outsider_customer),
    }


def test_the_list_shows_the_documents_for_all_and_for_this_customer_only(portal_client, docs):
    response = portal_client.get("/portal/documents/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Price list 2026" in html and "Acme contract" in html
    assert "Bluebird contract" not in html
    assert 'href="/portal/documents/"' in nav(response)


def test_a_download_is_an_attachment_and_is_audited_with_the_contact(portal_client, contact, docs):
    response = portal_client.get(f"/portal/documents/{docs['mine'].public_id}/")
    assert_attachment(response)
    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Acme contract.pdf"'
    event = AuditEvent.all_tenants.get(action="document.downloaded")
    assert event.object_id == str(docs["mine"].pk)
    assert event.data["contact"] == contact.pk and event.data["contact_email"] == contact.email
    assert event.customer_id == contact.customer_id and event.actor_kind == "portal"
    portal_client.get(f"/portal/documents/{docs['all'].public_id}/")
    assert AuditEvent.all_tenants.filter(action="document.downloaded").count() == 2


def test_another_customers_or_organizations_document_is_not_found(org, other_org, portal_client, docs):
    assert portal_client.get(f"/portal/documents/{docs['theirs'].public_id}/").status_code == 404
    with tenancy.tenant(other_org):
        northwind = shared_document(other_org, title="Northwind list")
    assert portal_client.get(f"/portal/documents/{northwind.public_id}/").status_code == 404
    assert portal_client.get("/portal/documents/nosuchdocument/").status_code == 404
    assert not AuditEvent.all_tenants.filter(action="document.downloaded").exists()


def test_a_script_in_a_document_title_is_inert(org, portal_client):
    document = shared_document(org, title=XSS, name=XSS + ".pdf")
    html = portal_client.get("/portal/documents/").content.decode()
    assert XSS not in html and "<img src=x" not in html and "<script>alert" not in html
    assert escape(XSS) in html
    response = portal_client.get(f"/portal/documents/{document.public_id}/")
    assert_attachment(response)
    assert "<" not in response["Content-Disposition"]


def test_a_text_file_named_html_downloads_as_text_never_inline(org, portal_client):
    document = shared_document(org, title="page.html", content=b"Just text, no markup.", name="page.html")
    assert document.content_type == "text/plain"
    response = portal_client.get(f"/portal/documents/{document.public_id}/")
    assert_attachment(response)
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"] == 'attachment; filename="page.html.txt"'


def test_a_real_html_upload_is_refused_and_would_never_be_served_inline(org, portal_client):
    from portico.engagement.errors_documents import DocumentRefused

    with pytest.raises(DocumentRefused):
        shared_document(org, content=b"<html><script>alert(1)</script></html>", name="x.pdf")
    # a row whose stored type is unknown (one written around the services) leaves as an octet stream
    document = shared_document(org, title="legacy")
    type(document).all_tenants.filter(pk=document.pk).update(content_type="text/html")
    response = portal_client.get(f"/portal/documents/{document.public_id}/")
    assert_attachment(response)
    assert response["Content-Type"] == "application/octet-stream"


def test_hostile_names_download_under_a_safe_header(org, portal_client):
    for title in ("../../etc/passwd", 'a"b;c', "Über — 2026 ✓", "x" * 200):
        document = shared_document(org, title=title)
        response = portal_client.get(f"/portal/documents/{document.public_id}/")
        assert_attachment(response)
        header = response["Content-Disposition"]
        assert "/" not in header.split("filename*=")[0] and '"b' not in header


# -- share links ------------------------------------------------------------------------------------------


def make_link(client, target: str, days: int = 7):
    response = client.post("/portal/documents/links/", {"target": target, "days": days})
    assert response.status_code == 200, response.content.decode()[:2000]
    [url] = re.findall(r'id="new-link-url" readonly value="([^"]+)"', response.content.decode())
    return url


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_a_contact_makes_a_link_to_a_document_that_opens_signed_out_and_is_audited(org, portal_client, docs):
    url = make_link(portal_client, f"doc:{docs['mine'].public_id}")
    assert url.startswith(org.public_url("/s/"))
    link = ShareLink.all_tenants.get()
    assert link.customer == docs["mine"].customer and link.created_by_label == "maria@acme.example"
    anonymous = tenant_client(org)
    response = anonymous.get(path_of(url))
    assert_attachment(response)
    assert response.content == PDF
    assert AuditEvent.all_tenants.filter(action="share_link.opened", object_id=str(link.pk)).count() == 1
    link.refresh_from_db()
    assert link.open_count == 1
    page = portal_client.get("/portal/documents/").content.decode()
    assert "Acme contract" in page and f"/portal/documents/links/{link.public_id}/revoke/" in page


def test_a_link_to_an_invoice_serves_its_pdf(org, customer, portal_client):
    invoice = open_invoice(customer, 12000)
    url = make_link(portal_client, f"inv:{invoice.number}")
    response = tenant_client(org).get(path_of(url))
    assert_attachment(response)
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'


def test_another_customers_document_or_invoice_cannot_be_linked(org, portal_client, outsider_customer, docs):
    theirs = open_invoice(outsider_customer, 5000)
    for target in (f"doc:{docs['theirs'].public_id}", f"inv:{theirs.number}", "doc:nope", "junk"):
        response = portal_client.post("/portal/documents/links/", {"target": target, "days": 7})
        assert response.status_code == 400
        assert "Choose one of your documents or invoices" in response.content.decode()
    assert (
        portal_client.post(
            "/portal/documents/links/", {"target": f"doc:{docs['mine'].public_id}", "days": 5000}
        ).status_code
        == 400
    )
    assert not ShareLink.all_tenants.exists()


def test_an_expired_or_revoked_link_answers_410_and_is_audited(org, clock, portal_client, docs):
    url = make_link(portal_client, f"doc:{docs['mine'].public_id}", days=1)
    link = ShareLink.all_tenants.get()
    anonymous = tenant_client(org)
    clock.advance(days=1, seconds=1)
    response = anonymous.get(path_of(url))
    assert response.status_code == 410 and b"This link has closed" in response.content
    assert AuditEvent.all_tenants.filter(action="share_link.refused", object_id=str(link.pk)).exists()
    assert link.public_id not in portal_client.get("/portal/documents/").content.decode()  # not active

    url = make_link(portal_client, f"doc:{docs['all'].public_id}")
    fresh = ShareLink.all_tenants.exclude(pk=link.pk).get()
    response = portal_client.post(f"/portal/documents/links/{fresh.public_id}/revoke/")
    assert response.status_code == 302
    assert anonymous.get(path_of(url)).status_code == 410
    assert AuditEvent.all_tenants.filter(action="share_link.revoked", object_id=str(fresh.pk)).exists()
    assert portal_client.post(f"/portal/documents/links/{fresh.public_id}/revoke/").status_code == 404


def test_a_link_is_unknown_on_another_host_or_with_another_token(org, other_org, portal_client, docs):
    url = make_link(portal_client, f"doc:{docs['mine'].public_id}")
    assert tenant_client(other_org).get(path_of(url)).status_code == 404
    assert tenant_client(org).get(path_of(url) + "x").status_code == 404
    assert tenant_client(org).get("/s/").status_code == 404


def test_another_customer_cannot_see_or_revoke_a_link(org, outsider_customer, portal_client, docs):
    make_link(portal_client, f"doc:{docs['all'].public_id}")
    link = ShareLink.all_tenants.get()
    bluebird = client_for(ContactFactory(customer=outsider_customer, email="bo@bluebird.example"))
    assert link.public_id not in bluebird.get("/portal/documents/").content.decode()
    assert bluebird.post(f"/portal/documents/links/{link.public_id}/revoke/").status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None


def test_a_viewer_may_download_but_not_share(org, customer, viewer_client, docs):
    page = viewer_client.get("/portal/documents/").content.decode()
    assert "Acme contract" in page and "Make a share link" not in page
    response = viewer_client.post(
        "/portal/documents/links/", {"target": f"doc:{docs['mine'].public_id}", "days": 7}
    )
    assert response.status_code == 403
    assert not ShareLink.all_tenants.exists()


def test_switching_documents_off_refuses_the_pages_hides_the_menu_and_closes_the_links(
    org, portal_client, docs
):
    url = make_link(portal_client, f"doc:{docs['mine'].public_id}")
    staff_link = share_link(org, document=docs["all"])
    portal_services.set_portal_preferences(organization=org, disabled=["documents"], enabled=[], actor=ACTOR)
    response = portal_client.get("/portal/")
    assert "/portal/documents/" not in nav(response)
    assert portal_client.get("/portal/documents/").status_code == 404
    assert portal_client.get(f"/portal/documents/{docs['mine'].public_id}/").status_code == 404
    assert portal_client.post("/portal/documents/links/", {"target": "x", "days": 7}).status_code == 404
    anonymous = tenant_client(org)
    assert anonymous.get(path_of(url)).status_code == 404
    assert anonymous.get(f"/s/{staff_link.token}").status_code == 404
    assert not AuditEvent.all_tenants.filter(action="document.downloaded").exists()
    portal_services.set_portal_preferences(organization=org, disabled=[], enabled=[], actor=ACTOR)
    assert anonymous.get(path_of(url)).status_code == 200


def test_switching_sharing_off_keeps_the_documents_but_closes_the_contacts_links(org, portal_client, docs):
    url = make_link(portal_client, f"doc:{docs['mine'].public_id}")
    staff_link = share_link(org, document=docs["all"])
    portal_services.set_portal_preferences(
        organization=org, disabled=["documents.share"], enabled=[], actor=ACTOR
    )
    page = portal_client.get("/portal/documents/").content.decode()
    assert "Acme contract" in page and "Make a share link" not in page
    anonymous = tenant_client(org)
    assert anonymous.get(path_of(url)).status_code == 404
    assert anonymous.get(f"/s/{staff_link.token}").status_code == 200  # staff's link stays open


def test_a_document_whose_file_the_storage_lost_is_not_found_rather_than_an_error(org, portal_client):
    document = shared_document(org)
    document.file.storage.delete(document.file.name)
    assert portal_client.get(f"/portal/documents/{document.public_id}/").status_code == 404
