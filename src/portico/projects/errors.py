"""Domain errors of projects (see `core/errors.py`): a message fit for the customer or staff, a stable
`code` from `Code`, and the form `field` it concerns when there is one. Raised before anything is
written, so a refused request changes nothing."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.core.errors import DomainError


class Code(models.TextChoices):
    PROJECT_ERROR = "project_error"
    PROJECT_INVALID = "project_invalid"
    PROJECT_CODE_TAKEN = "project_code_taken"
    PROJECT_CLOSED = "project_closed"
    PROJECT_NOT_FOUND = "project_not_found"
    PROJECT_RATE_MISSING = "project_rate_missing"
    PROJECT_TIME_INVALID = "project_time_invalid"
    PROJECT_ENTRY_STATE = "project_entry_state"
    PROJECT_APPROVAL_REFUSED = "project_approval_refused"
    PROJECT_MILESTONE_STATE = "project_milestone_state"
    PROJECT_NOTHING_TO_INVOICE = "project_nothing_to_invoice"
    PROJECT_PREVIEW_CHANGED = "project_preview_changed"
    PROJECT_STAFF_EMAIL_TAKEN = "project_staff_email_taken"


class ProjectError(DomainError):
    code = Code.PROJECT_ERROR
    message = _("This change to the project is not possible.")


class ProjectInvalid(ProjectError):
    """A value a project, task, rate, member or milestone cannot take."""

    code = Code.PROJECT_INVALID
    message = _("Check the project's details.")


class ProjectCodeTaken(ProjectError):
    code = Code.PROJECT_CODE_TAKEN
    field = "code"
    message = _("Another project already has this code.")


class StaffEmailTaken(ProjectError):
    code = Code.PROJECT_STAFF_EMAIL_TAKEN
    field = "email"
    message = _("Another staff member already has this email address.")


class ProjectClosed(ProjectError):
    code = Code.PROJECT_CLOSED
    message = _("This project is not active: time cannot be logged on it.")


class ProjectNotFound(ProjectError):
    """An object of another project, customer or organization was named (answers as if absent)."""

    code = Code.PROJECT_NOT_FOUND
    message = _("This project item was not found.")


class RateMissing(ProjectError):
    code = Code.PROJECT_RATE_MISSING
    field = "rate"
    message = _(
        "Some time has no hourly rate to bill it at: set the project's, task's or staff member's rate."
    )


class TimeInvalid(ProjectError):
    code = Code.PROJECT_TIME_INVALID
    field = "hours"
    message = _("Enter hours greater than zero and at most 24, in steps of at most a hundredth.")


class EntryStateRefused(ProjectError):
    """The time entry's state does not allow this (editing approved time, approving invoiced time…)."""

    code = Code.PROJECT_ENTRY_STATE
    message = _("This time entry can no longer be changed this way.")


class ApprovalRefused(ProjectError):
    """The actor may not approve or dispute this time (another customer's, or no approval asked)."""

    code = Code.PROJECT_APPROVAL_REFUSED
    message = _("You cannot approve or dispute this time.")


class MilestoneStateRefused(ProjectError):
    code = Code.PROJECT_MILESTONE_STATE
    message = _("This milestone is invoiced and can no longer be changed.")


class PreviewChanged(ProjectError):
    code = Code.PROJECT_PREVIEW_CHANGED
    message = _("What is unbilled changed since the preview: check the new preview and confirm again.")


class NothingToInvoice(ProjectError):
    code = Code.PROJECT_NOTHING_TO_INVOICE
    message = _("There is no approved unbilled time or due milestone to invoice for this period.")
