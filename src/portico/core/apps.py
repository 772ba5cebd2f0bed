from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "portico.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from portico.core import cards, lookups

        cards.mask_log_records()  # no log line carries a card number, whoever logs it

        lookups.register()  # `field__any=ids`
        from portico.core import mail  # noqa: F401  registers the `email.send` consumer
