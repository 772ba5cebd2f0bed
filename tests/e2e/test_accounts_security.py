"""The account-security journey in a real browser: invite → set password → authenticator app →
sign out → sign in with a code → two sessions → sign the other one out. Axe-checked on each page."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

from allauth.usersessions.models import UserSession

from portico.accounts.models import User
from portico.demo.loader import load_demo
from tests.e2e.conftest import axe_check, screenshot, sign_in

DANA_PASSWORD = "dana-chooses-a-long-passphrase"


def totp_code(secret: str, used_steps: set[int]) -> str:
    """A code from Debian's oathtool for a 30-second step not used yet in this test.

    The server accepts the current step and one either side, and each code only once; taking the
    current step, else the next one, else the previous, keeps every sign-in valid and distinct.
    """
    current = int(dt.datetime.now(dt.UTC).timestamp()) // 30
    step = next(s for s in (current, current + 1, current - 1) if s not in used_steps)
    used_steps.add(step)
    moment = dt.datetime.fromtimestamp(step * 30 + 1, dt.UTC)
    return subprocess.run(
        ["oathtool", "--totp", "--base32", secret, "--now", moment.strftime("%Y-%m-%d %H:%M:%S UTC")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def sign_in_with_code(page, url, code):
    sign_in(page, url, "dana@acme.example", DANA_PASSWORD)
    page.get_by_label("Code").fill(code())
    axe_check(page)
    page.get_by_role("button", name=re.compile("Sign In", re.I)).click()
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()


def test_invite_set_password_enable_totp_sign_in_with_a_code_and_sign_out_another_session(
    browser, page, tenant_url, live, mailbox, settings
):
    settings.PORTICO_PUBLIC_PORT = live  # links in emails point at the live server
    demo = load_demo()
    org = demo.renotech
    login_url = tenant_url(org, "/portal/account/login/")

    # Maria, Acme's portal admin, invites Dana.
    sign_in(page, login_url, "maria@acme.example", "portico-demo")
    page.get_by_role("link", name="Profile").click()
    page.get_by_role("link", name="People and access").click()
    axe_check(page)
    page.get_by_role("link", name="Add a person").click()
    page.get_by_label("First name").fill("Dana")
    page.get_by_label("Last name").fill("Reyes")
    page.get_by_label("Email").fill("dana@acme.example")
    page.get_by_label("Portal role").select_option("billing")
    page.get_by_label(re.compile("Invite them to the portal now")).check()
    axe_check(page)
    page.get_by_role("button", name="Add person").click()
    page.get_by_text("Dana Reyes was added and invited.").wait_for()
    screenshot(page, "accounts-people")

    # Dana follows the link from the email the SMTP server received.
    [message] = mailbox.to("dana@acme.example")
    link = next(u for u in re.findall(r"https?://\S+", mailbox.body(message)) if "/invitation/" in u)
    dana = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    assert link.startswith(tenant_url(org, "/portal/account/invitation/"))
    dana.goto(link)
    dana.get_by_role("heading", name="Set your password").wait_for()
    axe_check(dana)
    dana.get_by_label("Choose a password").fill(DANA_PASSWORD)
    dana.get_by_label("Type the password again").fill(DANA_PASSWORD)
    dana.get_by_role("button", name="Set password and sign in").click()
    dana.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()

    # She turns on an authenticator app from the security page.
    dana.get_by_role("link", name="Security").click()
    axe_check(dana)
    dana.get_by_role("link", name="Set up authenticator app").click()
    if "/reauthenticate/" in dana.url:
        axe_check(dana)
        dana.get_by_label("Password").fill(DANA_PASSWORD)
        dana.get_by_role("button", name="Confirm").click()
    dana.get_by_label("Authenticator secret").wait_for()
    axe_check(dana)
    screenshot(dana, "accounts-totp-setup")
    secret = dana.get_by_label("Authenticator secret").input_value()
    used_steps: set[int] = set()
    dana.get_by_label("Authenticator code").fill(totp_code(secret, used_steps))
    dana.get_by_role("button", name="Activate").click()
    dana.get_by_text("Save these codes now.").wait_for()  # recovery codes, shown once
    axe_check(dana)

    # She signs out, and back in with a code; a second browser of hers signs in too.
    dana.get_by_role("button", name="Sign out").click()
    dana.wait_for_url(re.compile(r"/portal/account/login/|/portal/$"))
    sign_in_with_code(dana, login_url, lambda: totp_code(secret, used_steps))
    laptop = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_with_code(laptop, login_url, lambda: totp_code(secret, used_steps))

    # She sees two sessions and signs the other one out.
    dana.get_by_role("link", name="Security").click()
    dana.get_by_role("link", name="Sessions", exact=True).click()
    rows = dana.get_by_role("row").filter(has=dana.get_by_role("button", name=re.compile("^Sign out")))
    assert rows.count() == 2
    dana.get_by_text("This browser").wait_for()
    axe_check(dana)
    screenshot(dana, "accounts-sessions")
    dana.get_by_role("button", name=re.compile(r"^Sign out .* at ")).click()
    dana.get_by_text("The session was signed out.").wait_for()
    assert dana.get_by_role("button", name=re.compile("^Sign out")).count() == 2  # one row + the header
    user = User.all_tenants.get(organization=org, email="dana@acme.example")
    assert UserSession.objects.filter(user=user).count() == 1

    laptop.reload()
    assert "/portal/account/login/" in laptop.url
