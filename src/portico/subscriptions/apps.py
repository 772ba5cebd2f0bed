from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "portico.subscriptions"
    label = "subscriptions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # registers the payment-method dependency (a subscription charging the customer's last card)
        from portico.subscriptions import services  # noqa: F401
