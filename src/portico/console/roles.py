"""What each staff role may do in the console: one declaration, enforced by `console.site`.

Owners and administrators may do everything, except that only owners manage staff users and their
roles. Every other role gets exactly what is declared here, per model label (`app_label.model`):
the four admin permissions (view, add, change, delete) and the named custom actions and object tools
(finalize, send, void, record a payment, apply, refund, allocate, invite, revoke, retry...). A model
or an action that is not declared is denied to them (fail closed): registering a new admin gives
finance, support and read-only staff nothing until someone decides what they may do with it.

Permissions here only ever narrow what an admin class allows: a read-only admin stays read-only for
an owner, and a draft-only change stays draft-only.
"""

from __future__ import annotations

from portico.accounts.models import StaffRole

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
READ = frozenset({VIEW})
EDIT = frozenset({VIEW, ADD, CHANGE, DELETE})

FULL_ROLES = frozenset({StaffRole.OWNER, StaffRole.ADMINISTRATOR})
STAFF_MODELS = frozenset({"accounts.user"})  # staff users and their roles: owners only

# Custom list actions and object-tool pages → the permission they need (any name not listed needs
# a permission of its own name, declared below).
ACTION_PERMISSIONS = {
    "delete_selected": DELETE,
    "finalize_selected": "finalize",
    "send_selected": "send",
    "void_selected": "void",
    "invite_contacts": "invite",
    "revoke_access": "revoke",
    "resend": "invite",
    "password_change": CHANGE,  # the set-password page of a user
    # projects (`console.admin_projects` and its companions)
    "report": VIEW,  # a project's report
    "week": VIEW,  # a project's week of time (typed into by those who may log time)
    "overview": VIEW,  # the report of every project
    "approve_selected": "approve",
    "mark_due_selected": "mark_due",
    "move_up": CHANGE,  # reordering web tabs
    "move_down": CHANGE,
    "close_selected": CHANGE,  # conversations (`console.admin_conversations`)
    "reopen_selected": CHANGE,
    "file": VIEW,  # a conversation's attached file
    "portal_access": VIEW,  # the portal-access overview of contacts (resending needs its own)
    # customer emails (`console.admin_emails`): a kind's page and its preview are read by everyone
    # who sees the templates; saving on that page needs "change"
    "email_template": VIEW,
    "email_preview": VIEW,
    "document_download": VIEW,
    "revoke_links": "revoke",  # share links  # a shared document's file (audited), for everyone who sees it
}

# The console's actions on a subscription (`console.admin_subscriptions`), each a page of its name.
SUBSCRIPTION_ACTIONS = frozenset(
    {
        "convert_trial",
        "cancel_trial",
        "extend_trial",
        "change_plan",
        "change_quantity",
        "add_addon",
        "remove_addon",
        "redeem_coupon",
        "pause",
        "resume",
        "cancel",
        "undo_cancel",
        "reactivate",
        "auto_charge",
        "override_price",
        "cancel_change",
    }
)

F, S, R = StaffRole.FINANCE, StaffRole.SUPPORT, StaffRole.READ_ONLY

PERMISSIONS: dict[str, dict[str, frozenset[str]]] = {
    # the ledger: finance works it, support and read-only staff read it
    "billing.invoice": {F: EDIT | {"finalize", "send", "void", "record_payment"}, S: READ, R: READ},
    "billing.creditnote": {F: EDIT | {"finalize", "apply", "refund", "void"}, S: READ, R: READ},
    "billing.payment": {F: frozenset({VIEW, ADD, "allocate", "refund", "refund_to_card"}), S: READ, R: READ},
    "billing.refund": {F: READ, S: READ, R: READ},
    "billing.creditapplication": {F: READ, S: READ, R: READ},
    "billing.statementexport": {F: READ, S: READ, R: READ},
    "billing.billingsettings": {F: READ, S: READ, R: READ},
    "payments.paymentattempt": {F: READ, S: READ, R: READ},
    "payments.dispute": {F: READ, S: READ, R: READ},
    "payments.webhookevent": {F: READ, S: READ, R: READ},
    # the gateway and its keys: owners and administrators change them, the others read (keys masked)
    "payments.paymentsettings": {F: READ, S: READ, R: READ},
    "catalog.item": {F: READ, S: READ, R: READ},
    "catalog.taxrate": {F: READ, S: READ, R: READ},
    # products, plans, addons and coupons: owners and administrators manage them, others read them
    "catalog.product": {F: READ, S: READ, R: READ},
    "catalog.plan": {F: READ, S: READ, R: READ},
    "catalog.addon": {F: READ, S: READ, R: READ},
    "catalog.coupon": {F: READ, S: READ, R: READ},
    # subscriptions: finance and administrators manage them (every action, the staff-only ones
    # too), support and read-only staff read them; the settings are the owners' and administrators'
    "subscriptions.subscription": {
        F: frozenset({VIEW, ADD, CHANGE}) | SUBSCRIPTION_ACTIONS,
        S: READ,
        R: READ,
    },
    "subscriptions.subscriptionsettings": {F: READ, S: READ, R: READ},
    # customers, their people and portal access: support works them
    # ...and either may email a customer its statement (`console.admin_statements`)
    "customers.customer": {F: READ | {"send_statement"}, S: EDIT | {"send_statement"}, R: READ},
    "customers.contactperson": {F: READ, S: EDIT | {"invite", "revoke", "resend_portal_link"}, R: READ},
    "accounts.invitation": {F: READ, S: frozenset({VIEW, DELETE, "invite", "revoke"}), R: READ},
    "accounts.user": {S: READ},  # portal logins; staff users are managed by owners
    # the organization's settings and records: everyone reads them; its custom domain (the
    # `custom_domain` page: DNS records, verify, remove) is the owners' and administrators' alone
    "core.organization": {F: READ, S: READ, R: READ},
    "accounts.accesspolicy": {F: READ, S: READ, R: READ},
    "portal.portalconfiguration": {F: READ, S: READ, R: READ},
    # single sign-on: connections and a customer's rules are the owners' and administrators'
    "accounts.ssoconnection": {F: READ, S: READ, R: READ},
    "accounts.customersso": {F: READ, S: READ, R: READ},
    # the business's web tabs in the portal's menu: owners and administrators change them
    "engagement.webtab": {F: READ, S: READ, R: READ},
    # reviews: everyone reads them; support answers them publicly (the reply is their one change);
    # the chat widget, like the web tabs, is the owners' and administrators'
    "engagement.review": {F: READ, S: frozenset({VIEW, CHANGE}), R: READ},
    "engagement.chatwidget": {F: READ, S: READ, R: READ},
    # documents shared with customers and share links: support shares and revokes, others read
    "engagement.shareddocument": {F: READ, S: EDIT, R: READ},
    "engagement.sharelink": {F: READ, S: frozenset({VIEW, ADD, "revoke"}), R: READ},
    # conversations with customers: support answers, closes and reopens them; the others read them
    "engagement.conversation": {F: READ, S: frozenset({VIEW, CHANGE}), R: READ},
    "core.auditevent": {F: READ, S: READ, R: READ},
    "core.outboxdelivery": {F: READ, S: frozenset({VIEW, "retry"}), R: READ},
    # customer emails: the templates are the owners' and administrators' (like the branding); the
    # delivery log is read by everyone, and finance and support may resend what a customer lost
    "notifications.emailtemplate": {F: READ, S: READ, R: READ},
    "notifications.sentemail": {F: READ | {"resend_email"}, S: READ | {"resend_email"}, R: READ},
    # projects: finance runs them (details, rates, approval, invoicing, milestones); support logs
    # the time worked on them; read-only staff see everything, reports included, and change nothing
    "projects.project": {F: EDIT | {"log_time", "invoice"}, S: READ | {"log_time"}, R: READ},
    "projects.staffmember": {F: EDIT, S: READ, R: READ},
    "projects.timeentry": {F: READ | {"approve", "resolve"}, S: READ, R: READ},
    "projects.milestone": {F: EDIT | {"mark_due"}, S: READ, R: READ},
}


def role_of(user) -> str | None:
    """The user's console role, None for someone without one (not staff)."""
    if not getattr(user, "is_authenticated", False) or not user.is_staff:
        return None
    return user.staff_role


def permission_for_action(name: str) -> str:
    return ACTION_PERMISSIONS.get(name, name)


def allows(user, label: str, permission: str) -> bool:
    """Whether `user`'s role may use `permission` ("view", "add", ..., or an action's) on the
    model `label` ("billing.invoice"). Platform superusers (no organization) are not limited."""
    if getattr(user, "is_platform_admin", False):
        return True
    role = role_of(user)
    if role is None:
        return False
    if label in STAFF_MODELS and permission != VIEW:
        return role == StaffRole.OWNER
    if role in FULL_ROLES:
        return True
    return permission in PERMISSIONS.get(label, {}).get(role, frozenset())
