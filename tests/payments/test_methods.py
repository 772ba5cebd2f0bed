"""A customer's saved payment methods: save, make default, remove, replace, auto-charge (issue 10,
item 1). Each change is audited; at most one default; a needed method cannot be removed."""

import pytest
from django.db import connection

from portico.core.audit import Actor
from portico.core.models import AuditEvent
from portico.core.tenancy import tenant
from portico.payments.gateways import CardDeclined, CardDetails, CardError, gateway_for
from portico.payments.methods import (
    MethodInUse,
    MethodNotFound,
    MethodRefused,
    active_methods,
    auto_charge_enabled,
    default_method,
    get_method_for,
    make_default,
    register_method_dependency,
    remove_method,
    save_method,
    set_auto_charge,
    start_setup,
)
from portico.payments.models import PaymentMethod, TestCardToken
from tests.concurrency import race
from tests.factories import CustomerFactory, OrganizationFactory

ACTOR = Actor.system("tests")


def card(number="4242424242424242", exp_month=12, exp_year=2030, name="Maria Lopez"):
    cvc = "1234" if number.startswith(("34", "37")) else "123"  # American Express: four digits
    return CardDetails(number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc, name=name)


def save(customer, number="4242424242424242", **kwargs):
    details = {k: kwargs.pop(k) for k in ("exp_month", "exp_year") if k in kwargs}
    return save_method(
        organization=customer.organization,
        customer=customer,
        actor=ACTOR,
        card=card(number, **details),
        **kwargs,
    )


def actions(**filters):
    return list(AuditEvent.objects.filter(**filters).order_by("id").values_list("action", flat=True))


@pytest.fixture
def gateway_attachments(org):
    """Which test-gateway tokens are attached to a gateway customer (detached: "")."""
    return lambda: dict(TestCardToken.objects.values_list("token", "customer_reference"))


def test_the_first_card_saved_becomes_the_default_and_keeps_no_number(customer, clock):
    method = save(customer)
    assert method.is_default and method.status == PaymentMethod.Status.ACTIVE
    assert (method.brand, method.last4, method.exp_month, method.exp_year) == ("visa", "4242", 12, 2030)
    assert (method.holder_name, method.country, method.gateway) == ("Maria Lopez", "US", "test")
    assert method.token.startswith("tok_test_") and method.fingerprint
    assert "4242424242424242" not in str(PaymentMethod.objects.filter(pk=method.pk).values().get())
    assert default_method(customer) == method
    assert actions(object_id=str(method.pk)) == ["payment_method.saved"]
    assert TestCardToken.objects.get(token=method.token).customer_reference.startswith("cus_test_")


def test_a_second_card_is_not_the_default_unless_asked(customer, clock):
    first = save(customer)
    second = save(customer, "5555555555554444")
    assert not second.is_default and default_method(customer) == first
    third = save(customer, "378282246310005", make_default=True)
    assert third.is_default
    assert list(active_methods(customer)) == [third, second, first]
    assert PaymentMethod.objects.filter(customer=customer, is_default=True).count() == 1


def test_the_same_card_saved_again_updates_the_saved_method(customer, clock):
    first = save(customer, exp_year=2030)
    again = save(customer, "4242 4242 4242 4242", exp_year=2032)
    assert again.pk == first.pk and again.exp_year == 2032
    assert active_methods(customer).count() == 1


def test_an_expired_card_is_refused(customer, clock):
    with pytest.raises(CardError):  # typed: refused before it reaches the gateway
        save(customer, exp_month=1, exp_year=2026)
    gateway = gateway_for(customer.organization)
    token = gateway.tokenize(card()).token
    TestCardToken.objects.filter(token=token).update(exp_month=2, exp_year=2026)  # expired at the gateway
    with pytest.raises(MethodRefused, match="expired"):
        save_method(organization=customer.organization, customer=customer, actor=ACTOR, token=token)
    assert not PaymentMethod.objects.exists()
    assert TestCardToken.objects.get(token=token).customer_reference == ""  # detached again


@pytest.mark.parametrize("number", ["4000000000000002", "4000000000009995", "4000000000000069"])
def test_a_card_the_gateway_declines_is_not_saved(customer, clock, number):
    with pytest.raises(CardDeclined):
        save(customer, number)
    assert not PaymentMethod.objects.exists() and not AuditEvent.objects.filter(
        action__startswith="payment_method"
    )


def test_a_card_that_saves_but_fails_later_is_saved(customer, clock):
    assert save(customer, "4000000000000341").last4 == "0341"


def test_another_customers_token_cannot_be_saved(customer, outsider_customer, clock):
    theirs = save(outsider_customer)
    with pytest.raises(CardDeclined):
        save_method(organization=customer.organization, customer=customer, actor=ACTOR, token=theirs.token)
    assert not PaymentMethod.objects.filter(customer=customer).exists()


def test_make_default_moves_the_default_and_is_audited(customer, clock):
    first, second = save(customer), save(customer, "5555555555554444")
    make_default(method=second, actor=ACTOR)
    first.refresh_from_db()
    assert not first.is_default and default_method(customer) == second
    event = AuditEvent.objects.get(action="payment_method.made_default")
    assert event.data["previous"] == first.label and event.customer_id == customer.pk


def test_removing_the_default_promotes_the_most_recent_and_detaches_it(
    customer, clock, gateway_attachments, django_capture_on_commit_callbacks
):
    first, second, third = (
        save(customer),
        save(customer, "5555555555554444"),
        save(customer, "6011111111111117"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        remove_method(method=first, actor=ACTOR)
    first.refresh_from_db()
    assert (first.status, first.is_default, first.removed_at is not None) == ("removed", False, True)
    assert default_method(customer) == third
    assert gateway_attachments()[first.token] == ""  # detached at the gateway
    assert gateway_attachments()[second.token] != ""
    assert "payment_method.removed" in actions(object_id=str(first.pk))


def test_removing_the_default_with_a_chosen_successor(customer, clock):
    first, second, _third = (
        save(customer),
        save(customer, "5555555555554444"),
        save(customer, "6011111111111117"),
    )
    remove_method(method=first, actor=ACTOR, new_default=second)
    assert default_method(customer) == second


def test_removing_twice_is_harmless(customer, clock):
    method = save(customer)
    remove_method(method=method, actor=ACTOR)
    remove_method(method=method, actor=ACTOR)
    assert actions(action="payment_method.removed") == ["payment_method.removed"]


def test_the_only_card_cannot_be_removed_while_automatic_payments_are_on(customer, clock):
    method = save(customer)
    set_auto_charge(customer=customer, enabled=True, actor=ACTOR)
    with pytest.raises(MethodInUse, match="Automatic payments are on") as refused:
        remove_method(method=method, actor=ACTOR)
    assert refused.value.code == "payment_method_in_use"
    method.refresh_from_db()
    assert method.status == "active" and method.is_default
    # With another card, the other one takes over; with automatic payments off, it can go.
    other = save(customer, "5555555555554444")
    remove_method(method=method, actor=ACTOR)
    assert default_method(customer) == other
    set_auto_charge(customer=customer, enabled=False, actor=ACTOR)
    remove_method(method=other, actor=ACTOR)
    assert not active_methods(customer).exists()


def test_a_registered_dependency_refuses_unless_another_method_takes_over(customer, clock):
    first, second = save(customer), save(customer, "5555555555554444")
    from portico.payments import methods

    @register_method_dependency
    def subscription_uses(method):
        return "Your subscription is charged to this card." if method.pk == first.pk else None

    try:
        with pytest.raises(MethodInUse, match="subscription"):
            remove_method(method=first, actor=ACTOR)
        remove_method(method=first, actor=ACTOR, new_default=second)
        assert default_method(customer) == second
    finally:
        methods._dependencies.remove(subscription_uses)


def test_automatic_payments_need_a_saved_card_and_are_audited(customer, clock):
    with pytest.raises(MethodRefused, match="Save a card first"):
        set_auto_charge(customer=customer, enabled=True, actor=ACTOR)
    save(customer)
    set_auto_charge(customer=customer, enabled=True, actor=ACTOR)
    set_auto_charge(customer=customer, enabled=True, actor=ACTOR)  # no change, no event
    assert auto_charge_enabled(customer)
    set_auto_charge(customer=customer, enabled=False, actor=ACTOR)
    assert not auto_charge_enabled(customer)
    assert actions(action__startswith="auto_charge") == ["auto_charge.enabled", "auto_charge.disabled"]


def test_replacing_the_default_card_makes_the_new_one_default_and_removes_the_old(
    customer, clock, gateway_attachments, django_capture_on_commit_callbacks
):
    old = save(customer, exp_month=4, exp_year=2026)
    save(customer, "5555555555554444")
    with django_capture_on_commit_callbacks(execute=True):
        new = save(customer, "378282246310005", replaces=old)
    old.refresh_from_db()
    assert new.is_default and new.replaces == old
    assert (old.status, old.is_default) == ("removed", False)
    assert gateway_attachments()[old.token] == ""
    assert actions(action="payment_method.replaced") == ["payment_method.replaced"]
    assert PaymentMethod.objects.filter(customer=customer, status="active", is_default=True).count() == 1


def test_replacing_is_one_transaction_a_declined_new_card_keeps_the_old(customer, clock):
    old = save(customer)
    with pytest.raises(CardDeclined):
        save(customer, "4000000000000002", replaces=old)
    old.refresh_from_db()
    assert old.status == "active" and old.is_default


def test_a_foreign_customers_method_is_not_found(org, customer, outsider_customer, other_org, clock):
    theirs = save(outsider_customer)
    with tenant(other_org):
        elsewhere_customer = CustomerFactory(organization=other_org)
        elsewhere = save(elsewhere_customer)
    for method_id in (theirs.pk, elsewhere.pk, str(theirs.pk), "nope", "", None, -1, 10**30):
        with pytest.raises(MethodNotFound):
            get_method_for(customer, method_id)
    mine = save(customer)
    removed = save(customer, "5555555555554444")
    remove_method(method=removed, actor=ACTOR)
    with pytest.raises(MethodNotFound):
        get_method_for(customer, removed.pk)
    assert get_method_for(customer, str(mine.pk)) == mine
    with pytest.raises(MethodNotFound):
        save(customer, "5555555555554444", replaces=theirs)
    with pytest.raises(MethodNotFound):
        remove_method(method=mine, actor=ACTOR, new_default=theirs)
    with pytest.raises(MethodNotFound):  # a customer of another organization
        save_method(organization=org, customer=elsewhere_customer, actor=ACTOR, card=card())


def test_start_setup_names_a_session_for_the_customer(customer, clock):
    session = start_setup(organization=customer.organization, customer=customer, actor=ACTOR)
    assert session.reference.startswith("seti_test_")
    assert actions(action="payment_method.setup_started") == ["payment_method.setup_started"]


def test_no_card_is_saved_for_an_organization_paid_offline(customer, clock):
    from portico.payments.gateways import payment_settings

    settings_row = payment_settings(customer.organization)
    settings_row.gateway = "offline"
    settings_row.save()
    with pytest.raises(MethodRefused, match="bank transfer"):
        save(customer)


def test_the_card_number_never_reaches_the_audit_or_the_logs(customer, clock, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    method = save(customer, "5555555555554444")
    make_default(method=method, actor=ACTOR)
    remove_method(method=method, actor=ACTOR)
    assert "5555555555554444" not in caplog.text
    assert "5555555555554444" not in str(list(AuditEvent.objects.values()))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tabs_making_different_cards_default_at_once_leave_one_default():
    assert connection.vendor == "postgresql"
    organization = OrganizationFactory(slug="defaults")
    with tenant(organization):
        customer = CustomerFactory(organization=organization)
        methods = [save(customer, n) for n in ("4242424242424242", "5555555555554444", "378282246310005")]

    def tab(method):
        def call():
            with tenant(organization):
                return make_default(method=method, actor=ACTOR)

        return call

    for _round in range(3):
        outcomes = race(*(tab(m) for m in methods[1:] * 3))
        assert all(isinstance(o, PaymentMethod) for o in outcomes), outcomes
        with tenant(organization):
            assert (
                PaymentMethod.objects.filter(customer=customer, status="active", is_default=True).count() == 1
            )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_removing_the_default_while_another_tab_makes_a_card_default_leaves_one_default():
    assert connection.vendor == "postgresql"
    organization = OrganizationFactory(slug="removing")
    with tenant(organization):
        customer = CustomerFactory(organization=organization)
        first, second, third = (
            save(customer, n) for n in ("4242424242424242", "5555555555554444", "378282246310005")
        )

    def in_tenant(fn):
        def call():
            with tenant(organization):
                return fn()

        return call

    outcomes = race(
        in_tenant(lambda: remove_method(method=first, actor=ACTOR)),
        in_tenant(lambda: make_default(method=second, actor=ACTOR)),
    )
    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    with tenant(organization):
        defaults = PaymentMethod.objects.filter(customer=customer, status="active", is_default=True)
        assert defaults.count() == 1 and defaults.get() in (second, third)
