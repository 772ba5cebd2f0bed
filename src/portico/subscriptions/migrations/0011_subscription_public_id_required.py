import portico.core.fields
from django.db import migrations


class Migration(migrations.Migration):
    """Step 3 of 3: the subscription's public id is required and unique."""

    dependencies = [("subscriptions", "0010_backfill_subscription_public_ids")]

    operations = [
        migrations.AlterField(
            model_name="subscription",
            name="public_id",
            field=portico.core.fields.PublicIdField(
                default=portico.core.fields.new_random_id, editable=False, max_length=16, unique=True
            ),
        ),
    ]
