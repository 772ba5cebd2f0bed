"""The business back office: Django's admin, scoped to the organization whose host it is served on.

Staff of an organization sign in on their organization's host (renotech.example.com/console/) and
see only that organization's rows: querysets are scoped by the tenant manager, and every write sets
the organization from the host, never from a form. Platform superusers use the platform host.
"""

from django.contrib import admin
from django.http import Http404
from django.utils.translation import gettext_lazy as _


class ConsoleSite(admin.AdminSite):
    site_header = _("Portico console")
    site_title = _("Portico console")
    index_title = _("Back office")

    def has_permission(self, request):
        user = request.user
        if not (user.is_active and user.is_authenticated and user.is_staff):
            return False
        organization = getattr(request, "organization", None)
        if organization is None:
            return user.is_platform_admin
        return user.organization_id == organization.pk

    def login(self, request, extra_context=None):
        """Staff sign in through the same allauth flow as everyone (rate limits, MFA)."""
        from django.contrib.auth.views import redirect_to_login
        from django.urls import reverse

        next_url = request.GET.get("next") or reverse("console:index")
        return redirect_to_login(next_url)

    def each_context(self, request):
        context = super().each_context(request)
        organization = getattr(request, "organization", None)
        if organization is not None:
            context["site_header"] = f"{organization.name} · {self.site_header}"
        return context


console_site = ConsoleSite(name="console")


class ConsoleModelAdmin(admin.ModelAdmin):
    """Every admin of the console: an id that is not among the rows staff may see (another
    organization's, or none) answers 404 on its change, delete and history pages, as everywhere in
    Portico, instead of Django's redirect to the index."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj


class TenantAdmin(ConsoleModelAdmin):
    """Tenant data: visible and editable by the organization's staff on its host, nowhere else."""

    tenant_field = "organization"

    def _is_tenant_staff(self, request) -> bool:
        organization = getattr(request, "organization", None)
        return organization is not None and request.user.organization_id == organization.pk

    def has_module_permission(self, request):
        return self._is_tenant_staff(request) or request.user.is_platform_admin

    def has_view_permission(self, request, obj=None):
        return self._is_tenant_staff(request) or request.user.is_platform_admin

    def has_add_permission(self, request):
        return self._is_tenant_staff(request)

    def has_change_permission(self, request, obj=None):
        return self._is_tenant_staff(request)

    def has_delete_permission(self, request, obj=None):
        return self._is_tenant_staff(request)

    def get_queryset(self, request):
        if getattr(request, "organization", None) is None:
            # The platform host acts for no organization; a platform admin's view spans them all.
            queryset = self.model.all_tenants.get_queryset()
            ordering = self.get_ordering(request)
            return queryset.order_by(*ordering) if ordering else queryset
        return super().get_queryset(request)

    def get_exclude(self, request, obj=None):
        return [*(super().get_exclude(request, obj) or []), self.tenant_field]

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if request.user.is_platform_admin and getattr(request, "organization", None) is None:
            filters.insert(0, self.tenant_field)
        return filters

    def save_model(self, request, obj, form, change):
        if not change:
            setattr(obj, self.tenant_field, request.organization)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        for instance in formset.save(commit=False):
            if hasattr(instance, "organization_id") and instance.organization_id is None:
                instance.organization = request.organization
            instance.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


class TenantInline(admin.TabularInline):
    extra = 0

    def get_exclude(self, request, obj=None):
        return [*(super().get_exclude(request, obj) or []), "organization"]

    def has_view_permission(self, request, obj=None):
        return True

    def has_add_permission(self, request, obj=None):
        return getattr(request, "organization", None) is not None

    def has_change_permission(self, request, obj=None):
        return getattr(request, "organization", None) is not None

    def has_delete_permission(self, request, obj=None):
        return getattr(request, "organization", None) is not None
