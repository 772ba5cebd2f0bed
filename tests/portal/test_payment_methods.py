"""The customer's saved cards in the portal (test gateway): list, add, make default, remove, replace."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from portico.core import tenancy
from portico.core.audit import Actor
from portico.core.models import AuditEvent
from portico.payments import methods
from portico.payments.models import PaymentMethod
from portico.portal import services as portal_services
from tests.billing.factories import ACTOR
from tests.conftest import tenant_client
from tests.factories import PASSWORD, ContactFactory, CustomerFactory, portal_user
from tests.portal.crawl import portal_routes, saved_card
from tests.portal.test_hostile_input import HOSTILE

CARD = {
    "name": "Maria Lopez",
    "number": "4242 4242 4242 4242",
    "exp_month": "12",
    "exp_year": "2030",
    "cvc": "123",
}


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def reauthenticated(client):
    response = client.post("/portal/account/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


@pytest.fixture
def manager(portal_client):
    """Maria (portal admin), who confirmed her password a moment ago."""
    return reauthenticated(portal_client)


def actions(org, action):
    return AuditEvent.all_tenants.filter(organization=org, action=action)


# -- the list --------------------------------------------------------------------------------------------


def test_the_list_shows_brand_last4_expiry_holder_default_and_expiry_badges(portal_client, customer, clock):
    default = saved_card(customer)
    soon = saved_card(customer, "5555 5555 5555 4444", exp_year=2026)  # 12/2026: not soon yet
    PaymentMethod.objects.filter(pk=soon.pk).update(exp_month=4)  # 04/2026, seen on 2026-03-10
    expired = saved_card(customer, "6011 1111 1111 1117")
    PaymentMethod.objects.filter(pk=expired.pk).update(exp_month=1, exp_year=2026)

    html = text(portal_client.get("/portal/payment-methods/"))
    assert "Visa •••• 4242" in html and "12/2030" in html and "Maria Lopez" in html
    first = html.index(f'id="method-{default.public_id}"')
    assert "Default" in html[first : html.index(f'id="method-{soon.public_id}"')]
    soon_row = html[html.index(f'id="method-{soon.public_id}"') :]
    assert "Mastercard •••• 4444" in soon_row and "04/2026" in soon_row
    assert "Expires soon" in soon_row.split("</li>")[0]
    expired_row = html[html.index(f'id="method-{expired.public_id}"') :].split("</li>")[0]
    assert (
        "Discover •••• 1117" in expired_row and "Expired" in expired_row and "Expires soon" not in expired_row
    )
    assert f"/portal/payment-methods/{soon.public_id}/replace/" in html
    assert f"/portal/payment-methods/{expired.public_id}/replace/" in html
    assert f"/portal/payment-methods/{default.public_id}/replace/" not in html
    assert "Payment methods" in text(portal_client.get("/portal/"))  # the nav entry


def test_viewers_see_the_cards_but_cannot_change_them(customer, clock):
    saved_card(customer)
    viewer = tenant_client(customer.organization)
    contact = ContactFactory(customer=customer, email="vera@acme.example", portal_role="viewer")
    viewer.force_login(portal_user(contact), backend="portico.accounts.backends.TenantAuthenticationBackend")
    html = text(viewer.get("/portal/payment-methods/"))
    assert "Visa •••• 4242" in html and "Add a card" not in html and "Remove" not in html
    assert viewer.get("/portal/payment-methods/add/").status_code == 403


def test_a_business_that_switches_payment_methods_off_has_no_such_pages(portal_client, org, customer, clock):
    method = saved_card(customer)
    portal_services.set_portal_preferences(
        organization=org, disabled=["payment_methods"], enabled=[], actor=ACTOR
    )
    assert portal_client.get("/portal/payment-methods/").status_code == 404
    assert portal_client.get(f"/portal/payment-methods/{method.public_id}/remove/").status_code == 404
    assert "/portal/payment-methods/" not in portal_client.get("/portal/").content.decode()


# -- adding -----------------------------------------------------------------------------------------------


def test_adding_a_card_asks_for_the_password_first_and_never_keeps_the_card_for_later(
    portal_client, customer, clock
):
    page = portal_client.get("/portal/payment-methods/add/")
    assert page.status_code == 302 and "/portal/account/reauthenticate/" in page["Location"]
    posted = portal_client.post("/portal/payment-methods/add/", CARD)
    assert posted.status_code == 302 and "/portal/account/reauthenticate/" in posted["Location"]
    assert "next=%2Fportal%2Fpayment-methods%2Fadd%2F" in posted["Location"]
    assert not PaymentMethod.objects.exists()
    # allauth would keep a suspended POST in the session (the database): not this one.
    from django.contrib.sessions.models import Session

    assert all("4242" not in str(s.get_decoded()) for s in Session.objects.all())


def test_adding_a_card_saves_it_as_the_default_and_audits_it(manager, org, customer, clock):
    page = manager.get("/portal/payment-methods/add/")
    assert page.status_code == 200 and 'autocomplete="cc-number"' in page.content.decode()
    response = manager.post("/portal/payment-methods/add/", {**CARD, "make_default": "on"})
    assert response.status_code == 302 and response["Location"] == "/portal/payment-methods/"
    method = PaymentMethod.objects.get(customer=customer)
    assert (method.brand, method.last4, method.exp_month, method.exp_year) == ("visa", "4242", 12, 2030)
    assert method.is_default and method.token.startswith("tok_test_")
    assert "4242424242424242" not in str(PaymentMethod.objects.values())
    event = actions(org, "payment_method.saved").get()
    assert event.actor_kind == AuditEvent.ActorKind.PORTAL and event.customer_id == customer.pk
    assert "Visa •••• 4242 (12/2030) was saved." in text(manager.get(response["Location"]))


def test_a_second_card_is_not_the_default_unless_asked(manager, customer, clock):
    first = saved_card(customer)
    manager.post("/portal/payment-methods/add/", {**CARD, "number": "5555 5555 5555 4444"})
    second = PaymentMethod.objects.exclude(pk=first.pk).get()
    first.refresh_from_db()
    assert first.is_default and not second.is_default


def test_a_wrong_card_is_a_form_error_and_nothing_is_saved(manager, customer, clock):
    response = manager.post("/portal/payment-methods/add/", {**CARD, "number": "4242 4242 4242 4241"})
    assert response.status_code == 400
    assert "Your card number is incorrect." in text(response)
    assert "4242 4242 4242 4241" not in response.content.decode()  # never echoed back
    assert not PaymentMethod.objects.exists()


# -- default, removal, replacement --------------------------------------------------------------------------


def test_make_default_is_a_reauthenticated_post(portal_client, org, customer, clock):
    first, second = saved_card(customer), saved_card(customer, "5555 5555 5555 4444")
    url = f"/portal/payment-methods/{second.public_id}/default/"
    refused = portal_client.post(url)
    assert refused.status_code == 302 and "/reauthenticate/" in refused["Location"]
    second.refresh_from_db()
    assert not second.is_default
    reauthenticated(portal_client)
    assert portal_client.get(url).status_code == 405
    response = portal_client.post(url)
    assert response.status_code == 302
    first.refresh_from_db(), second.refresh_from_db()
    assert second.is_default and not first.is_default
    assert actions(org, "payment_method.made_default").filter(object_id=str(second.pk)).exists()
    assert "Mastercard •••• 4444 (12/2030) is now your default card." in text(
        portal_client.get("/portal/payment-methods/")
    )


def test_removing_a_card_asks_first_then_removes_and_audits(manager, org, customer, clock):
    first, second = saved_card(customer), saved_card(customer, "5555 5555 5555 4444")
    url = f"/portal/payment-methods/{second.public_id}/remove/"
    confirm = manager.get(url)
    assert confirm.status_code == 200 and "Remove Mastercard •••• 4444?" in text(confirm)
    second.refresh_from_db()
    assert second.status == PaymentMethod.Status.ACTIVE  # asking removes nothing
    response = manager.post(url, {"new_default": ""})
    assert response.status_code == 302
    second.refresh_from_db(), first.refresh_from_db()
    assert second.status == PaymentMethod.Status.REMOVED and first.is_default
    assert actions(org, "payment_method.removed").filter(object_id=str(second.pk)).exists()
    assert "Mastercard •••• 4444" not in text(manager.get("/portal/payment-methods/")).split("was removed")[1]


def test_removing_the_only_card_of_automatic_payments_is_refused_until_another_is_chosen(
    manager, customer, clock
):
    only = saved_card(customer)
    methods.set_auto_charge(customer=customer, enabled=True, actor=Actor.system("tests"))
    url = f"/portal/payment-methods/{only.public_id}/remove/"
    refused = manager.post(url)
    assert refused.status_code == 400
    assert "Automatic payments are on for your account" in text(refused)
    only.refresh_from_db()
    assert only.status == PaymentMethod.Status.ACTIVE

    other = saved_card(customer, "5555 5555 5555 4444")
    page = text(manager.get(url))
    assert f'name="new_default" value="{other.public_id}"' in page
    response = manager.post(url, {"new_default": other.public_id})
    assert response.status_code == 302
    only.refresh_from_db(), other.refresh_from_db()
    assert only.status == PaymentMethod.Status.REMOVED and other.is_default


def test_a_new_default_that_is_not_one_of_the_customers_cards_is_refused(
    manager, customer, outsider_customer, clock
):
    mine, theirs = saved_card(customer), saved_card(outsider_customer)
    response = manager.post(
        f"/portal/payment-methods/{mine.public_id}/remove/", {"new_default": theirs.public_id}
    )
    assert response.status_code == 400 and "Choose one of your other saved cards." in text(response)
    mine.refresh_from_db()
    assert mine.status == PaymentMethod.Status.ACTIVE


def test_replacing_an_expiring_card_removes_it_and_the_new_one_takes_its_place(manager, org, customer, clock):
    old = saved_card(customer, exp_year=2026)
    PaymentMethod.objects.filter(pk=old.pk).update(exp_month=4)
    page = manager.get(f"/portal/payment-methods/{old.public_id}/replace/")
    assert page.status_code == 200 and "Replace Visa •••• 4242" in text(page)
    response = manager.post(
        f"/portal/payment-methods/{old.public_id}/replace/", {**CARD, "number": "5555 5555 5555 4444"}
    )
    assert response.status_code == 302
    old.refresh_from_db()
    new = PaymentMethod.objects.get(status=PaymentMethod.Status.ACTIVE)
    assert old.status == PaymentMethod.Status.REMOVED and new.is_default and new.replaces_id == old.pk
    assert actions(org, "payment_method.replaced").exists()
    assert "Mastercard •••• 4444 (12/2030) replaces Visa •••• 4242 (04/2026)." in text(
        manager.get("/portal/payment-methods/")
    )


def test_automatic_payments_switch_on_and_off_from_the_list(manager, org, customer, clock):
    saved_card(customer)
    assert "Charge my default card automatically" in text(manager.get("/portal/payment-methods/"))
    assert manager.get("/portal/payment-methods/auto-charge/").status_code == 405
    manager.post("/portal/payment-methods/auto-charge/", {"enabled": "on"})
    assert methods.auto_charge_enabled(customer)
    assert "Stop automatic payments" in text(manager.get("/portal/payment-methods/"))
    manager.post("/portal/payment-methods/auto-charge/", {"enabled": "off"})
    assert not methods.auto_charge_enabled(customer)
    assert actions(org, "auto_charge.enabled").exists() and actions(org, "auto_charge.disabled").exists()


# -- other people's cards -----------------------------------------------------------------------------------


def method_routes() -> list[str]:
    """Every portal URL name about one payment method (its route takes `method_id`)."""
    found = [name for name, route in portal_routes() if "<str:method_id>" in route or "method_id" in route]
    assert all(name.startswith("portal:payment_method") for name in found), found
    return found


def test_there_are_payment_method_routes_to_check():
    assert set(method_routes()) >= {
        "portal:payment_method_default",
        "portal:payment_method_remove",
        "portal:payment_method_replace",
    }


def test_every_payment_method_url_answers_404_for_anyone_elses_or_a_made_up_method(
    manager, org, customer, outsider_customer, other_org, clock
):
    mine = saved_card(customer)
    outsider = saved_card(outsider_customer)
    with tenancy.tenant(other_org):
        foreigner = saved_card(CustomerFactory(organization=other_org, display_name="Far away Ltd"))
    removed = saved_card(customer, "5555 5555 5555 4444")
    methods.remove_method(method=removed, actor=Actor.system("tests"))
    ids = [
        outsider.public_id,
        foreigner.public_id,
        removed.public_id,
        str(mine.pk),
        "0",
        "-1",
        "abc",
        "9" * 30,
        "card_" + "z" * 16,
        "CARD_" + mine.public_id[5:].upper(),
        " " + mine.public_id,
    ]
    before = list(PaymentMethod.all_tenants.order_by("pk").values_list("pk", "status", "is_default"))
    for name in method_routes():
        for method_id in ids:
            url = reverse(name, kwargs={"method_id": method_id})
            assert manager.post(url, {**CARD, "new_default": mine.public_id}).status_code == 404, url
            assert manager.get(url).status_code in (404, 405), url
        assert manager.get(reverse(name, kwargs={"method_id": mine.public_id})).status_code in (200, 405)
    assert list(PaymentMethod.all_tenants.order_by("pk").values_list("pk", "status", "is_default")) == before


# -- hostile input -------------------------------------------------------------------------------------------


def _post(client, url, data):
    client.raise_request_exception = False
    response = client.post(url, data)
    assert response.status_code < 500, f"{url} {data!r}: {response.status_code}"
    return response


@pytest.mark.parametrize("field", ["name", "number", "exp_month", "exp_year", "cvc", "make_default"])
def test_hostile_values_in_the_add_form_are_form_errors(manager, customer, clock, field):
    for value in HOSTILE:
        response = _post(manager, "/portal/payment-methods/add/", {**CARD, field: value})
        if response.status_code == 302:  # a value a name or a checkbox may have: the card was saved
            assert field in ("name", "make_default"), (field, value)
            continue
        assert response.status_code == 400, (field, value)
        html = response.content.decode()
        assert 'class="errorlist"' in html or "notice-error" in html or "NUL character" in html, (
            field,
            value,
        )


def test_hostile_values_in_remove_default_and_auto_charge_never_make_a_server_error(manager, customer, clock):
    method = saved_card(customer)
    for value in [v for v in HOSTILE if v != ""]:  # "" means "keep my default": it would remove the card
        removal = _post(
            manager, f"/portal/payment-methods/{method.public_id}/remove/", {"new_default": value}
        )
        assert removal.status_code == 400, value
        assert "Choose one of your other saved cards." in text(removal) or "NUL character" in text(removal)
        toggle = _post(manager, "/portal/payment-methods/auto-charge/", {"enabled": value})
        if "\x00" in value:
            continue  # answered 400 before any view (the middleware's "NUL character")
        assert toggle.status_code == 302
        assert "Choose whether to charge your default card automatically." in text(
            manager.get("/portal/payment-methods/")
        )
    method.refresh_from_db()
    assert method.status == PaymentMethod.Status.ACTIVE and not methods.auto_charge_enabled(customer)


def test_a_stripe_setup_reference_posted_to_the_test_gateway_is_ignored(manager, customer, clock):
    response = _post(manager, "/portal/payment-methods/add/", {"setup_intent": "seti_123"})
    assert response.status_code == 400 and not PaymentMethod.objects.exists()
