"""`field__any=[…]`: membership in a long list of ids as ONE parameter on PostgreSQL.

`field__in=ids` with the bill run's 500 ids builds 500 placeholders: Django checks each value as a
possible expression and psycopg parses the long statement anew each time, which cost more than the
queries themselves. `= ANY(%s)` sends the list as one array, written as one text literal
(`core.bulk.array_literal`: psycopg would quote each element in Python); SQLite, which has no
arrays, gets the usual `IN (…)`. Registered on integer and foreign-key fields (`CoreConfig.ready`);
the values must already be ids (no model instances, no expressions), which is what the callers hold.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db import models

from portico.core.bulk import array_literal


class AnyOf(models.Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self):
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = self.rhs
        if not values:
            raise EmptyResultSet
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", (*lhs_params, array_literal(values))
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", (*lhs_params, *values)


def register() -> None:
    for field in (models.IntegerField, models.BigIntegerField, models.AutoField, models.BigAutoField):
        field.register_lookup(AnyOf)
    models.ForeignKey.register_lookup(AnyOf)
