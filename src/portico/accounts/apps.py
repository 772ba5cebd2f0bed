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
        from portico.core.tenancy import load_with_organization

        load_with_organization("access_policy")
        tenant_emails.install()
        totp.install()
