"""The same email at two organizations is two accounts: passwords, second factors, sessions apart."""

from allauth.usersessions.models import UserSession

from tests.accounts.conftest import enable_totp, oathtool_code
from tests.conftest import login, tenant_client
from tests.factories import PASSWORD, ContactFactory, CustomerFactory, portal_user

NORTHWIND_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_another_organizations_password_second_factor_and_session_do_not_open_this_portal(
    org, other_org, portal_login
):
    theirs = portal_user(
        ContactFactory(customer=CustomerFactory(organization=other_org), email="maria@acme.example"),
        password="northwind-password",
    )
    enable_totp(theirs, NORTHWIND_SECRET)

    # Northwind's password is not RenoTech's.
    assert login(tenant_client(org), "maria@acme.example", "northwind-password").status_code == 200

    # Northwind's login asks for Northwind's code; RenoTech's account has no second factor at all.
    northwind = tenant_client(other_org)
    assert (
        login(northwind, "maria@acme.example", "northwind-password")["Location"]
        == "/portal/account/2fa/authenticate/"
    )
    assert (
        northwind.post("/portal/account/2fa/authenticate/", {"code": oathtool_code(NORTHWIND_SECRET)})[
            "Location"
        ]
        == "/portal/"
    )
    renotech = tenant_client(org)
    assert login(renotech, "maria@acme.example", PASSWORD)["Location"] == "/portal/"

    # A Northwind session cookie is nobody on RenoTech's host.
    stolen = tenant_client(org)
    stolen.cookies["portico_session"] = northwind.cookies["portico_session"].value
    assert stolen.get("/portal/security/sessions/").status_code == 302

    # Each account lists only its own sessions.
    page = renotech.get("/portal/security/sessions/").content.decode()
    assert page.count("Sign out") - page.count("Sign out all") >= 1
    assert UserSession.objects.filter(user=portal_login).count() == 1
    assert UserSession.objects.filter(user=theirs).count() == 1
