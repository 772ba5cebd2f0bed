from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portico.portal"
    label = "portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from portico.core.tenancy import load_with_organization

        load_with_organization("portal_preferences")
        from django.core import checks

        from portico.portal.capabilities import check_portal_gates

        checks.register(check_portal_gates, checks.Tags.urls)
        from portico.portal import ledger_views, views

        if ledger_views.ledger_cards not in views.DASHBOARD_CARDS:
            views.DASHBOARD_CARDS.append(ledger_views.ledger_cards)
            views.DASHBOARD_PANELS.append(ledger_views.latest_invoices_panel)
            views.DASHBOARD_PANELS.append(ledger_views.invoiced_vs_paid_panel)
