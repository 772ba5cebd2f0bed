"""A customer's statement day is a day every month has: the database refuses any other, whatever
path writes it (the console's form says so first)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from portico.customers.models import Customer


@pytest.mark.parametrize("day", [0, 29, 31])
def test_a_statement_day_that_some_month_lacks_is_refused_by_the_database(customer, day):
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(statement_day=day)
    customer.refresh_from_db()
    assert customer.statement_day is None


@pytest.mark.parametrize("day", [None, 1, 28])
def test_a_statement_day_of_every_month_or_none_is_kept(customer, day):
    Customer.objects.filter(pk=customer.pk).update(statement_day=day)
    customer.refresh_from_db()
    assert customer.statement_day == day
