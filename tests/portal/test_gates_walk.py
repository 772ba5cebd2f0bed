"""Every portal page × every setting that gates it, derived from the URL configuration.

For each `/portal/` URL whose view declares a gate (`@portal_view`), its path filled with the signed-in
customer's own objects (`tests.portal.crawl`), the gating capability is switched off through
`set_portal_preferences` — and, for an action, its module too: GET and POST (with the data of the form
the page renders, else empty) answer 404 and no row of the organization changes; switched back on, the
page answers again (200, a redirect, or 405 for a POST-only URL). A new portal page is walked as soon as
it is routed; one without a declared gate fails here and in the system check.

One world serves the whole module: it is built once inside a transaction that is rolled back at the
end, and each test runs in a savepoint of it (rolled back too), so no test sees another's preferences.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.http import HttpResponse
from django.urls import include, path, reverse

from portico.core import clock, tenancy
from portico.core.audit import Actor
from portico.core.models import Organization
from portico.portal.access import portal_view
from portico.portal.capabilities import PUBLIC_PAGES, portal_urls, registry
from portico.portal.services import set_portal_preferences
from portico.subscriptions.capabilities import ACTION_LABELS as SUBSCRIPTION_ACTIONS
from tests.conftest import tenant_client
from tests.factories import PASSWORD, ContactFactory, CustomerFactory, OrganizationFactory, portal_user
from tests.portal.crawl import World, _kwargs_for, build_world, parse_page

ACTOR = Actor.system("gate walk")
WORLD_TIME = dt.datetime(2026, 3, 10, 15, tzinfo=dt.UTC)  # the moment `build_world` freezes

# The walk cannot pass by walking nothing: at least this many gated pages, and every switchable
# capability gates one of them unless it is listed here with the reason it gates no page.
MINIMUM_GATED_ROUTES = 45
_INSIDE_SUBSCRIPTIONS = (
    "an action inside the subscription pages (gated by subscriptions.change or .cancel), refused with "
    "403 by its own check: tests/portal/test_subscriptions.py::test_a_disabled_action_answers_403_and_changes_nothing"
)
GATES_NO_PAGE: dict[str, str] = {
    "profile.addresses": (
        "the address fields of the company page (gated by profile.company): tests/portal/"
        "test_portal_configurations.py::test_without_addresses_the_company_page_keeps_them_and_ignores_posted_ones"
    ),
    **{f"subscriptions.{action}": _INSIDE_SUBSCRIPTIONS for action in SUBSCRIPTION_ACTIONS},
    "chat.view": (
        "the chat widget on every portal page, no page of its own: tests/engagement/test_chat.py::"
        "test_switched_off_the_widget_is_absent_and_the_csp_unchanged"
    ),
}


def gated_routes() -> list[tuple[str, str, dict]]:
    """(URL name, route, gate) of every portal URL whose view declares a gate."""
    return [
        (name, route, callback.portal_gate)
        for route, name, callback in portal_urls()
        if getattr(callback, "portal_gate", None) is not None
    ]


def ungated_routes() -> list[str]:
    return [
        f"/{route} ({name or 'unnamed'})"
        for route, name, callback in portal_urls()
        if getattr(callback, "portal_gate", None) is None and name not in PUBLIC_PAGES
    ]


def switches(gate: dict) -> list[str]:
    """The preference entries that must close a page with this gate: its capability and, for an
    action, its module; those that cannot be switched off are left out."""
    capability = registry().get(gate["module"], gate["action"])
    entries = [capability.key] if capability.switchable else []
    if gate["action"] != "view" and registry().get(gate["module"]).switchable:
        entries.append(gate["module"])
    return entries


GATED = gated_routes()
WALKED = [(name, route, gate) for name, route, gate in GATED if switches(gate)]


def off_by_default() -> list[str]:
    return [c.key for c in registry().switchable() if not c.default]


def everything_on(organization) -> None:
    set_portal_preferences(organization=organization, disabled=[], enabled=off_by_default(), actor=ACTOR)


def switch_off(organization, entry: str) -> None:
    capability = registry().get(*entry.split(".")) if "." in entry else None
    if capability is not None and not capability.default:
        enabled = [key for key in off_by_default() if key != entry]
        set_portal_preferences(organization=organization, disabled=[], enabled=enabled, actor=ACTOR)
    else:
        set_portal_preferences(
            organization=organization, disabled=[entry], enabled=off_by_default(), actor=ACTOR
        )


def organization_rows(organization) -> dict[str, list]:
    """Every row of every model that belongs to the organization (and the organization's own row),
    in full: a write of any kind — a new row, a changed field, a deletion — shows as a difference."""
    state = {"core.Organization": list(Organization.objects.filter(pk=organization.pk).values_list())}
    for model in apps.get_models():
        try:
            field = model._meta.get_field("organization")
        except FieldDoesNotExist:
            continue
        if getattr(field, "related_model", None) is not Organization:
            continue
        rows = model._base_manager.filter(organization=organization).order_by("pk").values_list()
        state[model._meta.label] = list(rows)
    return state


@dataclass
class Walk:
    organization: Organization
    login: object
    world: World


@pytest.fixture(scope="module")
def walk(django_db_setup, django_db_blocker):
    """The customer's world, built once for the module inside a transaction rolled back after it."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            organization = OrganizationFactory(name="RenoTech Solutions", slug="renotech")
            with tenancy.tenant(organization):
                customer = CustomerFactory(organization=organization, display_name="Acme Interiors")
                contact = ContactFactory(customer=customer, email="maria@acme.example", is_primary=True)
                login = portal_user(contact)
                world = build_world(customer)
            clock.freeze(None)
            yield Walk(organization, login, world)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def signed_in(walk, db):
    """The world's organization active, its clock at the world's moment, everything switched on,
    and its customer's admin signed in (recently, so pages asking for a fresh sign-in open)."""
    clock.freeze(WORLD_TIME)
    with tenancy.tenant(walk.organization):
        organization = Organization.objects.get(pk=walk.organization.pk)
        everything_on(organization)
        client = tenant_client(organization)
        client.force_login(walk.login, backend="portico.accounts.backends.TenantAuthenticationBackend")
        client.post("/portal/account/reauthenticate/", {"password": PASSWORD})
        yield organization, client


def _url(name: str, world: World) -> str:
    assert name, "a gated portal URL without a name cannot be filled in; name it"
    return reverse(name, kwargs=_kwargs_for(name, world) or None)


def _form_data(url: str, response) -> dict:
    """What the page's own form posting to this URL would send, else nothing."""
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return {}
    for form in parse_page("http://testserver" + url, response.content.decode()).forms:
        if form.method == "post" and form.action.removeprefix("http://testserver").split("?")[0] == url:
            return {name: values if len(values) > 1 else values[0] for name, values in form.data().items()}
    return {}


@pytest.mark.parametrize(("name", "route", "gate"), WALKED, ids=[name for name, _r, _g in WALKED])
def test_a_page_switched_off_answers_404_and_changes_nothing_and_answers_again_when_on(
    signed_in, walk, name, route, gate
):
    organization, client = signed_in
    url = _url(name, walk.world)
    before = client.get(url)
    assert before.status_code != 404 and before.status_code < 500, (url, before.status_code)
    data = _form_data(url, before)
    for entry in switches(gate):
        switch_off(organization, entry)
        rows = organization_rows(organization)
        closed = client.get(url)
        assert closed.status_code == 404, (url, entry, "GET", closed.status_code)
        closed = client.post(url, data)
        assert closed.status_code == 404, (url, entry, "POST", closed.status_code)
        assert organization_rows(organization) == rows, (url, entry, "a refused request wrote")
        everything_on(organization)
        opened = client.get(url)
        assert opened.status_code != 404 and opened.status_code < 500, (url, entry, opened.status_code)


def test_the_walk_covers_every_switchable_capability_that_gates_a_page():
    assert len(WALKED) >= MINIMUM_GATED_ROUTES, f"only {len(WALKED)} gated portal pages were walked"
    walked = {entry for _name, _route, gate in WALKED for entry in switches(gate)}
    gating = {f"{gate['module']}.{gate['action']}" for _name, _route, gate in GATED}
    for capability in registry().switchable():
        if capability.key in GATES_NO_PAGE:
            assert capability.key not in gating, f"{capability.key} gates a page now: walk it"
        else:
            assert capability.key in walked, f"{capability.key} gates no portal page; list it with why"
    # every module's pages are walked, but for a module with no page of its own (listed above)
    modules = {c.module for c in registry().switchable() if c.action == "view" and c.key not in GATES_NO_PAGE}
    assert modules <= {entry.split(".")[0] for entry in walked}
    # actions are walked with their module switched off too
    assert {"invoices", "credits", "payment_methods"} <= walked


def test_every_portal_page_declares_a_gate_or_is_listed_public_with_a_reason():
    assert not ungated_routes(), ungated_routes()


# A page added without a gate is found by the same walk of the URL conf.
def _forgot_the_gate(request):
    return HttpResponse("open to all")


@portal_view(module="invoices")
def _remembered_it(request):
    return HttpResponse("gated")


urlpatterns = [
    path("portal/forgotten/", _forgot_the_gate, name="forgotten"),
    path("portal/remembered/", _remembered_it, name="remembered"),
    path("", include("portico.urls")),
]


@pytest.mark.urls(__name__)
def test_a_new_portal_page_without_a_gate_fails_the_walk():
    assert ungated_routes() == ["/portal/forgotten/ (forgotten)"]
    assert ("remembered", "portal/remembered/", {"module": "invoices", "action": "view"}) in gated_routes()
