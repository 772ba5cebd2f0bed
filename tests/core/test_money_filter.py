import pytest
from django.template import Context, Template, TemplateSyntaxError

from portico.core import tenancy
from portico.core.money import Money
from tests.factories import OrganizationFactory


def render(source: str, **context) -> str:
    return Template("{% load money %}" + source).render(Context(context))


def test_money_uses_the_organizations_locale(db):
    organization = OrganizationFactory(slug="berlin", locale="de_DE")
    with tenancy.for_tenant(organization):
        assert render("{{ a|money }}", a=Money(123456, "EUR")) == "1.234,56\xa0€"
    assert render("{{ a|money }}", a=Money(123456, "EUR")) == "€1,234.56"


def test_money_names_a_locale_and_respects_the_currencys_minor_unit():
    from babel.numbers import format_currency

    assert render('{{ a|money:"fr_FR" }}', a=Money(-500, "JPY")) == format_currency(
        -500, "JPY", locale="fr_FR"
    )
    assert render("{{ a|money }}", a=Money(1234, "KWD")).endswith("1.234")
    assert render("{{ a|money }}", a=None) == ""


def test_money_refuses_what_is_not_money():
    with pytest.raises(TemplateSyntaxError):
        render("{{ a|money }}", a=12.5)
