"""Single sign-on's changes: connections and a customer's rules (from the console), and the contact a
first sign-in creates where a connection allows it. Each runs in one transaction and is audited."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from portico.accounts.errors import SsoRefused
from portico.accounts.models import (
    SSO_COMMON_FIELDS,
    SSO_OIDC_FIELDS,
    SSO_SAML_FIELDS,
    CustomerSso,
    SsoConnection,
    User,
    domain_of,
    parse_email_domains,
)
from portico.core.audit import Actor, audit
from portico.customers.models import ContactPerson, PortalRole

CONNECTION_FIELDS = [*SSO_COMMON_FIELDS, *SSO_OIDC_FIELDS, *SSO_SAML_FIELDS]


def _changes(before: dict, after: SsoConnection) -> dict:
    changed = {}
    for field in CONNECTION_FIELDS:
        old, new = before.get(field), getattr(after, field)
        if old != new:
            changed[field] = "(changed)" if field == "client_secret" else new
    return changed


@transaction.atomic
def save_connection(*, connection: SsoConnection, customers, actor: Actor, organization) -> SsoConnection:
    """Create or update a connection (its fields already validated by the form)."""
    creating = connection.pk is None
    before = {}
    if not creating:
        stored = SsoConnection.all_tenants.select_for_update().get(
            pk=connection.pk, organization=organization
        )
        before = {f: getattr(stored, f) for f in CONNECTION_FIELDS}
    connection.organization = organization
    connection.email_domains = "\n".join(parse_email_domains(connection.email_domains))
    theirs = [c for c in customers if c.organization_id != organization.pk]
    if theirs:
        raise SsoRefused(_("A connection can only be limited to this organization's customers."))
    try:
        with transaction.atomic():
            connection.save()
    except IntegrityError:
        raise SsoRefused(_("Another connection already has that name."), field="name") from None
    old_customers = set() if creating else set(connection.customers.values_list("pk", flat=True))
    connection.customers.set(customers)
    new_customers = {c.pk for c in customers}
    data = _changes(before, connection)
    if old_customers != new_customers:
        data["customers"] = sorted(new_customers)
    audit(
        actor,
        "sso.connection.created" if creating else "sso.connection.updated",
        connection,
        organization=organization,
        **({"protocol": connection.protocol, "name": connection.name} if creating else data),
    )
    return connection


@transaction.atomic
def delete_connection(*, connection: SsoConnection, actor: Actor) -> None:
    audit(
        actor,
        "sso.connection.deleted",
        connection,
        organization=connection.organization,
        name=connection.name,
    )
    connection.delete()


@transaction.atomic
def set_customer_sso(
    *, customer, email_domains: str, sso_required: bool, sso_second_factor: bool, actor: Actor
):
    domains = parse_email_domains(email_domains)
    taken = [
        (domain, other.customer)
        for other in CustomerSso.all_tenants.filter(organization=customer.organization)
        .exclude(customer=customer)
        .select_related("customer")
        for domain in other.domains
        if domain in domains
    ]
    if taken:
        domain, other = taken[0]
        raise SsoRefused(
            _("The domain %(domain)s already belongs to %(customer)s.")
            % {"domain": domain, "customer": other},
            field="email_domains",
        )
    rules, _created = CustomerSso.all_tenants.select_for_update().get_or_create(
        customer=customer, defaults={"organization": customer.organization}
    )
    before = (rules.email_domains, rules.sso_required, rules.sso_second_factor)
    rules.email_domains = "\n".join(domains)
    rules.sso_required = sso_required
    rules.sso_second_factor = sso_second_factor
    if before != (rules.email_domains, rules.sso_required, rules.sso_second_factor):
        rules.save()
        audit(
            actor,
            "sso.customer_rules.changed",
            customer,
            customer=customer,
            email_domains=domains,
            sso_required=sso_required,
            sso_second_factor=sso_second_factor,
        )
    return rules


@transaction.atomic
def provision_contact(*, request, sociallogin, connection: SsoConnection, customer) -> User:
    """The first sign-in of someone the connection vouches for: a viewer contact of `customer` (the
    owner of their email domain) with a login that has no password, linked to the identity."""
    user = sociallogin.user
    email = user.email.strip().lower()
    if domain_of(email) not in (customer.sso.domains if hasattr(customer, "sso") else []):
        raise SsoRefused(_("That address does not belong to this customer."))
    contact = ContactPerson.objects.create(
        organization=customer.organization,
        customer=customer,
        first_name=(user.first_name or "")[:100],
        last_name=(user.last_name or "")[:100],
        email=email,
        has_portal_access=True,
        portal_role=PortalRole.VIEWER,
    )
    user.organization = customer.organization
    user.contact = contact
    user.email = email
    user.set_unusable_password()
    sociallogin.save(request)
    audit(
        Actor.from_request(request),
        "sso.contact.created",
        contact,
        organization=customer.organization,
        customer=customer,
        connection=connection.name,
        email=email,
    )
    return user
