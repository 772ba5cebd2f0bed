from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "portico.subscriptions"
    label = "subscriptions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from portico.subscriptions import dunning, jobs  # noqa: F401  (the charge consumer, the periodic job)
