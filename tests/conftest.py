"""Fixtures shared by every suite: two organizations, customers with an outsider, a movable clock,
a real SMTP server, and clients bound to a tenant's host."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field

import pytest
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from portico.core import clock as clock_module
from portico.core import tenancy
from tests.factories import PASSWORD, ContactFactory, CustomerFactory, OrganizationFactory, portal_user

pytest_plugins = [
    "tests.card_guard",
    "tests.localstripe",
    "tests.dns_server",
    "tests.oidc_idp",
    "tests.saml_idp",
]

# Property tests judge results, not speed: on a loaded 2-core CI machine a slow example is not a
# failure (no per-example deadline, no "generation is slow" health check).
hypothesis_settings.register_profile(
    "portico", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
hypothesis_settings.load_profile("portico")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def _reset_tenant_and_clock():
    token = tenancy.activate(None)
    yield
    tenancy.deactivate(token)
    clock_module.freeze(None)


@pytest.fixture(autouse=True)
def _clear_cache():
    """allauth's rate limits live in the (per-process) cache: no test inherits another's counts."""
    from django.core.cache import cache

    cache.clear()
    yield


class Clock:
    """Moves `core.clock.now()`; tests never sleep."""

    def set(self, value: dt.datetime | str) -> dt.datetime:
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        clock_module.freeze(value)
        return value

    def advance(self, **delta) -> dt.datetime:
        return clock_module.advance(dt.timedelta(**delta))

    def now(self) -> dt.datetime:
        return clock_module.now()


@pytest.fixture
def clock():
    c = Clock()
    c.set("2026-03-10T15:00:00+00:00")
    return c


def tenant_client(organization, **kwargs) -> Client:
    """A test client whose requests carry the organization's host."""
    return Client(HTTP_HOST=organization.host, **kwargs)


@pytest.fixture
def org(db):
    """The organization a test works for, active for the whole test (tenant queries fail closed
    with none active). Tests of another organization's rows act for it with `tenant(other_org)`."""
    organization = OrganizationFactory(name="RenoTech Solutions", slug="renotech")
    with tenancy.tenant(organization):
        yield organization


@pytest.fixture
def other_org(db):
    return OrganizationFactory(name="Northwind Studio", slug="northwind", base_currency="GBP")


@pytest.fixture
def customer(org):
    return CustomerFactory(organization=org, display_name="Acme Interiors")


@pytest.fixture
def outsider_customer(org):
    """Another customer of the same organization: its data must never show to `customer`."""
    return CustomerFactory(organization=org, display_name="Bluebird Cafe")


@pytest.fixture
def contact(customer):
    return ContactFactory(
        customer=customer, first_name="Maria", last_name="Lopez", email="maria@acme.example", is_primary=True
    )


@pytest.fixture
def portal_login(contact):
    return portal_user(contact)


@pytest.fixture
def portal_client(org, portal_login):
    client = tenant_client(org)
    client.force_login(portal_login, backend="portico.accounts.backends.TenantAuthenticationBackend")
    return client


def login(client: Client, email_address: str, password: str = PASSWORD):
    return client.post("/portal/account/login/", {"login": email_address, "password": password})


# -- a real SMTP server -------------------------------------------------------------------------


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[email.message.EmailMessage] = field(default_factory=list)
    _controller: object = field(default=None, repr=False)

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if address.lower() in (m["To"] or "").lower()]

    def body(self, message) -> str:
        part = message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""

    def stop(self) -> None:
        """Take the server down (connections are refused) until `start()`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def start(self) -> None:
        """(Re)start the server on the same port."""
        from aiosmtpd.controller import Controller

        if self._controller is None:
            self._controller = Controller(_Collect(self), hostname=self.host, port=self.port)
            self._controller.start()


class _Collect:
    def __init__(self, box: Mailbox):
        self.box = box
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        from tests import card_guard

        card_guard.check_email(message, "an email (SMTP)")
        with self.lock:
            self.box.messages.append(message)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mailbox(settings):
    """An aiosmtpd server on a free loopback port; Django's SMTP backend sends to it. Tests may
    `stop()` and `start()` it again (same port) to see mail wait for it."""
    port = _free_port()
    box = Mailbox(host="127.0.0.1", port=port)
    box.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture
def migrator(transactional_db):
    """`migrate(target)`: move the test database's schema to a migration (its historical apps are
    returned). Afterwards the schema goes back to the latest migrations: the other tests of this
    worker run on the same database."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    def migrate(target):
        targets = target if isinstance(target, list) else [target]  # one (app, name), or several
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return MigrationExecutor(connection).loader.project_state(targets).apps

    yield migrate
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
