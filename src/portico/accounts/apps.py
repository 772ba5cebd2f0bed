from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "portico.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from portico.accounts import (  # noqa: F401
            security_signals,
            signals,
            tenant_emails,
            totp,
        )

        tenant_emails.install()
        totp.install()
