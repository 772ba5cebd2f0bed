"""The portal's capabilities, collected from the apps that declare them (`<app>/capabilities.py`,
a `PORTAL_CAPABILITIES` list of `core.capabilities.Capability`).

Three things follow from the one declaration:
- what an organization's portal preferences may name (`check_choices`), and their defaults;
- the gate of every portal view: `@portal_view(module=..., action=...)` names a declared capability
  and takes its roles from it (`portal.access`);
- the console's checkboxes (`PortalPreferencesAdmin`).

A system check (`check_portal_gates`) walks the URL configuration: every page under /portal/ is
either gated by a declared capability or listed in `PUBLIC_PAGES` with the reason it is open.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import cache
from importlib import import_module

from django.apps import apps
from django.core import checks
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.module_loading import module_has_submodule
from django.utils.translation import gettext_lazy as _

from portico.core.capabilities import Capability

# The portal's own: the overview every portal user lands on.
PORTAL_CAPABILITIES = [
    Capability("overview", "view", _("Overview"), switchable=False),
]

_SIGN_IN = "open: it is how a visitor signs in (or is told why not); allauth guards it"
_OWN_LOGIN = "allauth's page for the signed-in user's own login; allauth requires the sign-in"

# Portal URL names (namespaced where they are) that no capability gates, each with its reason.
PUBLIC_PAGES: dict[str, str] = {
    "accounts:accept_invitation": "open: the invited person has no sign-in yet; the token is the key",
    "account_login": _SIGN_IN,
    "account_logout": "open: signing out needs no capability",
    "account_inactive": _SIGN_IN,
    "account_signup": "open but closed by the adapter: portal logins come from invitations",
    "account_confirm_login_code": _SIGN_IN,
    "account_reset_password": "open: a person who forgot their password is not signed in",
    "account_reset_password_done": "open: part of the password reset",
    "account_reset_password_from_key": "open: the emailed key is the proof",
    "account_reset_password_from_key_done": "open: part of the password reset",
    "account_email_verification_sent": "open: allauth's notice after an email change",
    "account_confirm_email": "open: the emailed key is the proof",
    "account_reauthenticate": _OWN_LOGIN,
    "account_request_reauthentication_code": _OWN_LOGIN,
    "account_confirm_reauthentication_code": _OWN_LOGIN,
    "account_email": _OWN_LOGIN,
    "account_change_password": _OWN_LOGIN,
    "account_set_password": _OWN_LOGIN,
    "mfa_index": _OWN_LOGIN,
    "mfa_authenticate": "open: the second step of signing in",
    "mfa_reauthenticate": _OWN_LOGIN,
    "mfa_activate_totp": _OWN_LOGIN,
    "mfa_deactivate_totp": _OWN_LOGIN,
    "mfa_view_recovery_codes": _OWN_LOGIN,
    "mfa_generate_recovery_codes": _OWN_LOGIN,
    "mfa_download_recovery_codes": _OWN_LOGIN,
    "mfa_list_webauthn": _OWN_LOGIN,
    "mfa_add_webauthn": _OWN_LOGIN,
    "mfa_reauthenticate_webauthn": _OWN_LOGIN,
    "mfa_remove_webauthn": _OWN_LOGIN,
    "mfa_edit_webauthn": _OWN_LOGIN,
    "mfa_login_webauthn": "open: signing in with a passkey",
    "usersessions_list": _OWN_LOGIN,
    # single sign-on (accounts/sso.py): each connection's URLs exist on its own organization's host only
    "sso_discover": _SIGN_IN,
    "openid_connect_login": _SIGN_IN,
    "openid_connect_callback": "open: the identity provider sends the browser back; state, nonce and PKCE guard it",
    "saml_login": _SIGN_IN,
    "saml_acs": "open: the identity provider posts its signed assertion here",
    "saml_finish_acs": "open: the second half of the assertion's check (allauth's same-site hop)",
    "saml_metadata": "open: the service provider's public metadata, for the customer's IT",
    "saml_sls": "open: the identity provider's single logout",
    "socialaccount_login_cancelled": _SIGN_IN,
    "socialaccount_login_error": _SIGN_IN,
    "socialaccount_signup": "open but closed: answers 302 to the sign-in page (new contacts come from a connection)",
    "socialaccount_connections": "answers 404: identities are linked by verified email, not by hand",
}

PORTAL_PREFIX = "portal/"


class Registry:
    """The declared capabilities by key ("module.action"), in declaration order."""

    def __init__(self, declared: list[Capability]):
        self._by_key: dict[str, Capability] = {}
        for capability in declared:
            self._add(capability)
        self._check_modules_have_view()

    def _add(self, capability: Capability) -> None:
        from portico.customers.models import PortalRole

        if capability.key in self._by_key:
            raise ValueError(f"Portal capability {capability.key} is declared twice")
        unknown = set(capability.roles or ()) - set(PortalRole.values)
        if unknown:
            raise ValueError(f"Portal capability {capability.key} names unknown roles {sorted(unknown)}")
        self._by_key[capability.key] = capability

    def _check_modules_have_view(self) -> None:
        for module in self.modules():
            if f"{module}.view" not in self._by_key:
                raise ValueError(f'Portal module "{module}" declares no "view" action')

    def get(self, module: str, action: str = "view") -> Capability | None:
        return self._by_key.get(f"{module}.{action}")

    def __iter__(self):
        return iter(self._by_key.values())

    def modules(self) -> list[str]:
        return list(dict.fromkeys(c.module for c in self._by_key.values()))

    def switchable(self) -> list[Capability]:
        return [c for c in self if c.switchable]

    def check_choices(self, *, disabled, enabled) -> list[str]:
        """Why these preference lists cannot be saved (empty: they can). `disabled` names
        "module" or "module.action" entries to switch off, `enabled` "module.action" entries that
        are off by default to switch on."""
        problems = []
        if not isinstance(disabled, list) or not all(isinstance(e, str) for e in disabled):
            return [_("Switched-off capabilities must be a list of names.")]
        if not isinstance(enabled, list) or not all(isinstance(e, str) for e in enabled):
            return [_("Switched-on capabilities must be a list of names.")]
        modules = self.modules()
        for entry in disabled:
            capability = self._by_key.get(entry)
            if capability is None and entry not in modules:
                problems.append(_('"%(entry)s" is not a portal capability.') % {"entry": entry})
            elif (capability is not None and not capability.switchable) or (
                entry in modules and not self._by_key[f"{entry}.view"].switchable
            ):
                label = (capability or self._by_key[f"{entry}.view"]).label
                problems.append(_('"%(label)s" cannot be switched off.') % {"label": label})
        for entry in enabled:
            capability = self._by_key.get(entry)
            if capability is None:
                problems.append(_('"%(entry)s" is not a portal capability.') % {"entry": entry})
            elif capability.default:
                problems.append(
                    _('"%(label)s" is on unless switched off; it cannot be listed as switched on.')
                    % {"label": capability.label}
                )
            elif entry in disabled:
                problems.append(_('"%(label)s" cannot be both on and off.') % {"label": capability.label})
        return problems

    @contextmanager
    def declaring(self, *capabilities: Capability):
        """Declare more capabilities for a while (tests of what no app declares yet, e.g. one off
        by default); they are gone again afterwards."""
        for capability in capabilities:
            self._add(capability)
        try:
            yield self
        finally:
            for capability in capabilities:
                self._by_key.pop(capability.key, None)


@cache
def registry() -> Registry:
    declared: list[Capability] = []
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "capabilities"):
            module = import_module(f"{config.name}.capabilities")
            declared.extend(getattr(module, "PORTAL_CAPABILITIES", ()))
    return Registry(declared)


def portal_urls(resolver=None, prefix="", namespace=""):
    """Every URL pattern under /portal/, through includes: (route, namespaced name, callback)."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from portal_urls(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            route = (prefix + str(entry.pattern)).lstrip("^")
            if route.startswith(PORTAL_PREFIX):
                name = f"{namespace}{entry.name}" if entry.name else ""
                yield route, name, entry.callback


def gate_problems() -> list[str]:
    """Portal pages whose gate names no declared capability, or that have no gate and are not public."""
    problems = []
    declared = registry()
    for route, name, callback in portal_urls():
        gate = getattr(callback, "portal_gate", None)
        if gate is not None:
            if declared.get(gate["module"], gate["action"]) is None:
                problems.append(
                    f"/{route} is gated by {gate['module']}.{gate['action']}, which no app declares"
                )
        elif name not in PUBLIC_PAGES:
            problems.append(
                f"/{route} ({name or 'unnamed'}) has no @portal_view gate and is not listed public"
            )
    return problems


def check_portal_gates(app_configs=None, **kwargs):
    return [
        checks.Error(
            problem,
            hint="Declare the capability, or list the page in PUBLIC_PAGES with why.",
            id="portal.E001",
        )
        for problem in gate_problems()
    ]
