from portico.accounts.models import User
from portico.core.models import AuditEvent, Organization
from portico.customers.models import ContactPerson, Customer
from portico.demo.loader import load_demo
from tests.conftest import login, tenant_client


def _counts():
    return {
        model.__name__: model._base_manager.count() for model in (Organization, Customer, ContactPerson, User)
    }


def test_the_demo_is_idempotent(db):
    load_demo()
    first = _counts()
    load_demo()
    assert _counts() == first
    assert first["Organization"] == 2


def test_the_demo_logins_work_as_documented(db):
    demo = load_demo()
    renotech = tenant_client(demo.renotech)
    assert login(renotech, "maria@acme.example", "portico-demo").status_code == 302
    assert "Acme Interiors" in renotech.get("/portal/").content.decode()
    northwind = tenant_client(demo.northwind)
    assert login(northwind, "maria@acme.example", "portico-demo").status_code == 200  # wrong org's password
    assert login(northwind, "maria@acme.example", "northwind-demo").status_code == 302
    staff = tenant_client(demo.renotech)
    assert login(staff, "owner@renotech.example", "portico-demo")["Location"] == "/console/"
    assert AuditEvent.all_tenants.filter(action="login.succeeded").count() == 3


def test_the_demo_command_shows_its_progress_and_a_summary_that_a_rerun_repeats(db):
    import io
    import re

    from django.core.management import call_command

    def run() -> str:
        out = io.StringIO()
        call_command("demo", stdout=out)
        return out.getvalue()

    first = run()
    assert "Loading the demo [" in first and re.search(r"\] (\d+)/\1 100%", first)
    summary = re.search(r"Demo data is ready \([\d.]+s\): (.*)\.", first).group(1)
    assert re.fullmatch(
        r"2 organizations, \d+ customers, \d+ invoices, \d+ payments, 3 saved cards, \d+ logins", summary
    )
    assert re.search(r"Demo data is ready \([\d.]+s\): (.*)\.", run()).group(1) == summary


def test_the_demo_shows_an_overridden_email_and_one_switched_off(db):
    from portico.core import tenancy
    from portico.notifications.models import EmailTemplate

    demo = load_demo()
    load_demo()
    with tenancy.tenant(demo.renotech):
        rows = {row.kind: row for row in EmailTemplate.objects.all()}
    assert set(rows) == {"payments/receipt", "subscriptions/renewal_upcoming"}
    assert rows["payments/receipt"].is_overridden and rows["payments/receipt"].is_enabled
    assert not rows["subscriptions/renewal_upcoming"].is_enabled
