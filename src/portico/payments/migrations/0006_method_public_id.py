from django.db import migrations, models

import portico.payments.models


def fill_public_ids(apps, schema_editor):
    PaymentMethod = apps.get_model("payments", "PaymentMethod")
    for method in PaymentMethod._base_manager.filter(public_id__isnull=True).only("pk"):
        PaymentMethod._base_manager.filter(pk=method.pk).update(
            public_id=portico.payments.models.new_method_public_id()
        )


class Migration(migrations.Migration):
    dependencies = [("payments", "0005_card_refunds")]

    operations = [
        migrations.AddField(
            model_name="paymentmethod",
            name="public_id",
            field=models.CharField(editable=False, max_length=24, null=True),
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="paymentmethod",
            name="public_id",
            field=models.CharField(
                default=portico.payments.models.new_method_public_id, editable=False, max_length=24, unique=True
            ),
        ),
    ]
