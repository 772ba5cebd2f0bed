"""`portico demo` with PORTICO_DEMO on: one fixed write key per demo organization, printed, and the
same on every run; with it off, no key."""

from io import StringIO

from django.core.management import call_command

from portico.api.models import ApiKey
from tests.api.conftest import ApiClient

RENOTECH_KEY = "ptk_demorenotech_portico-demo-api-key"
NORTHWIND_KEY = "ptk_demonorthwind_northwind-demo-api-key"


def test_the_demo_keys_are_fixed_printed_and_work_for_their_own_organization(db, monkeypatch):
    monkeypatch.setenv("PORTICO_DEMO", "true")
    out = StringIO()
    call_command("demo", stdout=out)
    call_command("demo", stdout=StringIO())  # idempotent
    assert RENOTECH_KEY in out.getvalue() and NORTHWIND_KEY in out.getvalue()
    assert ApiKey.all_tenants.count() == 2
    renotech = ApiClient(RENOTECH_KEY).get("/api/v1/customers", {"limit": 100}).json()["data"]
    northwind = ApiClient(NORTHWIND_KEY).get("/api/v1/customers", {"limit": 100}).json()["data"]
    assert "Acme Interiors" in {c["display_name"] for c in renotech}
    assert not {c["id"] for c in renotech} & {c["id"] for c in northwind}


def test_without_portico_demo_the_demo_creates_no_key(db, monkeypatch):
    monkeypatch.delenv("PORTICO_DEMO", raising=False)
    call_command("demo", stdout=StringIO())
    assert not ApiKey.all_tenants.exists()
