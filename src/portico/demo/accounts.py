"""Demo additions of accounts: an access policy per organization, an Acme contact without portal
access yet, so the portal's "People and access" page has someone to invite, and RenoTech staff in
each console role (the organizations' first staff are their owners)."""

from portico.accounts.models import AccessPolicy, StaffRole, User
from portico.customers.models import ContactPerson, PortalRole

# RenoTech's staff beside its owner, one per console role (password: the demo's)
RENOTECH_STAFF = [
    ("admin@renotech.example", "Alex", "Admin", StaffRole.ADMINISTRATOR),
    ("finance@renotech.example", "Fran", "Finance", StaffRole.FINANCE),
    ("support@renotech.example", "Sasha", "Support", StaffRole.SUPPORT),
    ("readonly@renotech.example", "Robin", "Reader", StaffRole.READ_ONLY),
]


def _staff(demo) -> None:
    from portico.demo.loader import DEMO_PASSWORD, STAFF_EMAIL, _user

    User.all_tenants.filter(
        organization__in=[demo.renotech, demo.northwind],
        email__in=[STAFF_EMAIL, "owner@northwind.example"],
    ).update(staff_role=StaffRole.OWNER)
    for email, first, last, role in RENOTECH_STAFF:
        user = _user(demo.renotech, email, DEMO_PASSWORD, is_staff=True, first=first, last=last)
        User.all_tenants.filter(pk=user.pk).update(staff_role=role)
        demo.logins.append(("renotech", f"console staff ({str(role.label).lower()})", email, DEMO_PASSWORD))


def extend(demo) -> None:
    _staff(demo)
    for organization in (demo.renotech, demo.northwind):
        AccessPolicy.all_tenants.get_or_create(organization=organization, defaults={"invitation_days": 7})
    acme = demo.customers["acme"]
    contact, _ = ContactPerson.all_tenants.update_or_create(
        organization=demo.renotech,
        customer=acme,
        email="lena@acme.example",
        defaults={
            "first_name": "Lena",
            "last_name": "Fischer",
            "phone": "+1 555 0123",
            "portal_role": PortalRole.VIEWER,
            "has_portal_access": False,
        },
    )
    demo.contacts["acme:lena@acme.example"] = contact
    _single_sign_on(demo)


# The demo's OpenID Connect connection: `make run` serves the provider beside the portal
# (scripts/serve.sh registers this client with the portal's callback URL), so "Sign in with Demo
# identity provider" on RenoTech's sign-in page works; type an Acme address, no password.
DEMO_SSO_KEY = "ssodemorenotech"
DEMO_SSO_CLIENT = ("portico-demo", "portico-demo-secret")


def _single_sign_on(demo) -> None:
    from django.conf import settings

    from portico.accounts.models import CustomerSso, SsoConnection

    acme = demo.customers["acme"]
    connection, _ = SsoConnection.all_tenants.update_or_create(
        key=DEMO_SSO_KEY,
        defaults={
            "organization": demo.renotech,
            "name": "Demo identity provider",
            "protocol": SsoConnection.Protocol.OIDC,
            "listed": True,
            "email_domains": "acme.example",
            "create_contacts": True,
            "discovery_url": f"http://127.0.0.1:{settings.PORTICO_DEMO_IDP_PORT}",
            "client_id": DEMO_SSO_CLIENT[0],
            "client_secret": DEMO_SSO_CLIENT[1],
        },
    )
    connection.customers.set([acme])
    CustomerSso.all_tenants.update_or_create(
        customer=acme, defaults={"organization": demo.renotech, "email_domains": "acme.example"}
    )
