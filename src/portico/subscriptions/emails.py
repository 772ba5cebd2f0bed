"""The emails of subscriptions (`core.email_kinds`)."""

from django.utils.translation import gettext_lazy as _

from portico.core.email_kinds import COMMON, CUSTOMER_NAME, EmailKind, Variable

SUBSCRIPTION = [
    *COMMON,
    CUSTOMER_NAME,
    Variable("subscription_number", _("The subscription's number"), "subscription.number", "SUB-0007"),
    Variable("plan_name", _("The plan's name"), "plan.name", "Pro monthly"),
    Variable(
        "subscription_url",
        _("The subscription in the portal"),
        "subscription_url",
        "https://renotech.example.com/portal/subscriptions/SUB-0007/",
    ),
]

EMAIL_KINDS = [
    EmailKind(
        "subscriptions/renewal_upcoming",
        _("Renewal reminder"),
        _("Sent before a subscription renews."),
        default_subject=_(
            "Your subscription {{ subscription_number }} with {{ organization_name }} renews soon"
        ),
        default_body=_(
            "Hello {{ customer_name }},\n\nYour subscription {{ subscription_number }} ({{ plan_name }}) renews on {{ renews_on }}.\n\nSee it, or change it, in your portal:\n{{ subscription_url }}\n\nThank you,\n{{ organization_name }}"
        ),
        variables=[
            *SUBSCRIPTION,
            Variable("renews_on", _("The day it renews"), "renews_on", "April 1, 2026"),
        ],
    ),
    EmailKind(
        "subscriptions/trial_ending",
        _("Trial ending"),
        _("Sent before a trial ends and the first invoice is issued."),
        default_subject=_("Your trial of {{ subscription_number }} with {{ organization_name }} ends soon"),
        default_body=_(
            "Hello {{ customer_name }},\n\nThe trial of your subscription {{ subscription_number }} ({{ plan_name }}) ends on {{ trial_end }}; its first invoice is issued that day.\n\nSee it, or change it, in your portal:\n{{ subscription_url }}\n\nThank you,\n{{ organization_name }}"
        ),
        variables=[
            *SUBSCRIPTION,
            Variable("trial_end", _("The day the trial ends"), "trial_end", "April 1, 2026"),
        ],
    ),
    EmailKind(
        "subscriptions/cancelled",
        _("Subscription cancelled"),
        _("Sent when a subscription is cancelled (by the customer, staff, or after unpaid invoices)."),
        default_subject=_(
            "Your subscription {{ subscription_number }} with {{ organization_name }} is cancelled"
        ),
        default_body=_(
            "Hello {{ customer_name }},\n\nYour subscription {{ subscription_number }} ({{ plan_name }}) was cancelled on {{ cancelled_on }}.\n\nYour subscriptions and invoices stay in your portal:\n{{ subscription_url }}\n\nThank you,\n{{ organization_name }}"
        ),
        variables=[
            *SUBSCRIPTION,
            Variable(
                "cancelled_on", _("The day it was cancelled"), "subscription.cancelled_on", "March 31, 2026"
            ),
        ],
    ),
]
