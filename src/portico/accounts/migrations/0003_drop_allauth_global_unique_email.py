from django.db import migrations


class Migration(migrations.Migration):
    """The same email may be a verified login at two organizations (DESIGN: tenancy).

    allauth's `unique_verified_email` index makes verified addresses unique across the whole
    database. Uniqueness per organization is enforced by accounts.User's constraint and by the
    tenant-aware email lookup (accounts/tenant_emails.py), so the global index is dropped here.
    """

    dependencies = [
        ("accounts", "0002_initial"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [
        migrations.RunSQL(
            "DROP INDEX IF EXISTS unique_verified_email",
            reverse_sql="CREATE UNIQUE INDEX unique_verified_email ON account_emailaddress (email) WHERE verified",
        )
    ]
