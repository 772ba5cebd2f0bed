from django.db import migrations, models


class Migration(migrations.Migration):
    """Step 1 of 3 for the public ids of invoices, credit notes and payments (the API's `in_…`,
    `cn_…`, `pay_…`): the columns, nullable."""

    dependencies = [("billing", "0008_covered_indexes")]

    operations = [
        migrations.AddField(
            model_name="invoice",
            name="public_id",
            field=models.CharField(editable=False, max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="creditnote",
            name="public_id",
            field=models.CharField(editable=False, max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="payment",
            name="public_id",
            field=models.CharField(editable=False, max_length=16, null=True),
        ),
    ]
