import secrets

from django.db import migrations


def backfill(apps, schema_editor):
    ContactPerson = apps.get_model("customers", "ContactPerson")
    for contact in ContactPerson.objects.filter(public_id__isnull=True).only("pk").iterator():
        ContactPerson.objects.filter(pk=contact.pk).update(public_id=secrets.token_urlsafe(9))


class Migration(migrations.Migration):
    """Step 2 of 3: give every existing contact a random public id (reversible: the column is dropped
    by reversing step 1, so reversing this step has nothing to undo)."""

    dependencies = [("customers", "0002_contactperson_public_id_nullable")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
