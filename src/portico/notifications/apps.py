from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "portico.notifications"
    label = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from portico.core.mail import register_email_customizer, register_email_recorder
        from portico.notifications import email_log, email_templates

        # core.mail sits below notifications: it asks through these hooks for the organization's
        # own text and on/off of each email, and tells of each message queued (the delivery log).
        register_email_customizer(email_templates.customize)
        register_email_recorder(email_log.record)

        from portico.notifications import (
            delivery,  # noqa: F401  (the webhooks' outbox consumer and sweep)
            receipts,  # noqa: F401  (registers the receipt consumer)
            statements,  # noqa: F401  (registers the statement email consumer)
        )
