import portico.core.fields
from django.db import migrations


class Migration(migrations.Migration):
    """Step 3 of 3: the public id is required and unique."""

    dependencies = [("customers", "0007_backfill_customer_public_ids")]

    operations = [
        migrations.AlterField(
            model_name="customer",
            name="public_id",
            field=portico.core.fields.PublicIdField(
                default=portico.core.fields.new_random_id, editable=False, max_length=16, unique=True
            ),
        ),
    ]
