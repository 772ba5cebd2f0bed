"""Branding: the brand colour is always readable (WCAG AA), the portal shows the name, headline,
logo and favicon the business set, and hostile branding renders inert."""

from __future__ import annotations

import itertools
import re

import pytest
from django.core.files.base import ContentFile

from portico.accounts.models import StaffRole
from portico.core.branding import AA, WHITE, brand_of, contrast, contrast_notice, readable_on_white, text_on
from portico.core.models import Organization
from tests.conftest import tenant_client
from tests.factories import staff_user

BACKEND = "portico.accounts.backends.TenantAuthenticationBackend"


def png(width=120, height=40) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (11, 110, 79)).save(out, "PNG")
    return out.getvalue()


PALE_YELLOW = "#ffeb3b"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _form_data(form) -> dict:
    """The change form's current values, as a browser would post them back (no file re-uploaded)."""
    data = {}
    for name, value in form.initial.items():
        if name in form.fields and not hasattr(value, "field"):
            data[name] = "" if value is None else value
    return data


def _owner_on_the_organization_page(org):
    client = tenant_client(org)
    client.force_login(staff_user(org, email="owner@renotech.example", role=StaffRole.OWNER), backend=BACKEND)
    url = f"/console/core/organization/{org.pk}/change/"
    return client, url, _form_data(client.get(url).context["adminform"].form)


def test_contrast_ratios_match_the_wcag_definition():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1.0)
    # WCAG's well-known pair: #767676 is the lightest grey that passes AA on white, #777777 fails
    assert contrast("#767676", WHITE) >= AA > contrast("#777777", WHITE)


def test_every_colour_becomes_readable_on_white_and_a_readable_one_is_kept_as_chosen():
    steps = ("00", "40", "80", "c0", "ff")
    for r, g, b in itertools.product(steps, repeat=3):
        colour = f"#{r}{g}{b}"
        used = readable_on_white(colour)
        assert contrast(used, WHITE) >= AA, colour
        assert contrast(used, text_on(used)) >= AA, colour
        if contrast(colour, WHITE) >= AA:
            assert used == colour and contrast_notice(colour) is None
        else:
            assert contrast_notice(colour) is not None


def test_the_portal_uses_the_readable_colour_the_headline_logo_and_favicon(org, portal_client, media):
    org.brand_colour = PALE_YELLOW
    org.portal_title = "RenoTech Customer Portal"
    org.portal_headline = "Invoices, payments and projects in one place"
    org.logo.save("logo.png", ContentFile(png()), save=False)
    org.favicon.save("favicon.png", ContentFile(png(32, 32)), save=False)
    org.save()
    readable = readable_on_white(PALE_YELLOW)
    assert readable != PALE_YELLOW
    page = portal_client.get("/portal/").content.decode()
    assert f"--brand: {readable};" in page and PALE_YELLOW not in page
    assert "Invoices, payments and projects in one place" in page
    # on the page's own host (a custom domain too); absolute (for emails) in `logo_url`
    assert f'src="{brand_of(org).logo_path}"' in page and brand_of(org).logo_path.startswith("/brand/logo?v=")
    assert brand_of(org).logo_url == org.public_url(brand_of(org).logo_path)
    favicon = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    assert favicon == brand_of(org).favicon_path and favicon.startswith("/brand/favicon?v=")
    sign_in = tenant_client(org).get("/portal/account/login/").content.decode()
    assert "Invoices, payments and projects in one place" in sign_in and f"--brand: {readable};" in sign_in


def test_without_branding_the_portal_falls_back_to_the_platform_favicon_and_the_name(org, portal_client):
    page = portal_client.get("/portal/").content.decode()
    assert 'href="/static/portico/favicon.svg"' in page or "favicon.svg" in page
    assert 'class="brand-headline"' not in page
    assert org.name in page


def test_a_hostile_portal_name_and_headline_render_inert(org, portal_client):
    org.portal_title = '<script>alert("name")</script>'
    org.portal_headline = '<img src=x onerror=alert("headline")>'
    org.save()
    for client, url in ((portal_client, "/portal/"), (tenant_client(org), "/portal/account/login/")):
        page = client.get(url).content.decode()
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;" in page


def test_the_console_keeps_the_chosen_colour_and_says_what_the_portal_uses_instead(org):
    client, url, data = _owner_on_the_organization_page(org)
    data |= {"brand_colour": PALE_YELLOW, "portal_headline": "Welcome"}
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "below the 4.5:1" in text and readable_on_white(PALE_YELLOW) in text
    stored = Organization.objects.get(pk=org.pk)
    assert stored.brand_colour == PALE_YELLOW and stored.portal_headline == "Welcome"
    assert readable_on_white(PALE_YELLOW) in client.get(url).content.decode()  # the "as used" line


def test_the_console_refuses_a_colour_that_is_not_one(org):
    client, url, data = _owner_on_the_organization_page(org)
    data["brand_colour"] = "red;}a{"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Use a colour like #1f6feb." in response.context["adminform"].form.errors["brand_colour"]
    assert Organization.objects.get(pk=org.pk).brand_colour == "#1f5fbf"


# -- the logo and favicon files ---------------------------------------------------------------------


def _upload(org, field, content, name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from portico.accounts.models import User

    client = tenant_client(org)
    owner = User.all_tenants.filter(organization=org, email="owner@renotech.example").first()
    owner = owner or staff_user(org, email="owner@renotech.example", role=StaffRole.OWNER)
    client.force_login(owner, backend=BACKEND)
    url = f"/console/core/organization/{org.pk}/change/"
    data = _form_data(client.get(url).context["adminform"].form)
    return client.post(url, {**data, field: SimpleUploadedFile(name, content)}), client


@pytest.mark.parametrize(
    "content, name",
    [
        (b"<html><script>alert(1)</script></html>", "logo.png"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "logo.svg"),
        (b"%PDF-1.4 not a logo", "logo.pdf"),
    ],
    ids=["html-named-png", "svg", "pdf"],
)
def test_an_upload_that_is_not_an_image_is_refused_with_a_message_and_nothing_is_kept(
    org, media, content, name
):
    response, _client = _upload(org, "logo", content, name)
    assert response.status_code == 200
    assert "The logo must be an image (GIF, JPEG, PNG, WEBP)" in response.content.decode()
    assert not Organization.objects.get(pk=org.pk).logo


def test_the_logo_and_favicon_are_served_from_the_organizations_host_typed_by_their_content(
    org, other_org, media, portal_client
):
    response, _client = _upload(org, "logo", png(), "logo.gif")  # a PNG, whatever its name says
    assert response.status_code == 302
    org = Organization.objects.get(pk=org.pk)
    served = tenant_client(org).get("/brand/logo")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff" and b"".join(served.streaming_content) == png()
    assert tenant_client(other_org).get("/brand/logo").status_code == 404  # theirs, and they have none
    assert tenant_client(org).get("/brand/invoices").status_code == 404  # nothing else of the storage
    assert tenant_client(org).get(f"/media/{org.logo.name}").status_code == 404

    # the platform's favicon until the organization has its own
    assert tenant_client(org).get("/favicon.ico")["Content-Type"] == "image/x-icon"
    response, _client = _upload(org, "favicon", png(32, 32), "favicon.png")
    assert response.status_code == 302
    assert tenant_client(org).get("/favicon.ico")["Content-Type"] == "image/png"


def test_a_new_logo_gets_a_new_address_so_no_cache_keeps_the_old_one(org, media):
    _upload(org, "logo", png(), "logo.png")
    first = brand_of(Organization.objects.get(pk=org.pk)).logo_url
    _upload(org, "logo", png(200, 50), "logo.png")
    second = brand_of(Organization.objects.get(pk=org.pk)).logo_url
    assert first != second and "/brand/logo?v=" in second


def test_a_stored_file_that_is_not_an_image_is_never_served(org, media):
    org.logo.save("logo.png", ContentFile(b"<html><script>alert(1)</script></html>"), save=True)
    assert tenant_client(org).get("/brand/logo").status_code == 404
