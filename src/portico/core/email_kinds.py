"""The emails Portico sends, declared by the app that sends them.

Each app lists its kinds once, in `<app>/emails.py`:

    EMAIL_KINDS = [
        EmailKind(
            "payments/receipt",
            _("Payment receipt"),
            _("After a card payment in the portal or by the bill run."),
            variables=[*COMMON, Variable("payment_number", _("The payment's number"), "payment.number", "PAY-0042")],
        ),
    ]

The template of a kind is `notifications/<template>` (`core.mail`). `kinds()` collects the
declarations from every installed app, like the portal's capabilities: the console lists them, the
organization's overrides (`notifications.email_templates`) are validated against them, and a test
checks that every template under `templates/notifications/` is declared.

A variable is what an override may write as `{{ name }}`: a plain-text value taken from the
email's context by a declared path (or function), never by a path the override names itself — so
`{{ organization.stripe_secret_key }}` is an unknown variable, not a walk through the organization.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import import_module

from django.utils.translation import gettext_lazy as _

CUSTOMER, STAFF = "customer", "staff"


@dataclass(frozen=True)
class Variable:
    """`source`: a dotted path into the email's context (each step an attribute or key, a callable
    at the end called), or a function of the context. `sample`: its value in the console's preview."""

    name: str
    description: str
    source: str | Callable[[dict], object]
    sample: str = ""

    def value(self, context: dict) -> str:
        """The variable's text in this context ("" where the context has nothing there)."""
        try:
            value = self.source(context) if callable(self.source) else _walk(context, self.source)
        except (AttributeError, KeyError, TypeError, ValueError):
            return ""
        return plain_text(value)


def _walk(context: dict, path: str):
    value = context
    for step in path.split("."):
        if value is None:
            return None
        value = value[step] if isinstance(value, dict) else getattr(value, step)
    return value() if callable(value) else value


def plain_text(value) -> str:
    """How a value reads in an email: money and dates formatted as the templates format them."""
    from django.utils.formats import date_format

    from portico.core.money import Money

    if value is None:
        return ""
    if isinstance(value, Money):
        from portico.core.templatetags.money import money

        return money(value)
    if isinstance(value, dt.datetime):
        return date_format(value, "DATETIME_FORMAT")
    if isinstance(value, dt.date):
        return date_format(value, "DATE_FORMAT")
    return str(value)


@dataclass(frozen=True)
class EmailKind:
    """One email, as the organization sees it in the console.

    - `switchable`: False for what must always be sent (sign-in links, confirmations, security
      notices); `why_always` says why, shown beside it.
    - `audience`: `customer` (listed for the organization to brand and override) or `staff` (a
      notice to the business's own people: declared, logged, not customised).
    """

    template: str
    label: str
    description: str
    variables: list[Variable] = field(default_factory=list)
    switchable: bool = True
    why_always: str = ""
    audience: str = CUSTOMER
    # Portico's text in `{{ variable }}` form, shown in the console as what an override starts from
    # (the email itself is rendered from its template, which adds the lists and conditions).
    default_subject: str = ""
    default_body: str = ""

    @property
    def key(self) -> str:
        """The kind in a URL ("payments.receipt")."""
        return self.template.replace("/", ".")

    @property
    def customisable(self) -> bool:
        return self.audience == CUSTOMER

    def variable_names(self) -> list[str]:
        return [v.name for v in self.variables]

    def values(self, context: dict) -> dict[str, str]:
        return {v.name: v.value(context) for v in self.variables}

    def sample_values(self) -> dict[str, str]:
        return {v.name: str(v.sample) for v in self.variables}


# What every customer email offers.
COMMON = [
    Variable("organization_name", _("Your organization's name"), "organization.display_title", "Renotech"),
    Variable(
        "portal_url",
        _("The address of your customer portal"),
        "portal_url",
        "https://renotech.example.com/portal/",
    ),
]
CUSTOMER_NAME = Variable("customer_name", _("The customer's name"), "customer.display_name", "Acme Ltd")
CONTACT_NAME = Variable(
    "contact_first_name", _("The first name of the person written to"), "contact.first_name", "Maria"
)


class Registry:
    def __init__(self, declared: list[EmailKind]):
        self._by_template: dict[str, EmailKind] = {}
        for kind in declared:
            if kind.template in self._by_template:
                raise ValueError(f"Email kind {kind.template} is declared twice")
            names = kind.variable_names()
            if len(names) != len(set(names)):
                raise ValueError(f"Email kind {kind.template} declares a variable twice")
            if not kind.switchable and not kind.why_always:
                raise ValueError(f"Email kind {kind.template} cannot be switched off: say why (why_always)")
            self._by_template[kind.template] = kind

    def get(self, template: str) -> EmailKind | None:
        return self._by_template.get(template)

    def by_key(self, key: str) -> EmailKind | None:
        return self._by_template.get(key.replace(".", "/"))

    def __iter__(self):
        return iter(self._by_template.values())

    def customisable(self) -> list[EmailKind]:
        return [k for k in self if k.customisable]


@cache
def kinds() -> Registry:
    from django.apps import apps
    from django.utils.module_loading import module_has_submodule

    declared: list[EmailKind] = []
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "emails"):
            declared.extend(getattr(import_module(f"{config.name}.emails"), "EMAIL_KINDS", ()))
    return Registry(declared)
