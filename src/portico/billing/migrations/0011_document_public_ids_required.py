import portico.core.fields
from django.db import migrations


class Migration(migrations.Migration):
    """Step 3 of 3: the documents' public ids are required and unique."""

    dependencies = [("billing", "0010_backfill_document_public_ids")]

    operations = [
        migrations.AlterField(
            model_name="invoice",
            name="public_id",
            field=portico.core.fields.PublicIdField(
                default=portico.core.fields.new_random_id, editable=False, max_length=16, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="creditnote",
            name="public_id",
            field=portico.core.fields.PublicIdField(
                default=portico.core.fields.new_random_id, editable=False, max_length=16, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="payment",
            name="public_id",
            field=portico.core.fields.PublicIdField(
                default=portico.core.fields.new_random_id, editable=False, max_length=16, unique=True
            ),
        ),
    ]
