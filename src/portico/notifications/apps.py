from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "portico.notifications"
    label = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from portico.notifications import (
            delivery,  # noqa: F401  (the webhooks' outbox consumer and sweep)
            receipts,  # noqa: F401  (registers the receipt consumer)
            statements,  # noqa: F401  (registers the statement email consumer)
        )
