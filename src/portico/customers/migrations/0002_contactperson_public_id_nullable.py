from django.db import migrations, models


class Migration(migrations.Migration):
    """Step 1 of 3 for a new required column: add it nullable (healthchecks 0116-0118)."""

    dependencies = [("customers", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="contactperson",
            name="public_id",
            field=models.CharField(editable=False, max_length=16, null=True),
        ),
    ]
