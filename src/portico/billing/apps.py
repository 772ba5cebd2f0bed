from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "portico.billing"
    label = "billing"
    default_auto_field = "django.db.models.BigAutoField"
