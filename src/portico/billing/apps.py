from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "portico.billing"
    label = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from portico.billing import (
            documents,  # noqa: F401  (connects the PDF renderer to invoice_finalized)
            overdue,  # noqa: F401  (registers the overdue sweep)
            statement_mail,  # noqa: F401  (registers the scheduled statements sweep)
        )
        from portico.billing.models import CreditNote, Invoice, Payment
        from portico.core.tenancy import load_with_organization
        from portico.customers.services import currency_fixed_by

        load_with_organization("billing")

        for model in (Invoice, CreditNote, Payment):
            currency_fixed_by(model)
