"""The subscription actions an organization allowed in the portal (`SubscriptionSettings.portal_actions`)
become capabilities of its portal configurations: each action it had not allowed is switched off in
its default configuration. Runs before the field is removed (subscriptions 0012)."""

from django.db import migrations

ACTIONS = (
    "convert_trial",
    "extend_trial",
    "cancel_trial",
    "change_plan",
    "change_quantity",
    "add_addon",
    "remove_addon",
    "redeem_coupon",
    "pause",
    "resume",
    "cancel",
    "undo_cancel",
    "reactivate",
    "auto_charge",
)


def actions_into_configurations(apps, schema_editor):
    SubscriptionSettings = apps.get_model("subscriptions", "SubscriptionSettings")
    PortalConfiguration = apps.get_model("portal", "PortalConfiguration")
    for settings in SubscriptionSettings.objects.all():
        allowed = set(settings.portal_actions or [])
        off = [f"subscriptions.{action}" for action in ACTIONS if action not in allowed]
        if not off:
            continue
        configuration, _created = PortalConfiguration.objects.get_or_create(
            default_of_id=settings.organization_id,
            defaults={"organization_id": settings.organization_id, "name": "Default"},
        )
        configuration.disabled = sorted(set(configuration.disabled) | set(off))
        configuration.save(update_fields=["disabled"])


def actions_back_into_settings(apps, schema_editor):
    SubscriptionSettings = apps.get_model("subscriptions", "SubscriptionSettings")
    PortalConfiguration = apps.get_model("portal", "PortalConfiguration")
    for configuration in PortalConfiguration.objects.filter(default_of__isnull=False):
        moved = {f"subscriptions.{action}" for action in ACTIONS if action != "cancel"}  # "cancel" was there before
        off = {entry.split(".", 1)[1] for entry in configuration.disabled if entry in moved}
        SubscriptionSettings.objects.filter(organization_id=configuration.organization_id).update(
            portal_actions=[action for action in ACTIONS if action not in off]
        )
        configuration.disabled = [e for e in configuration.disabled if e not in moved]
        configuration.save(update_fields=["disabled"])


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0005_configuration_choices"),
        ("subscriptions", "0011_subscription_public_id_required"),
    ]
    run_before = [("subscriptions", "0012_portal_actions_moved_to_portal_configurations")]

    operations = [migrations.RunPython(actions_into_configurations, actions_back_into_settings)]
