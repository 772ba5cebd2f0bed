"""docs/api.md's walkthrough works as written: every `sh` block of the page, in order, run by bash
against a served demo (the real server, the demo's fixed key), stopping at the first failure."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from portico.billing.models import Invoice
from portico.catalog.models import Plan
from portico.customers.models import ContactPerson, Customer
from portico.projects.models import TimeEntry
from portico.subscriptions.models import Subscription

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def shell_blocks() -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```$", DOC.read_text(), flags=re.S | re.M)


def test_the_page_has_a_walkthrough():
    blocks = shell_blocks()
    assert len(blocks) >= 5 and "export KEY=" in blocks[0]


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough drives curl")
@pytest.mark.django_db(transaction=True)
def test_the_walkthrough_runs_as_written_against_a_served_demo(live_server, monkeypatch):
    monkeypatch.setenv("PORTICO_DEMO", "true")
    call_command("demo", stdout=StringIO())
    script = "set -euo pipefail\n" + "\n".join(shell_blocks())
    done = subprocess.run(
        ["bash", "-c", script],
        env={**os.environ, "PORTICO": f"{live_server.url}/api/v1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    globex = Customer.all_tenants.get(display_name="Globex")  # once, though posted twice
    assert (globex.organization.slug, globex.billing_city, globex.payment_terms_days) == (
        "renotech",
        "Austin",
        15,
    )
    hank = ContactPerson.all_tenants.get(customer=globex)
    assert (hank.email, hank.has_portal_access, hank.phone) == ("hank@globex.example", True, "+1 555 0100")
    assert Plan.all_tenants.get(code="support-monthly").is_archived
    # started on Basic ($29.00), upgraded the same day to Business ($99.00): the whole month of Basic
    # credited on the upgrade's invoice, whose $70.00 left was paid
    [subscription] = Subscription.all_tenants.filter(customer=globex)
    assert (subscription.plan.code, subscription.status) == ("maint-business-monthly", "live")
    upgrade = Invoice.all_tenants.filter(subscription_link__subscription=subscription).order_by("pk").last()
    assert (upgrade.total_minor, upgrade.credited_minor, upgrade.paid_minor, upgrade.status) == (
        9900,
        2900,
        7000,
        "paid",
    )
    assert Subscription.all_tenants.filter(organization=globex.organization, customer=globex).count() == 1
    shelving = TimeEntry.all_tenants.select_related("task").get(project__code="ACME-OFFICE", notes="Shelving")
    assert (shelving.hours, shelving.state, shelving.task.name) == (
        Decimal("7.50"),
        "unapproved",
        "Carpentry",
    )
