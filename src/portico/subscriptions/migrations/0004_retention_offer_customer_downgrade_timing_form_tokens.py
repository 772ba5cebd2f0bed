
import django.db.models.deletion
import django.db.models.manager
from django.db import migrations, models


def offered_when(apps, schema_editor):
    """The old flag becomes a time: the row's last change is the best known one."""
    Subscription = apps.get_model("subscriptions", "Subscription")
    Subscription.all_tenants.filter(retention_offered=True).update(retention_offered_at=models.F("updated_at"))


def offered_flag(apps, schema_editor):
    Subscription = apps.get_model("subscriptions", "Subscription")
    Subscription.all_tenants.filter(retention_offered_at__isnull=False).update(retention_offered=True)


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_organization_seller_address_and_tax_id'),
        ('subscriptions', '0003_cancellation_credited'),
    ]

    operations = [
        migrations.AddField(
            model_name='subscription',
            name='retention_offered_at',
            field=models.DateTimeField(blank=True, help_text='When the retention offer was shown (it is shown once).', null=True),
        ),
        migrations.RunPython(offered_when, offered_flag),
        migrations.RemoveField(
            model_name='subscription',
            name='retention_offered',
        ),
        migrations.AlterField(
            model_name='subscriptionsettings',
            name='downgrade_timing',
            field=models.CharField(choices=[('now', 'Immediately'), ('term_end', 'At the end of the term'), ('customer_chooses', 'The customer chooses (now or at the end of the term)')], default='term_end', max_length=16, verbose_name='downgrades apply'),
        ),
        migrations.CreateModel(
            name='UsedFormToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('token', models.CharField(max_length=64)),
                ('action', models.CharField(max_length=32)),
                ('result', models.CharField(blank=True, max_length=500)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='core.organization')),
                ('subscription', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='used_tokens', to='subscriptions.subscription')),
            ],
            options={
                'ordering': ['id'],
                'abstract': False,
                'base_manager_name': 'all_tenants',
                'constraints': [models.UniqueConstraint(fields=('organization', 'token'), name='subscription_form_token_once')],
            },
            managers=[
                ('objects', django.db.models.manager.Manager()),
                ('all_tenants', django.db.models.manager.Manager()),
            ],
        ),
    ]
