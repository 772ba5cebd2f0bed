from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "portico.notifications"
    label = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from portico.notifications import receipts  # noqa: F401  (registers the receipt consumer)
