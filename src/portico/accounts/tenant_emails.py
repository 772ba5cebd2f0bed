"""Make allauth's email → users lookup tenant-aware.

allauth finds users by email through `EmailAddress`, which knows nothing of organizations, so the
same address at two organizations would return both users — for login, password reset and email
checks alike. We wrap that one lookup so it only ever returns users of the active organization.
The name is imported into several allauth modules, so each reference is replaced.
"""

import importlib

from portico.accounts.backends import belongs_here

_MODULES = (
    "allauth.account.internal.userkit",
    "allauth.account.auth_backends",
    "allauth.account.forms",
    "allauth.socialaccount.adapter",
)


def install() -> None:
    userkit = importlib.import_module("allauth.account.internal.userkit")
    original = getattr(userkit.filter_users_by_email, "__wrapped__", userkit.filter_users_by_email)

    def filter_users_by_email(email, *args, **kwargs):
        return [user for user in original(email, *args, **kwargs) if belongs_here(user)]

    filter_users_by_email.__wrapped__ = original
    for name in _MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "filter_users_by_email"):
            module.filter_users_by_email = filter_users_by_email
