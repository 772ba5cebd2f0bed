"""Domain errors of the portal (see `core/errors.py`): its configurations. Raised before anything is
written, so a refused change writes nothing."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.core.errors import DomainError


class Code(models.TextChoices):
    PORTAL_CAPABILITY_UNKNOWN = "portal_capability_unknown"
    PORTAL_CONFIGURATION_NAME_REQUIRED = "portal_configuration_name_required"
    PORTAL_CONFIGURATION_NAME_TOO_LONG = "portal_configuration_name_too_long"
    PORTAL_CONFIGURATION_NAME_TAKEN = "portal_configuration_name_taken"
    PORTAL_CONFIGURATION_NOT_FOUND = "portal_configuration_not_found"
    PORTAL_CONFIGURATION_DEFAULT_KEPT = "portal_configuration_default_kept"


class PortalPreferencesRefused(DomainError):
    """A configuration cannot be saved as asked: a capability no app declares (or one that cannot
    be switched off), a missing or taken name, the default deleted, another organization's row.
    `problems` lists what is wrong; the code says which kind of refusal it is."""

    code = Code.PORTAL_CAPABILITY_UNKNOWN
    field = "disabled"
    message = _("These portal preferences are not valid.")

    def __init__(self, problems: list, *, code: str | None = None, field: str | None = None):
        self.problems = problems
        if code is not None:
            self.code = Code(code)
        super().__init__(" ".join(str(p) for p in problems) or None, field=field)
