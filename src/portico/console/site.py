"""The business back office: Django's admin, scoped to the organization whose host it is served on.

Staff of an organization sign in on their organization's host (renotech.example.com/console/) and
see only that organization's rows: querysets are scoped by the tenant manager, and every write sets
the organization from the host, never from a form. Platform superusers use the platform host.

What each staff member may do follows their role (`console.roles`), enforced here for every admin
registered on the site: its permission methods, its list actions, its inlines and every URL it
serves, its own extra pages (finalize, refund...) included, on GET and POST alike.
"""

import functools
from urllib.parse import urlsplit

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import Resolver404, URLPattern, resolve
from django.utils.translation import gettext_lazy as _

from portico.console import roles
from portico.core.errors import DomainError, domain_error_message


class ConsoleSite(admin.AdminSite):
    site_header = _("Portico console")
    site_title = _("Portico console")
    index_title = _("Back office")

    def has_permission(self, request):
        user = request.user
        if not (user.is_active and user.is_authenticated and user.is_staff):
            return False
        if roles.role_of(user) not in roles.StaffRole.values and not user.is_platform_admin:
            return False  # no known role, no console
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

    def autocomplete_view(self, request):
        from portico.console.autocomplete import ConsoleAutocompleteJsonView

        return ConsoleAutocompleteJsonView.as_view(admin_site=self)(request)

    def each_context(self, request):
        context = super().each_context(request)
        organization = getattr(request, "organization", None)
        if organization is not None:
            context["site_header"] = f"{organization.name} · {self.site_header}"
        role = roles.role_of(request.user)
        if role is not None and not request.user.is_platform_admin:
            from portico.accounts.models import StaffRole

            context["staff_role_label"] = StaffRole(role).label
        return context


console_site = ConsoleSite(name="console")


# the permission methods of an admin and what each asks the role for
_PERMISSION_METHODS = {
    "has_view_permission": roles.VIEW,
    "has_add_permission": roles.ADD,
    "has_change_permission": roles.CHANGE,
    "has_delete_permission": roles.DELETE,
}
# Django's own pages of an admin (URL name suffix) and the permission that opens them; any other
# named URL of an admin is one of its actions (`billing_invoice_finalize` → "finalize").
_STANDARD_PAGES = {
    "changelist": roles.VIEW,
    "change": roles.VIEW,
    "history": roles.VIEW,
    "add": roles.ADD,
    "delete": roles.DELETE,
}


def _narrowed(method, permission: str):
    """The admin's own answer, and only if the staff member's role allows `permission` too."""

    @functools.wraps(method)
    def check(self, request, *args, **kwargs):
        return roles.allows(request.user, self.opts.label_lower, permission) and method(
            self, request, *args, **kwargs
        )

    check.role_checked = True
    return check


def _role_filtered_actions(method):
    @functools.wraps(method)
    def get_actions(self, request):
        actions = method(self, request)
        label = self.opts.label_lower
        return {
            name: action
            for name, action in actions.items()
            if roles.allows(request.user, label, roles.permission_for_action(name))
        }

    get_actions.role_checked = True
    return get_actions


class ConsoleModelAdmin(admin.ModelAdmin):
    """Every admin of the console: an id that is not among the rows staff may see (another
    organization's, or none) answers 404 on its change, delete and history pages, as everywhere in
    Portico, instead of Django's redirect to the index.

    Roles: whatever a subclass (or a mixin of it) answers in its permission methods and
    `get_actions` is narrowed by `console.roles` (wrapped once per class as it is defined, so an
    override cannot forget it); every URL of the admin checks the role before its view runs."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name, permission in _PERMISSION_METHODS.items():
            method = getattr(cls, name)
            if not getattr(method, "role_checked", False):
                setattr(cls, name, _narrowed(method, permission))
        if not getattr(cls.get_actions, "role_checked", False):
            cls.get_actions = _role_filtered_actions(cls.get_actions)

    def has_view_permission(self, request, obj=None):
        return roles.allows(request.user, self.opts.label_lower, roles.VIEW)

    def has_add_permission(self, request):
        return roles.allows(request.user, self.opts.label_lower, roles.ADD)

    def has_change_permission(self, request, obj=None):
        return roles.allows(request.user, self.opts.label_lower, roles.CHANGE)

    def has_delete_permission(self, request, obj=None):
        return roles.allows(request.user, self.opts.label_lower, roles.DELETE)

    # -- every URL of the admin ------------------------------------------------------------------

    def url_permission(self, url_name: str | None) -> str | None:
        """The permission a URL of this admin needs (None: Django's unnamed redirect to the change
        page). A page named outside the admin's prefix needs a permission of its own name."""
        if not url_name:
            return None
        page = url_name.removeprefix(f"{self.opts.app_label}_{self.opts.model_name}_")
        return _STANDARD_PAGES.get(page) or roles.permission_for_action(page)

    @property
    def urls(self):
        return [self._guarded(pattern) for pattern in self.get_urls()]

    def _guarded(self, pattern):
        permission = self.url_permission(pattern.name)
        if permission is None or not isinstance(pattern, URLPattern):
            return pattern
        view, label = pattern.callback, self.opts.label_lower

        @functools.wraps(view)
        def guarded(request, *args, **kwargs):
            # signed-out visitors and other organizations' staff go on to the login, as before
            if self.admin_site.has_permission(request) and not roles.allows(request.user, label, permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        guarded.role_permission = (label, permission)
        return URLPattern(pattern.pattern, guarded, pattern.default_args, pattern.name)

    def changelist_view(self, request, extra_context=None):
        """A list action the role may not run answers 403 (Django would only say "no action")."""
        action = request.POST.get("action") if request.method == "POST" else None
        declared = action and any(name == action for _func, name, _desc in self._get_base_actions())
        if declared and action not in self.get_actions(request):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """Object tools (`billing_tools`) the role may not use are not offered."""
        if extra_context and extra_context.get("billing_tools"):
            extra_context = {
                **extra_context,
                "billing_tools": [
                    tool
                    for tool in extra_context["billing_tools"]
                    if self._tool_allowed(request, tool["url"])
                ],
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def _tool_allowed(self, request, url: str) -> bool:
        try:
            view = resolve(urlsplit(url).path).func
        except Resolver404:
            return False
        required = getattr(view, "role_permission", None)
        return required is None or roles.allows(request.user, *required)

    def get_inline_instances(self, request, obj=None):
        """An inline is part of its parent: edited as far as the role may change the parent."""
        inlines = super().get_inline_instances(request, obj)
        if request is None or roles.allows(request.user, self.opts.label_lower, roles.CHANGE):
            return inlines
        for inline in inlines:
            inline.has_add_permission = inline.has_change_permission = inline.has_delete_permission = _deny
            inline.max_num = 0
        return inlines

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj


def _deny(request, obj=None):
    return False


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

    def get_formset(self, request, obj=None, **kwargs):
        """A table's inputs are labelled by its column heads only for the eye: each input (the
        "Delete?" box included) gets its field's name as its accessible name (axe: "form elements
        must have labels")."""
        formset = super().get_formset(request, obj, **kwargs)

        class LabelledFormSet(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)
                for name, field in form.fields.items():
                    field.widget.attrs.setdefault("aria-label", str(field.label or name))

        LabelledFormSet.__name__ = formset.__name__
        return LabelledFormSet

    def has_view_permission(self, request, obj=None):
        return True

    def has_add_permission(self, request, obj=None):
        return getattr(request, "organization", None) is not None

    def has_change_permission(self, request, obj=None):
        return getattr(request, "organization", None) is not None

    def has_delete_permission(self, request, obj=None):
        return getattr(request, "organization", None) is not None


# -- refusals found while saving -----------------------------------------------------------------------


def refused(request, error: DomainError, *, about=None) -> None:
    """A refusal found only while saving (under the service's lock): the service wrote nothing for
    it; say so, and go back to the form instead of reporting success."""
    request._console_refused = True
    domain_error_message(request, error, about=about)


class RefusalRedirectMixin:
    """After a refusal in `save_model`/`save_formset`, back to the form instead of "saved", and no
    admin log entry for a change that did not happen."""

    def response_change(self, request, obj):
        if getattr(request, "_console_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_console_refused", False) or obj.pk is None:
            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, post_url_continue)

    def log_addition(self, request, obj, message):
        if obj.pk is not None:
            return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        if not getattr(request, "_console_refused", False):
            return super().log_change(request, obj, message)
