"""The demo: two organizations whose data exercises every feature. Idempotent: run it any time.

Logins are fixed by DESIGN.md so anyone can script against them. Each app may extend the demo
with a module of this package named after its label (`portico/demo/billing.py`) exposing
`extend(demo: Demo)`; they run in INSTALLED_APPS order.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import transaction

from portico.accounts.models import User
from portico.core import tenancy
from portico.core.models import Organization
from portico.customers.models import ContactPerson, Customer, PortalRole

DEMO_PASSWORD = "portico-demo"
NORTHWIND_PASSWORD = "northwind-demo"
PORTAL_EMAIL = "maria@acme.example"
STAFF_EMAIL = "owner@renotech.example"


@dataclass
class Demo:
    renotech: Organization
    northwind: Organization
    customers: dict[str, Customer] = field(default_factory=dict)
    contacts: dict[str, ContactPerson] = field(default_factory=dict)
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)  # (org, role, email, password)
    api_keys: dict[str, str] = field(default_factory=dict)  # org slug → its demo API key (PORTICO_DEMO only)


RENOTECH_CUSTOMERS = [
    # key, display name, company, email, currency, terms, contacts [(first, last, email, role, primary)]
    (
        "acme",
        "Acme Interiors",
        "Acme Interiors LLC",
        "accounts@acme.example",
        "USD",
        30,
        [
            ("Maria", "Lopez", PORTAL_EMAIL, PortalRole.ADMIN, True),
            ("Tom", "Becker", "tom@acme.example", PortalRole.BILLING, False),
            ("Vera", "Nguyen", "vera@acme.example", PortalRole.VIEWER, False),
        ],
    ),
    (
        "bluebird",
        "Bluebird Cafe",
        "Bluebird Cafe Inc.",
        "owner@bluebird.example",
        "USD",
        15,
        [
            ("Sam", "Ortiz", "sam@bluebird.example", PortalRole.ADMIN, True),
        ],
    ),
    (
        "harbor",
        "Harbor Dental",
        "Harbor Dental Group",
        "office@harbor.example",
        "USD",
        30,
        [
            ("Priya", "Shah", "priya@harbor.example", PortalRole.ADMIN, True),
        ],
    ),
    (
        "kline",
        "Kline Architects",
        "Kline & Partners Architects",
        "finance@kline.example",
        "EUR",
        14,
        [
            ("Jonas", "Kline", "jonas@kline.example", PortalRole.ADMIN, True),
        ],
    ),
]
NORTHWIND_CUSTOMERS = [
    (
        "nw-acme",
        "Acme Interiors (Northwind)",
        "Acme Interiors LLC",
        "accounts@acme.example",
        "GBP",
        30,
        [
            ("Maria", "Lopez", PORTAL_EMAIL, PortalRole.ADMIN, True),
        ],
    ),
    (
        "fjord",
        "Fjord Media",
        "Fjord Media AS",
        "billing@fjord.example",
        "GBP",
        30,
        [
            ("Ingrid", "Berg", "ingrid@fjord.example", PortalRole.ADMIN, True),
        ],
    ),
]


def _organization(slug, **fields) -> Organization:
    organization, _ = Organization.objects.update_or_create(slug=slug, defaults=fields)
    return organization


def _user(organization, email, password, *, contact=None, is_staff=False, first="", last="") -> User:
    user = User.all_tenants.filter(organization=organization, email=email).first()
    if user is None:
        user = User(organization=organization, email=email)
    user.first_name, user.last_name = first, last
    user.contact, user.is_staff, user.is_active = contact, is_staff, True
    if not user.pk or not user.check_password(password):
        user.set_password(password)
    user.save()
    return user


US_ADDRESS = dict(
    billing_line1="100 Main Street",
    billing_city="Springfield",
    billing_region="IL",
    billing_postal_code="62701",
    billing_country="US",
)
GB_ADDRESS = dict(
    billing_line1="221 Deansgate",
    billing_line2="",
    billing_city="Manchester",
    billing_region="",
    billing_postal_code="M3 4EN",
    billing_country="GB",
)


def _customers(demo: Demo, organization, rows, password, address=US_ADDRESS) -> None:
    for key, name, company, email, currency, terms, contacts in rows:
        customer, _ = Customer.all_tenants.update_or_create(
            organization=organization,
            display_name=name,
            defaults=dict(
                company_name=company,
                email=email,
                currency=currency,
                payment_terms_days=terms,
                phone="+1 555 0100",
                **address,
            ),
        )
        demo.customers[key] = customer
        for first, last, contact_email, role, primary in contacts:
            contact, _ = ContactPerson.all_tenants.update_or_create(
                organization=organization,
                customer=customer,
                email=contact_email,
                defaults=dict(
                    first_name=first,
                    last_name=last,
                    portal_role=role,
                    is_primary=primary,
                    has_portal_access=True,
                ),
            )
            demo.contacts[f"{key}:{contact_email}"] = contact
            _user(organization, contact_email, password, contact=contact, first=first, last=last)
            demo.logins.append(
                (organization.slug, f"portal ({customer.display_name}, {role})", contact_email, password)
            )


def load_demo(progress: Callable[[str], None] | None = None) -> Demo:
    """Create or refresh the demo (idempotent). `progress(step)` is told as each step finishes:
    the organizations and their staff, the customers, then each app's additions."""
    step = progress or (lambda _label: None)
    with transaction.atomic(), tenancy.for_tenant(None):
        renotech = _organization(
            "renotech",
            name="RenoTech Solutions",
            base_currency="USD",
            time_zone="America/Chicago",
            locale="en_US",
            portal_title="RenoTech Customer Portal",
            brand_colour="#0f6cbd",
            portal_headline="Your invoices, payments, subscriptions and projects in one place",
            address_line1="1200 Commerce Drive",
            address_line2="Suite 300",
            address_city="Springfield",
            address_region="IL",
            address_postal_code="62704",
            address_country="US",
            tax_id="EIN 12-3456789",
        )
        northwind = _organization(
            "northwind",
            name="Northwind Studio",
            base_currency="GBP",
            time_zone="Europe/London",
            locale="en_GB",
            portal_title="Northwind Studio Portal",
            brand_colour="#7a3e9d",
            portal_headline="Design retainers and studio hours, billed clearly",
            address_line1="14 Canal Street",
            address_city="Manchester",
            address_postal_code="M1 3HU",
            address_country="GB",
            tax_id="VAT GB 123 4567 89",
        )
        demo = Demo(renotech=renotech, northwind=northwind)
        _user(renotech, STAFF_EMAIL, DEMO_PASSWORD, is_staff=True, first="Riley", last="Owner")
        demo.logins.append(("renotech", "console staff", STAFF_EMAIL, DEMO_PASSWORD))
        _user(
            northwind, "owner@northwind.example", NORTHWIND_PASSWORD, is_staff=True, first="Nia", last="Owner"
        )
        demo.logins.append(("northwind", "console staff", "owner@northwind.example", NORTHWIND_PASSWORD))
        step("organizations and staff")
        _customers(demo, renotech, RENOTECH_CUSTOMERS, DEMO_PASSWORD)
        _customers(demo, northwind, NORTHWIND_CUSTOMERS, NORTHWIND_PASSWORD, GB_ADDRESS)
        step("customers and portal logins")
        for config in demo_extensions():
            if not config.name.startswith("portico."):
                continue
            module = importlib.import_module(f"portico.demo.{config.label}")
            if hasattr(module, "extend"):
                module.extend(demo)
            step(config.verbose_name.lower() if config.verbose_name else config.label)
    return demo


def demo_extensions() -> list:
    """The apps whose demo additions run after the customers (those with a `portico.demo.<label>`
    module), in the order of INSTALLED_APPS."""
    found = []
    for config in apps.get_app_configs():
        if config.name.startswith("portico.") and importlib.util.find_spec(f"portico.demo.{config.label}"):
            found.append(config)
    return found
