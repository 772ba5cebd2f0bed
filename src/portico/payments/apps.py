from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "portico.payments"
    label = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from portico.billing.documents import register_payment_instructions
        from portico.core.tenancy import load_with_organization
        from portico.customers.services import currency_fixed_by
        from portico.payments.gateways import bank_transfer_instructions
        from portico.payments.models import PaymentAttempt

        currency_fixed_by(PaymentAttempt)
        load_with_organization("payment_settings")
        register_payment_instructions(bank_transfer_instructions)

        from portico.billing.services import register_auto_charge_lookup
        from portico.payments import autocharge, jobs  # noqa: F401  (the consumer and the periodic jobs)

        register_auto_charge_lookup(autocharge.auto_charging)
