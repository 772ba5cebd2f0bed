"""Demo additions of accounts: an access policy per organization and an Acme contact without portal
access yet, so the portal's "People and access" page has someone to invite."""

from portico.accounts.models import AccessPolicy
from portico.customers.models import ContactPerson, PortalRole


def extend(demo) -> None:
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
