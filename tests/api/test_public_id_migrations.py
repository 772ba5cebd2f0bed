"""The public ids' migrations give every row made before them its own random id (both apps)."""

from __future__ import annotations

from decimal import Decimal

from portico.catalog import models as catalog
from portico.customers import models
from tests.factories import CustomerFactory, OrganizationFactory

BEFORE = [("customers", "0005_covered_indexes"), ("catalog", "0004_covered_indexes")]
AFTER = [("customers", "0008_customer_public_id_required"), ("catalog", "0007_public_ids_required")]


def test_rows_made_before_the_public_ids_each_get_their_own(migrator):
    organization = OrganizationFactory(slug="older")
    CustomerFactory(organization=organization)
    old = None
    for target in BEFORE:
        old = migrator(target)
    Customer = old.get_model("customers", "Customer")
    TaxRate = old.get_model("catalog", "TaxRate")
    Product = old.get_model("catalog", "Product")
    Customer.objects.create(organization_id=organization.pk, display_name="Made before")
    for n in range(3):
        TaxRate.objects.create(organization_id=organization.pk, name=f"Rate {n}", percent=Decimal(n))
        Product.objects.create(organization_id=organization.pk, name=f"Product {n}")
    for target in AFTER:
        migrator(target)
    # the schema is the latest again: read through the app's own models
    for model in (models.Customer, catalog.TaxRate, catalog.Product):
        label = model._meta.label
        ids = list(model.all_tenants.values_list("public_id", flat=True))
        assert ids and all(len(i) == 14 and i.isalnum() for i in ids), (label, ids)
        assert len(set(ids)) == len(ids), label
