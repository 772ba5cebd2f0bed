from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "portico.projects"
    label = "projects"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from portico.billing.services import register_void_hook
        from portico.customers.services import currency_fixed_by
        from portico.projects.models import Project
        from portico.projects.services import release_voided_invoice

        # Voiding a project invoice releases what it billed, in the void's transaction.
        register_void_hook(release_voided_invoice)
        # A customer with a project keeps its currency (the project bills in it).
        currency_fixed_by(Project)
