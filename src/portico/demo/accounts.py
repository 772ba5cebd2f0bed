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
