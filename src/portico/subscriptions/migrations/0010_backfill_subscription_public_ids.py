import secrets
import string

from django.db import migrations

ALPHABET = string.ascii_letters + string.digits


def random_id() -> str:
    # the same shape as core.fields.new_random_id (migrations never import app code)
    return "".join(secrets.choice(ALPHABET) for _ in range(14))


def backfill(apps, schema_editor):
    model = apps.get_model("subscriptions", "subscription")
    for pk in model._base_manager.filter(public_id__isnull=True).values_list("pk", flat=True).iterator():
        model._base_manager.filter(pk=pk).update(public_id=random_id())


class Migration(migrations.Migration):
    """Step 2 of 3: a random public id for every existing subscription (reversing step 1 drops the
    column, so reversing this step has nothing to undo)."""

    dependencies = [("subscriptions", "0009_subscription_public_id_nullable")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
