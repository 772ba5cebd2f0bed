from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "portico.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from portico.accounts import signals, tenant_emails  # noqa: F401

        tenant_emails.install()
