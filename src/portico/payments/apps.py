from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "portico.payments"
    label = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from portico.customers.services import currency_fixed_by
        from portico.payments.models import PaymentAttempt

        currency_fixed_by(PaymentAttempt)

        from portico.payments import jobs  # noqa: F401  (registers the periodic jobs)
