"""The emails of portal access and sign-in security (`core.email_kinds`). None can be switched off:
each is either how someone gets in or how they learn that their access changed."""

from django.utils.translation import gettext_lazy as _

from portico.core.email_kinds import COMMON, CONTACT_NAME, CUSTOMER_NAME, EmailKind, Variable

SIGN_IN_LINK = _("Always sent: it is how the person gets into the portal.")
SECURITY = _("Always sent: a security notice, so the person can react to a change they did not make.")
USER_NAME = Variable(
    "user_name", _("The first name (or address) of the person written to"), "user.get_short_name", "Maria"
)

EMAIL_KINDS = [
    EmailKind(
        "accounts/invitation",
        _("Portal invitation"),
        _("Invites a contact to the customer portal, with the link to set a password."),
        default_subject=_("You're invited to the {{ organization_name }} customer portal"),
        default_body=_(
            "Hello {{ contact_first_name }},\n\n{{ organization_name }} invited you to its customer portal for {{ customer_name }}. There you can see and download invoices and statements, pay, and manage your account.\n\nSet your password here (the link works once):\n{{ invitation_url }}\n\nThe link expires in {{ expires_days }} days. You will sign in with this address: {{ contact_email }}.\n\n{{ organization_name }}"
        ),
        variables=[
            *COMMON,
            CONTACT_NAME,
            CUSTOMER_NAME,
            Variable(
                "inviter_name",
                _("Who sent the invitation (empty when it was automatic)"),
                "inviter",
                "Jane Doe",
            ),
            Variable(
                "invitation_url",
                _("The link to set a password (works once)"),
                "url",
                "https://renotech.example.com/portal/invitation/abc123/",
            ),
            Variable("expires_days", _("In how many days the link expires"), "days", "7"),
            Variable(
                "contact_email",
                _("The address the person signs in with"),
                "contact.email",
                "maria@acme.example",
            ),
        ],
        switchable=False,
        why_always=SIGN_IN_LINK,
    ),
    EmailKind(
        "accounts/portal_link",
        _("Portal sign-in link"),
        _("Sent when staff resend the portal link to someone who already has a password."),
        default_subject=_("Your link to the {{ organization_name }} customer portal"),
        default_body=_(
            "Hello {{ contact_first_name }},\n\nHere is your link to the customer portal of {{ organization_name }} for {{ customer_name }}:\n{{ sign_in_url }}\n\nSign in with this address: {{ contact_email }}.\n\n{{ organization_name }}"
        ),
        variables=[
            *COMMON,
            CONTACT_NAME,
            CUSTOMER_NAME,
            Variable(
                "sign_in_url",
                _("The portal's sign-in page"),
                "url",
                "https://renotech.example.com/portal/login/",
            ),
            Variable(
                "contact_email",
                _("The address the person signs in with"),
                "contact.email",
                "maria@acme.example",
            ),
        ],
        switchable=False,
        why_always=SIGN_IN_LINK,
    ),
    EmailKind(
        "accounts/access_granted",
        _("Portal access switched on"),
        _("Tells a contact that they can sign in to the portal again."),
        default_subject=_("Your access to the {{ organization_name }} portal is on"),
        default_body=_(
            "Hello {{ contact_first_name }},\n\nyou can sign in to the customer portal again for {{ customer_name }}:\n{{ portal_url }}\n\n{{ organization_name }}"
        ),
        variables=[*COMMON, CONTACT_NAME, CUSTOMER_NAME],
        switchable=False,
        why_always=SECURITY,
    ),
    EmailKind(
        "accounts/access_revoked",
        _("Portal access switched off"),
        _("Tells a contact that their sign-in was turned off and their sessions ended."),
        default_subject=_("Your access to the {{ organization_name }} portal was turned off"),
        default_body=_(
            "Hello {{ contact_first_name }},\n\nyour sign-in to the customer portal for {{ customer_name }} was turned off, and any open sessions were signed out.\n\n{{ organization_name }}"
        ),
        variables=[*COMMON, CONTACT_NAME, CUSTOMER_NAME],
        switchable=False,
        why_always=SECURITY,
    ),
    EmailKind(
        "accounts/email_change",
        _("Confirm a new sign-in email"),
        _("Sent to the new address when a portal user changes their sign-in email."),
        default_subject=_("Confirm your new sign-in email"),
        default_body=_(
            "Hello {{ user_name }},\n\nyou asked to sign in to the {{ organization_name }} portal with {{ new_email }} from now on. Confirm it here (within 24 hours):\n{{ confirm_url }}\n\n{{ organization_name }}"
        ),
        variables=[
            *COMMON,
            USER_NAME,
            Variable(
                "confirm_url",
                _("The confirmation link (valid 24 hours)"),
                "url",
                "https://renotech.example.com/portal/email/confirm/abc/",
            ),
            Variable("new_email", _("The new address"), "new_email", "maria.new@acme.example"),
        ],
        switchable=False,
        why_always=_("Always sent: without it the new address cannot be confirmed."),
    ),
    EmailKind(
        "accounts/email_changed",
        _("Sign-in email changed"),
        _("Sent to the old address after a portal user's sign-in email changed."),
        default_subject=_("Your sign-in email was changed"),
        default_body=_(
            "Hello,\n\nthe sign-in email of your {{ organization_name }} portal account was changed from {{ old_email }} to {{ new_email }}.\n\nIf you did not do this, reply to this email at once.\n\n{{ organization_name }}"
        ),
        variables=[
            *COMMON,
            Variable("old_email", _("The previous address"), "old_email", "maria@acme.example"),
            Variable("new_email", _("The new address"), "new_email", "maria.new@acme.example"),
        ],
        switchable=False,
        why_always=SECURITY,
    ),
    EmailKind(
        "accounts/new_sign_in",
        _("New sign-in"),
        _("Sent when a portal account signs in from a browser it was not used with before."),
        default_subject=_("New sign-in to your {{ organization_name }} portal account"),
        default_body=_(
            "Hello {{ user_name }},\n\nyour account was just used to sign in from a new browser:\n- Time: {{ sign_in_time }} UTC\n- IP address: {{ ip_address }}\n- Browser: {{ browser }}\n\nIf this was not you, change your password now:\n{{ portal_url }}security/\n\n{{ organization_name }}"
        ),
        variables=[
            *COMMON,
            USER_NAME,
            Variable("sign_in_time", _("When (UTC)"), "at", "2026-03-14 09:30"),
            Variable("ip_address", _("The IP address"), "ip", "203.0.113.7"),
            Variable("browser", _("The browser"), "user_agent", "Firefox on Linux"),
        ],
        switchable=False,
        why_always=SECURITY,
    ),
]
