"""The portal dashboard of the demo's Acme Interiors, beside the floor view."""

from portico.accounts.models import User
from portico.demo.loader import PORTAL_EMAIL, load_demo


def run(h):
    demo = load_demo()
    maria = User.all_tenants.get(organization=demo.renotech, email=PORTAL_EMAIL)
    client = h.client(demo.renotech, maria)
    h.compare("dashboard (demo data)", client, "/portal/")
