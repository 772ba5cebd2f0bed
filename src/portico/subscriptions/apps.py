from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "portico.subscriptions"
    label = "subscriptions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # registers the payment-method dependency (a subscription charging the customer's last card)
        # and the periodic job
        from portico.payments.autocharge import register_outcome_handler
        from portico.subscriptions import dunning, jobs, services  # noqa: F401

        register_outcome_handler(dunning.charge_settled)
