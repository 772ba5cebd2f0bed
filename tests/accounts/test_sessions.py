from allauth.usersessions.models import UserSession

from portico.core.models import AuditEvent
from tests.conftest import login, tenant_client
from tests.factories import ContactFactory, portal_user

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def test_a_user_sees_their_sessions_and_signs_out_another(org, portal_login):
    here = tenant_client(org, HTTP_USER_AGENT=FIREFOX)
    there = tenant_client(org, HTTP_USER_AGENT=CHROME, REMOTE_ADDR="10.1.2.3")
    login(here, "maria@acme.example")
    login(there, "maria@acme.example")

    page = here.get("/portal/security/sessions/").content.decode()
    assert "Firefox on Linux" in page and "Chrome on Windows" in page and "10.1.2.3" in page
    assert "This browser" in page

    other = UserSession.objects.get(user=portal_login, ip="10.1.2.3")
    response = here.post("/portal/security/sessions/", {"session": other.pk})
    assert response.status_code == 302
    assert there.get("/portal/").status_code == 302
    assert here.get("/portal/").status_code == 200
    assert AuditEvent.all_tenants.filter(action="session.ended", actor_user=portal_login).exists()


def test_a_user_signs_out_all_other_sessions_at_once(org, portal_login):
    clients = [tenant_client(org, HTTP_USER_AGENT=f"Browser {n}") for n in range(3)]
    for client in clients:
        login(client, "maria@acme.example")
    clients[0].post("/portal/security/sessions/", {"end": "others"})
    assert [c.get("/portal/").status_code for c in clients] == [200, 302, 302]
    assert UserSession.objects.filter(user=portal_login).count() == 1


def test_sessions_that_ended_elsewhere_leave_the_list_and_the_page_costs_the_same_for_many(
    org, portal_login, clock
):
    from django.contrib.sessions.models import Session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    here = tenant_client(org, HTTP_USER_AGENT=FIREFOX)
    login(here, "maria@acme.example")
    here.get("/portal/security/")

    def queries(path):
        with CaptureQueriesContext(connection) as captured:
            assert here.get(path).status_code == 200
        return len(captured)

    few = {path: queries(path) for path in ("/portal/security/", "/portal/security/sessions/")}
    others = [tenant_client(org, HTTP_USER_AGENT=f"Browser {n}") for n in range(5)]
    for client in others:
        login(client, "maria@acme.example")
    assert UserSession.objects.filter(user=portal_login).count() == 6
    clock.advance(minutes=2)  # session activity is written at most once a minute: let it write now
    here.get("/portal/")
    assert {path: queries(path) for path in few} == few

    # Two sessions end without a word to the list: one's row is gone, one's user changed password.
    gone, stale = UserSession.objects.filter(user=portal_login).exclude(session_key=here.session.session_key)[
        :2
    ]
    Session.objects.filter(session_key=gone.session_key).delete()
    store = Session.objects.get(session_key=stale.session_key)
    decoded = store.get_decoded()
    decoded["_auth_user_hash"] = "not-the-current-hash"
    store.session_data = Session.objects.encode(decoded)
    store.save()
    page = here.get("/portal/security/sessions/").content.decode()
    import re

    assert len(set(re.findall(r"Browser \d", page))) == 3
    assert set(UserSession.objects.filter(user=portal_login).values_list("pk", flat=True)).isdisjoint(
        {gone.pk, stale.pk}
    )


def test_nobody_can_end_someone_elses_session(org, customer, portal_login):
    colleague = portal_user(ContactFactory(customer=customer, email="tom@acme.example"))
    theirs = tenant_client(org)
    login(theirs, "tom@acme.example")
    session = UserSession.objects.get(user=colleague)

    mine = tenant_client(org)
    login(mine, "maria@acme.example")
    response = mine.post("/portal/security/sessions/", {"session": session.pk}, follow=True)
    assert "already ended" in response.content.decode()
    assert theirs.get("/portal/").status_code == 200
    assert mine.post("/portal/security/sessions/", {"session": "not-a-number"}).status_code == 302


def test_the_sign_in_history_shows_successes_and_failures_of_ones_own_account_only(
    org, customer, portal_login
):
    portal_user(ContactFactory(customer=customer, email="tom@acme.example"))
    login(tenant_client(org, REMOTE_ADDR="10.9.9.9"), "maria@acme.example", "wrong-password")
    login(tenant_client(org, REMOTE_ADDR="10.8.8.8"), "tom@acme.example", "wrong-password")
    client = tenant_client(org, HTTP_USER_AGENT=FIREFOX)
    login(client, "maria@acme.example")

    page = client.get("/portal/security/history/").content.decode()
    assert "Failed sign-in" in page and "10.9.9.9" in page
    assert "Signed in" in page and "Firefox on Linux" in page
    assert "10.8.8.8" not in page


def test_a_sign_in_from_a_new_browser_is_emailed_but_not_from_a_known_one(
    org, portal_login, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        login(tenant_client(org, HTTP_USER_AGENT=FIREFOX), "maria@acme.example")  # the first sign-in ever
        login(tenant_client(org, HTTP_USER_AGENT=FIREFOX), "maria@acme.example")  # known browser
    assert mailbox.to("maria@acme.example") == []
    with django_capture_on_commit_callbacks(execute=True):
        login(tenant_client(org, HTTP_USER_AGENT=CHROME, REMOTE_ADDR="10.4.4.4"), "maria@acme.example")
    [notice] = mailbox.to("maria@acme.example")
    assert "New sign-in" in notice["Subject"]
    body = mailbox.body(notice)
    assert "10.4.4.4" in body and "Chrome" in body


def test_the_account_activity_shows_admins_everything_of_their_company_and_others_their_own(
    org, customer, outsider_customer, portal_login
):
    colleague = portal_user(
        ContactFactory(customer=customer, email="vera@acme.example", portal_role="viewer")
    )
    outsider = portal_user(ContactFactory(customer=outsider_customer, email="sam@bluebird.example"))
    for user in (portal_login, colleague, outsider):
        login(tenant_client(org), user.email)

    admin = tenant_client(org)
    login(admin, "maria@acme.example")
    page = admin.get("/portal/security/activity/").content.decode()
    assert "vera@acme.example" in page and "sam@bluebird.example" not in page

    viewer = tenant_client(org)
    login(viewer, "vera@acme.example")
    page = viewer.get("/portal/security/activity/").content.decode()
    assert "vera@acme.example" in page and "maria@acme.example" not in page
