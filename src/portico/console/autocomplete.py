"""The console's autocomplete (`/console/autocomplete/`): the search behind every select that could
hold too many rows to list (customers, invoices), answering only with rows the form would accept.

Django's own view answers for any foreign key whose target admin has `search_fields`, with every
row of the target admin's queryset. Ours answers only for a field its admin declares in
`autocomplete_fields`, keeps to the organization of the host (whatever the manager does), and
narrows the rows to what the form behind the field offers (`OFFERED`): a new document is for an
active customer, a credit note corrects an issued invoice that is not void.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet


def _active(qs: QuerySet) -> QuerySet:
    return qs.filter(is_active=True)


def _issued_not_void(qs: QuerySet) -> QuerySet:
    return qs.exclude(status__in=["draft", "void"])


# (source model, field) → the rows its form offers, beyond the tenant's. A declared autocomplete
# field not listed here offers every row of its target admin (within the organization).
OFFERED: dict[tuple[str, str], Callable[[QuerySet], QuerySet]] = {
    ("billing.invoice", "customer"): _active,
    ("billing.creditnote", "customer"): _active,
    ("billing.payment", "customer"): _active,  # choosing whom a payment is recorded from
    ("billing.creditnote", "invoice"): _issued_not_void,
    ("subscriptions.subscription", "customer"): _active,  # whom a new subscription is for
    ("projects.project", "customer"): _active,  # whom a new project is for
    ("engagement.webtab", "customers"): _active,  # who sees a web tab
}


class ConsoleAutocompleteJsonView(AutocompleteJsonView):
    def process_request(self, request):
        term, model_admin, source_field, to_field_name = super().process_request(request)
        source_admin = self.admin_site._registry.get(source_field.model)
        if source_admin is None or source_field.name not in source_admin.get_autocomplete_fields(request):
            raise PermissionDenied  # only the fields the console offers a search for
        self.offered = OFFERED.get((source_field.model._meta.label_lower, source_field.name))
        return term, model_admin, source_field, to_field_name

    def get_queryset(self):
        qs = super().get_queryset()
        organization = getattr(self.request, "organization", None)
        if organization is not None and any(f.name == "organization" for f in qs.model._meta.fields):
            qs = qs.filter(organization_id=organization.pk)
        return self.offered(qs) if self.offered is not None else qs
