from django.db import migrations, models


class Migration(migrations.Migration):
    """Step 1 of 3 for the API's subscription ids (`sub_…`): the column, nullable (healthchecks
    0116-0118)."""

    dependencies = [("subscriptions", "0008_covered_indexes")]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="public_id",
            field=models.CharField(editable=False, max_length=16, null=True),
        ),
    ]
