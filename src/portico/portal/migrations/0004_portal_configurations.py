"""Portal preferences become portal configurations: an organization keeps its row as its default
(`default_of`) and may add more, chosen per customer."""

import django.db.models.deletion
from django.db import migrations, models


def existing_rows_are_defaults(apps, schema_editor):
    PortalConfiguration = apps.get_model("portal", "PortalConfiguration")
    PortalConfiguration.objects.update(default_of=models.F("organization"))


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_organization_favicon_and_headline"),
        ("customers", "0010_statement_day_in_every_month"),
        ("portal", "0003_preferences_switch_on_and_company_details"),
    ]

    operations = [
        migrations.RenameModel("PortalPreferences", "PortalConfiguration"),
        migrations.AlterField(
            model_name="portalconfiguration",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="portal_configurations",
                to="core.organization",
            ),
        ),
        migrations.AddField(
            model_name="portalconfiguration",
            name="name",
            field=models.CharField(default="Default", max_length=80, verbose_name="name"),
        ),
        migrations.AddField(
            model_name="portalconfiguration",
            name="default_of",
            field=models.OneToOneField(
                blank=True,
                editable=False,
                help_text="Set on the organization's default configuration only.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="portal_preferences",
                to="core.organization",
            ),
        ),
        migrations.RunPython(existing_rows_are_defaults, migrations.RunPython.noop),
    ]
