from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "portico.engagement"
    label = "engagement"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from portico.core.tenancy import load_with_organization

        load_with_organization("chat_widget")  # every portal page asks whether to show it
