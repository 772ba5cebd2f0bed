"""The customer's "Send statement" page in the console (issue 14, item 6): choose a period (last
month unless told), and the statement is emailed by `billing.statement_mail.send_statement`."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.billing.errors import BillingError
from portico.billing.statement_mail import send_statement
from portico.billing.statements import PERIODS, default_today, period_bounds
from portico.console import roles
from portico.core.audit import Actor

PERMISSION = "send_statement"


class SendStatementForm(forms.Form):
    period = forms.ChoiceField(
        label=gettext_lazy("Period"),
        choices=[
            (key, PERIODS[key]) for key in ("last_month", "this_month", "this_quarter", "this_year", "custom")
        ],
        initial="last_month",
    )
    start = forms.DateField(label=gettext_lazy("From (custom dates)"), required=False)
    end = forms.DateField(label=gettext_lazy("To (custom dates)"), required=False)


class StatementEmailPages:
    """Mixed into the customer admin."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/send-statement/",
                view(self.send_statement_view),
                name=f"customers_customer_{PERMISSION}",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        tools = list((extra_context or {}).get("billing_tools", []))
        if str(object_id).isdigit() and roles.allows(request.user, "customers.customer", PERMISSION):
            url = reverse(f"{self.admin_site.name}:customers_customer_{PERMISSION}", args=[object_id])
            tools.append({"label": _("Send statement"), "url": url, "post": False})
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "billing_tools": tools}
        )

    def send_statement_view(self, request, pk):
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        customer = self.get_object(request, str(pk))  # another organization's: 404
        form = SendStatementForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                start, end = period_bounds(
                    data["period"], default_today(customer.organization), data["start"], data["end"]
                )
                _event, new = send_statement(
                    customer=customer, start=start, end=end, actor=Actor.from_request(request)
                )
            except BillingError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                dates = {"start": start.isoformat(), "end": end.isoformat(), "name": customer.display_name}
                if new:
                    messages.success(
                        request,
                        _("The statement for %(start)s – %(end)s is being emailed to %(name)s.") % dates,
                    )
                else:
                    messages.warning(
                        request,
                        _(
                            "The statement for %(start)s – %(end)s was already sent to %(name)s: nothing was sent again."
                        )
                        % dates,
                    )
                return HttpResponseRedirect(
                    reverse(f"{self.admin_site.name}:customers_customer_change", args=[customer.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Send statement"),
            "opts": self.model._meta,
            "object": customer,
            "form": form,
        }
        return TemplateResponse(request, "admin/customers/customer/send_statement.html", context)
