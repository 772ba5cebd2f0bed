"""Forms of the portal's project pages: the hours review's filters and a dispute's comment. They work
without JavaScript; the month picker is a `type=month` input (a browser without one takes `2026-03`)."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.portal.ledger_forms import DateInput
from portico.projects.models import TimeEntry

EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
MONTH = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
OUT_OF_RANGE = _("Choose a date between 1900-01-01 and 2999-12-31.")

BILLED_CHOICES = [("", _("Billed or not")), ("unbilled", _("Not billed yet")), ("billed", _("Billed"))]

# The query parameters of the hours review (kept across pages, the CSV link and the approval forms).
FILTER_KEYS = ("month", "date_from", "date_to", "task", "staff", "billed", "state")


def _last_day(first: dt.date) -> dt.date:
    return (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


class MonthInput(forms.TextInput):
    input_type = "month"


class BoundedDateField(forms.DateField):
    widget = DateInput

    def clean(self, value):
        value = super().clean(value)
        if value is not None and not EARLIEST <= value <= LATEST:
            raise forms.ValidationError(OUT_OF_RANGE)
        return value


class HoursFilterForm(forms.Form):
    """Which of a project's entries to show: a month or a period (inclusive dates), a task, a staff
    member, billed or not, a state. Tasks and staff members are named by their public ids."""

    month = forms.CharField(
        label=_("Month"), required=False, max_length=7, widget=MonthInput(attrs={"placeholder": "2026-03"})
    )
    date_from = BoundedDateField(label=_("From"), required=False)
    date_to = BoundedDateField(label=_("To"), required=False)
    task = forms.ChoiceField(label=_("Task"), required=False)
    staff = forms.ChoiceField(label=_("Staff member"), required=False)
    billed = forms.ChoiceField(label=_("Billing"), required=False, choices=BILLED_CHOICES)
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("Any state")), *TimeEntry.State.choices]
    )

    def __init__(self, *args, tasks, staff_members, **kwargs):
        super().__init__(*args, **kwargs)
        self.tasks = {task.public_id: task for task in tasks}
        self.staff_members = {member.public_id: member for member in staff_members}
        self.fields["task"].choices = [("", _("All tasks")), *((t.public_id, t.name) for t in tasks)]
        self.fields["staff"].choices = [
            ("", _("Everyone")),
            *((m.public_id, m.name) for m in staff_members),
        ]

    def clean_month(self):
        text = self.cleaned_data["month"].strip()
        if not text:
            return None
        found = MONTH.match(text)
        if not found or not 1 <= int(found.group(2)) <= 12:
            raise forms.ValidationError(_("Enter a month as YYYY-MM, e.g. 2026-03."))
        year, month = int(found.group(1)), int(found.group(2))
        if not EARLIEST.year <= year <= LATEST.year:
            raise forms.ValidationError(OUT_OF_RANGE)
        return dt.date(year, month, 1)

    def clean(self):
        data = super().clean()
        month, start, end = data.get("month"), data.get("date_from"), data.get("date_to")
        if month and (start or end):
            self.add_error("month", _("Choose a month or a period from/to, not both."))
        elif month:
            data["date_from"], data["date_to"] = month, _last_day(month)
        elif start and end and end < start:
            self.add_error("date_to", _("The end date must be on or after the start date."))
        return data

    def filters(self) -> dict:
        """The selector's arguments (`projects.selectors.hours_review`), from valid data."""
        data = self.cleaned_data
        billed = {"billed": True, "unbilled": False}.get(data.get("billed") or "")
        return {
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "task": self.tasks.get(data.get("task") or ""),
            "staff_member": self.staff_members.get(data.get("staff") or ""),
            "billed": billed,
            "state": data.get("state") or None,
        }


class DisputeForm(forms.Form):
    comment = forms.CharField(
        label=_("What is wrong with this entry?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The business sees your comment and answers it before this time is invoiced."),
    )
