from django.db import migrations, models


class Migration(migrations.Migration):
    """Step 1 of 3 for the API's public ids: the column, nullable (healthchecks 0116-0118)."""

    dependencies = [("catalog", "0004_covered_indexes")]

    operations = [
        migrations.AddField(
            model_name="taxrate",
            name="public_id",
            field=models.CharField(editable=False, max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="item",
            name="public_id",
            field=models.CharField(editable=False, max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="product",
            name="public_id",
            field=models.CharField(editable=False, max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="plan",
            name="public_id",
            field=models.CharField(editable=False, max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="addon",
            name="public_id",
            field=models.CharField(editable=False, max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="coupon",
            name="public_id",
            field=models.CharField(editable=False, max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="couponcode",
            name="public_id",
            field=models.CharField(editable=False, max_length=16, null=True),
        ),
    ]
