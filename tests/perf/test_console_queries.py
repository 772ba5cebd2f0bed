"""Query-count and page-size guards for the console: a document's page and the forms that choose
customers or invoices cost the same, and weigh the same, for 5 and for 500 customers and invoices in
the organization (a select holding every customer grows with each one)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portico.customers.models import Customer
from tests.billing.factories import credit_note, draft_invoice, open_invoice, pay
from tests.conftest import tenant_client
from tests.factories import staff_user
from tests.perf.bulk import bulk_ledger

PAGES = [
    "/console/billing/invoice/{issued}/change/",
    "/console/billing/invoice/{draft}/change/",
    "/console/billing/invoice/add/",
    "/console/billing/invoice/record-payment/",
    "/console/billing/invoice/record-payment/?customer={customer}",
    "/console/billing/payment/{payment}/change/",
    "/console/billing/payment/{payment}/allocate/",
    "/console/billing/creditnote/add/",
    "/console/billing/creditnote/add/?customer={customer}&invoice={issued}",
    "/console/billing/creditnote/{note}/apply/",
]


@pytest.fixture
def staff(org):
    client = tenant_client(org)
    client.force_login(staff_user(org), backend="portico.accounts.backends.TenantAuthenticationBackend")
    return client


def more_of_the_tenant(org, count: int, *, tag: str, today) -> None:
    """`count` more customers, and `count` more invoices of someone else than the page's customer."""
    Customer.all_tenants.bulk_create(
        Customer(organization=org, display_name=f"Customer {tag}{n}", email=f"{tag}{n}@customer.example")
        for n in range(count)
    )
    someone = Customer.all_tenants.filter(organization=org, display_name=f"Customer {tag}0").get()
    bulk_ledger(someone, count, end=today, tag=f"{tag}-")


def measure(client, url) -> tuple[list[str], int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    sql = [
        q["sql"]
        for q in captured.captured_queries
        if "usersessions_usersession" not in q["sql"] and "SAVEPOINT" not in q["sql"]
    ]
    return sql, len(response.content)


@pytest.mark.parametrize("page", PAGES)
def test_console_pages_cost_and_weigh_the_same_for_5_and_for_500_customers_and_invoices(
    page, org, customer, staff, clock
):
    today = clock.now().date()
    issued = open_invoice(customer, 12000)
    open_invoice(customer, 3000)
    draft = draft_invoice(customer, 5000)
    payment = pay(customer, 20000, (issued, 2000))
    note = credit_note(customer, 1000)
    url = page.format(
        issued=issued.pk, draft=draft.pk, customer=customer.pk, payment=payment.pk, note=note.pk
    )
    more_of_the_tenant(org, 4, tag="A", today=today)
    staff.get(url)  # warm per-process caches (content types, settings rows)
    few, few_size = measure(staff, url)

    more_of_the_tenant(org, 496, tag="B", today=today)
    many, many_size = measure(staff, url)
    assert len(many) == len(few), "\n".join(many)
    assert many_size == few_size
