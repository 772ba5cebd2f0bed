"""One error shape: every refusal is a `DomainError` with a code from its app's list, a message fit
for the customer, and one way each to become a form error, a page message and an API body."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re

import pytest
from django import forms
from django.apps import apps
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import RequestFactory
from django.utils.functional import Promise

import portico
from portico.billing import errors as billing_errors
from portico.core.errors import (
    CurrencyMismatch,
    DomainError,
    add_domain_error,
    domain_error_message,
    domain_error_response,
)
from portico.core.money import Money


def _import_every_module():
    """Errors live beside the code that raises them (services, gateways, statements): import all."""
    for module in pkgutil.walk_packages(portico.__path__, "portico."):
        entry_points = ("portico.settings", "portico.wsgi", "portico.asgi", "portico.cli")
        if ".migrations" not in module.name and not module.name.startswith(entry_points):
            importlib.import_module(module.name)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def domain_errors():
    _import_every_module()
    return sorted(set(_subclasses(DomainError)), key=lambda c: f"{c.__module__}.{c.__qualname__}")


def _app_codes(app_config):
    return importlib.import_module(f"{app_config.name}.errors").Code


def _portico_apps():
    return [a for a in apps.get_app_configs() if a.name.startswith("portico.")]


def test_the_errors_named_in_the_codebase_are_all_domain_errors():
    from portico.accounts.email_change import EmailChangeInvalid as via_services
    from portico.accounts.errors import AccessError
    from portico.billing.statements import StatementPeriodError
    from portico.customers.errors import CurrencyLocked, EmailChangeInvalid
    from portico.payments.credits import CreditRefused
    from portico.payments.gateways import CardError
    from portico.payments.services import PaymentRefused

    for cls in (
        billing_errors.BillingError,
        AccessError,
        StatementPeriodError,
        EmailChangeInvalid,
        CardError,
        CurrencyLocked,
        PaymentRefused,
        CreditRefused,
    ):
        assert issubclass(cls, DomainError), cls
    assert via_services is EmailChangeInvalid
    assert issubclass(StatementPeriodError, billing_errors.BillingError)  # `except BillingError` still works


def test_there_is_one_currency_mismatch_for_the_ledger_and_for_arithmetic():
    from portico.core import money

    assert billing_errors.CurrencyMismatch is money.CurrencyMismatch is CurrencyMismatch
    with pytest.raises(DomainError) as refused:
        Money(100, "EUR") + Money(100, "USD")
    assert refused.value.code == "currency_mismatch" and refused.value.field == "currency"
    assert "EUR" in refused.value.message and "USD" in refused.value.message
    assert isinstance(refused.value, ValueError)  # as before, for callers of `Money`


@pytest.mark.parametrize("cls", domain_errors(), ids=lambda c: c.__qualname__)
def test_every_domain_error_declares_a_code_from_its_apps_list(cls):
    assert "code" in vars(cls), f"{cls.__qualname__} inherits its code: declare its own"
    app_config = apps.get_containing_app_config(cls.__module__)
    assert app_config is not None, cls.__module__
    codes = _app_codes(app_config)
    assert cls.code in codes.values, f"{cls.code!r} is not in {app_config.name}.errors.Code"
    assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", str(cls.code))


@pytest.mark.parametrize("cls", domain_errors(), ids=lambda c: c.__qualname__)
def test_every_domain_error_has_a_translatable_message(cls):
    assert isinstance(cls.message, Promise), f"{cls.__qualname__}.message is not marked for translation"
    assert str(cls.message).strip()


def test_error_codes_are_unique_across_apps_and_errors():
    declared = [str(code) for app in _portico_apps() for code in _declared(app)]
    assert len(declared) == len(set(declared)), sorted(c for c in declared if declared.count(c) > 1)
    used = [str(cls.code) for cls in domain_errors()]
    assert len(used) == len(set(used)), sorted(c for c in used if used.count(c) > 1)


def _declared(app_config):
    try:
        return list(_app_codes(app_config).values)
    except (ModuleNotFoundError, AttributeError):
        return []


def test_an_error_given_its_own_message_and_field_keeps_them():
    error = billing_errors.InvalidLine("Each line needs a description.", field="description")
    assert (error.code, error.message, error.field) == (
        "invalid_line",
        "Each line needs a description.",
        "description",
    )
    assert str(error) == "Each line needs a description."
    raised_bare = billing_errors.InvalidAmount()
    assert raised_bare.message == billing_errors.InvalidAmount.message and raised_bare.field == "amount"


# -- the three mappings ----------------------------------------------------------------------------


class AmountForm(forms.Form):
    amount = forms.CharField(required=False)


def test_an_error_on_a_field_the_form_has_becomes_that_fields_error():
    form = AmountForm(data={"amount": "12"})
    assert form.is_valid()
    add_domain_error(form, billing_errors.InvalidAmount("Enter an amount greater than zero."))
    assert form.errors == {"amount": ["Enter an amount greater than zero."]}
    assert not form.is_valid()


def test_an_error_on_a_field_the_form_lacks_becomes_a_non_field_error():
    form = AmountForm(data={"amount": "12"})
    form.is_valid()
    add_domain_error(form, billing_errors.InvoiceNotFound())  # field "invoice"
    assert form.non_field_errors() == ["That invoice was not found on this account."]
    assert "amount" not in form.errors


def test_an_error_becomes_a_page_message_optionally_naming_what_it_is_about():
    request = RequestFactory().post("/")
    request._messages = CookieStorage(request)
    domain_error_message(request, billing_errors.InvoiceNotFound())
    domain_error_message(request, billing_errors.InvalidStatus("Already void."), about="INV-00007")
    sent = [(m.level_tag, m.message) for m in get_messages(request)]
    assert sent == [
        ("error", "That invoice was not found on this account."),
        ("error", "INV-00007: Already void."),
    ]


def test_an_error_becomes_the_apis_error_body():
    error = CurrencyMismatch("USD", "EUR")
    assert error.as_dict() == {
        "error": {
            "code": "currency_mismatch",
            "message": "This account is billed in USD; an amount in EUR cannot be used here.",
            "field": "currency",
        }
    }
    response = domain_error_response(billing_errors.EmptyInvoice())
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {
        "error": {
            "code": "empty_document",
            "message": "Add at least one line before finalizing.",
            "field": None,
        }
    }
    assert domain_error_response(error, status=409).status_code == 409
