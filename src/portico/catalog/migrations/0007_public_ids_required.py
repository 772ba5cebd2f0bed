import portico.core.fields
from django.db import migrations


class Migration(migrations.Migration):
    """Step 3 of 3: the public id is required and unique."""

    dependencies = [("catalog", "0006_backfill_public_ids")]

    operations = [
        migrations.AlterField(
            model_name="taxrate",
            name="public_id",
            field=portico.core.fields.PublicIdField(
                default=portico.core.fields.new_random_id, editable=False, max_length=16, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="item",
            name="public_id",
            field=portico.core.fields.PublicIdField(
                default=portico.core.fields.new_random_id, editable=False, max_length=16, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="product",
            name="public_id",
            field=portico.core.fields.PublicIdField(
                default=portico.core.fields.new_random_id, editable=False, max_length=16, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="plan",
            name="public_id",
            field=portico.core.fields.PublicIdField(
                default=portico.core.fields.new_random_id, editable=False, max_length=16, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="addon",
            name="public_id",
            field=portico.core.fields.PublicIdField(
                default=portico.core.fields.new_random_id, editable=False, max_length=16, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="coupon",
            name="public_id",
            field=portico.core.fields.PublicIdField(
                default=portico.core.fields.new_random_id, editable=False, max_length=16, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="couponcode",
            name="public_id",
            field=portico.core.fields.PublicIdField(
                default=portico.core.fields.new_random_id, editable=False, max_length=16, unique=True
            ),
        ),
    ]
