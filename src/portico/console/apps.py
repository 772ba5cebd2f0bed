from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "portico.console"
    label = "console"
    default_auto_field = "django.db.models.BigAutoField"
