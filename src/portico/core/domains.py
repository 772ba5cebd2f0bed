"""Custom domains: a business serves its portal on its own host (`billing.example.com`).

The business enters the host in the console; Portico shows two DNS records to create — a CNAME from
the host to the platform (`PORTICO_CNAME_TARGET`) and a TXT record holding the organization's token
at `_portico-challenge.<host>` — and "Verify" looks both up (dnspython, through the servers of
`PORTICO_DNS_NAMESERVERS` or the system's). Only a verified domain is served (`core.middleware`) and
gets a certificate (`core.views.tls_ask`). Changing the domain, or removing it, ends its verification
and issues a new token, so a token proves control of the one domain it was shown for.

Domains are stored in their ASCII (IDNA 2008 / UTS #46) form, lowercase, without the final dot:
what arrives in the Host header and in the TLS server name.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import dns.exception
import dns.nameserver
import dns.resolver
import idna
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portico.core import clock
from portico.core.audit import Actor, audit
from portico.core.errors import Code, DomainError
from portico.core.models import Organization, new_verification_token

CHALLENGE_LABEL = "_portico-challenge"
MAX_LENGTH = 253  # RFC 1035 §2.3.4, without the final dot
LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
NOT_A_HOST = re.compile(r"[:/?#@\\]")  # a scheme (`https:`, `javascript:`), a path, a port, a user
RESERVED_SUFFIXES = ("localhost", "local", "invalid", "internal", "arpa")  # RFC 6761, 6762, 9476


class CustomDomainError(DomainError):
    code = Code.CUSTOM_DOMAIN_ERROR
    field = "domain"
    message = _("This domain cannot be used.")


class InvalidDomain(CustomDomainError):
    code = Code.INVALID_DOMAIN
    message = _("Enter a host name like billing.example.com.")


class DomainTaken(CustomDomainError):
    code = Code.DOMAIN_TAKEN
    message = _("This domain is already used by another organization on Portico.")


class NoCustomDomain(CustomDomainError):
    code = Code.NO_CUSTOM_DOMAIN
    message = _("Add a custom domain first.")


class DnsRecordsWrong(CustomDomainError):
    """The DNS answered, and a record is missing or holds another value; `problems` lists each."""

    code = Code.DNS_RECORDS_WRONG
    field = None
    message = _("The DNS records are not set up yet.")

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(" ".join(problems))


class DnsUnavailable(CustomDomainError):
    """No DNS answer at all (timeout, SERVFAIL, no resolver): nothing is known about the records."""

    code = Code.DNS_UNAVAILABLE
    field = None
    message = _("The DNS servers did not answer. Try again in a few minutes.")


class DomainChanged(CustomDomainError):
    code = Code.DOMAIN_CHANGED
    field = None
    message = _("The domain was changed while it was being checked. Check the records and verify again.")


@dataclass(frozen=True)
class DnsRecord:
    type: str
    name: str
    value: str


# -- the domain a business may use --------------------------------------------------------------------


def normalize_domain(raw: str) -> str:
    """The host name as stored, or `InvalidDomain` saying what is wrong with what was typed."""
    text = (raw or "").strip()
    if not text:
        raise InvalidDomain(gettext("Enter a host name like billing.example.com."))
    if len(text) > MAX_LENGTH + 1:
        raise InvalidDomain(gettext("A host name is at most 253 characters long."))
    if NOT_A_HOST.search(text.lower()):
        raise InvalidDomain(
            gettext("Enter the host name only, like billing.example.com: no https://, path or port.")
        )
    if any(character.isspace() for character in text):
        raise InvalidDomain(gettext("A host name has no spaces."))
    text = text.rstrip(".")
    if _is_ip_address(text):
        raise InvalidDomain(gettext("Enter a host name, not an IP address."))
    if any(len(label) > 63 for label in text.split(".")):  # encoded, a label only grows
        raise InvalidDomain(gettext("Each part of a host name between dots is at most 63 characters long."))
    try:
        domain = idna.encode(text, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        raise InvalidDomain(
            gettext("%(domain)s is not a valid host name: use letters, digits and hyphens between the dots.")
            % {"domain": text[:80]}
        ) from None
    labels = domain.split(".")
    if len(domain) > MAX_LENGTH:
        raise InvalidDomain(gettext("A host name is at most 253 characters long."))
    if any(len(label) > 63 for label in labels):
        raise InvalidDomain(gettext("Each part of a host name between dots is at most 63 characters long."))
    if not all(LABEL.match(label) for label in labels):
        raise InvalidDomain(
            gettext("%(domain)s is not a valid host name: use letters, digits and hyphens between the dots.")
            % {"domain": text[:80]}
        )
    if len(labels) < 2 or labels[-1].isdigit():
        raise InvalidDomain(gettext("Enter a full host name with a dot, like billing.example.com."))
    return domain


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def _is_within(domain: str, parent: str) -> bool:
    return bool(parent) and (domain == parent or domain.endswith("." + parent))


def check_domain(domain: str, *, organization: Organization) -> str:
    """The normalized domain if this organization may use it: not the platform's own domain (or a
    name under it) and not another organization's."""
    domain = normalize_domain(domain)
    platform = {settings.PORTICO_BASE_DOMAIN, cname_target(), *settings.PORTICO_PLATFORM_HOSTS}
    if any(_is_within(domain, name.lower()) for name in platform if name):
        raise InvalidDomain(
            gettext(
                "%(domain)s belongs to Portico's own domain (%(base)s): use a domain of your business, "
                "like billing.yourcompany.com."
            )
            % {"domain": domain, "base": settings.PORTICO_BASE_DOMAIN}
        )
    if domain.rsplit(".", 1)[-1] in RESERVED_SUFFIXES:
        raise InvalidDomain(gettext("%(domain)s is not a public host name.") % {"domain": domain})
    if Organization.objects.filter(custom_domain=domain).exclude(pk=organization.pk).exists():
        raise DomainTaken()
    return domain


def display_domain(domain: str) -> str:
    """The domain as people read it (`bücher.example` for `xn--bcher-kva.example`)."""
    try:
        return idna.decode(domain)
    except (idna.IDNAError, UnicodeError):
        return domain


# -- the records to create -----------------------------------------------------------------------------


def cname_target() -> str:
    return settings.PORTICO_CNAME_TARGET or settings.PORTICO_BASE_DOMAIN


def challenge_name(domain: str) -> str:
    return f"{CHALLENGE_LABEL}.{domain}"


def dns_records(organization: Organization) -> list[DnsRecord]:
    """What the business creates at its DNS host, for its current domain (none without one)."""
    domain = organization.custom_domain
    if not domain:
        return []
    return [
        DnsRecord("CNAME", domain, cname_target()),
        DnsRecord("TXT", challenge_name(domain), organization.domain_verification_token),
    ]


# -- changes -------------------------------------------------------------------------------------------


def _locked(organization: Organization) -> Organization:
    return Organization.objects.select_for_update().get(pk=organization.pk)


def _copy_domain_fields(source: Organization, target: Organization) -> Organization:
    for field in ("custom_domain", "domain_verification_token", "domain_verified_at"):
        setattr(target, field, getattr(source, field))
    return target


def set_custom_domain(*, organization: Organization, domain: str, actor: Actor) -> Organization:
    """Use `domain` for the portal once verified. A new domain starts unverified with a new token;
    the same domain again changes nothing."""
    domain = check_domain(domain, organization=organization)
    try:
        with transaction.atomic():
            row = _locked(organization)
            if row.custom_domain == domain:
                return _copy_domain_fields(row, organization)
            previous = row.custom_domain
            row.custom_domain = domain
            row.domain_verification_token = new_verification_token()
            row.domain_verified_at = None
            row.save(update_fields=["custom_domain", "domain_verification_token", "domain_verified_at"])
            audit(actor, "custom_domain.set", row, domain=domain, previous=previous)
    except IntegrityError:  # another organization took it since the check
        raise DomainTaken() from None
    return _copy_domain_fields(row, organization)


def remove_custom_domain(*, organization: Organization, actor: Actor) -> Organization:
    """Stop serving the portal (and issuing certificates) on the custom domain."""
    with transaction.atomic():
        row = _locked(organization)
        if not row.custom_domain:
            raise NoCustomDomain()
        previous, was_verified = row.custom_domain, row.domain_verified_at is not None
        row.custom_domain = None
        row.domain_verification_token = new_verification_token()
        row.domain_verified_at = None
        row.save(update_fields=["custom_domain", "domain_verification_token", "domain_verified_at"])
        audit(actor, "custom_domain.removed", row, domain=previous, was_verified=was_verified)
    return _copy_domain_fields(row, organization)


def verify_custom_domain(*, organization: Organization, actor: Actor) -> Organization:
    """Look up the CNAME and the TXT token; when both are right the domain is verified (and served).
    The lookups run outside the transaction (they may take seconds); the domain and token they
    checked must still be the organization's when the result is written."""
    domain, token = organization.custom_domain, organization.domain_verification_token
    if not domain:
        raise NoCustomDomain()
    check_records(domain=domain, token=token)
    with transaction.atomic():
        row = _locked(organization)
        if (row.custom_domain, row.domain_verification_token) != (domain, token):
            raise DomainChanged()
        row.domain_verified_at = clock.now()
        row.save(update_fields=["domain_verified_at"])
        audit(actor, "custom_domain.verified", row, domain=domain, cname_target=cname_target())
    return _copy_domain_fields(row, organization)


# -- the DNS lookups -----------------------------------------------------------------------------------

_NXDOMAIN = object()


def resolver() -> dns.resolver.Resolver:
    """The servers of `PORTICO_DNS_NAMESERVERS` (address, port), else the system's; no cache, so a
    record created a minute ago is seen as soon as those servers see it."""
    servers = settings.PORTICO_DNS_NAMESERVERS
    try:
        result = dns.resolver.Resolver(configure=not servers)
    except dns.resolver.NoResolverConfiguration:
        raise DnsUnavailable(gettext("This server has no DNS resolver configured.")) from None
    if servers:
        result.nameservers = [dns.nameserver.Do53Nameserver(address, port) for address, port in servers]
    result.timeout = result.lifetime = float(settings.PORTICO_DNS_TIMEOUT)
    result.cache = None
    return result


def _answer(lookup: dns.resolver.Resolver, name: str, rdtype: str):
    """The records of `rdtype` at `name` (empty when there are none), `_NXDOMAIN`, or `DnsUnavailable`."""
    try:
        answer = lookup.resolve(name, rdtype, raise_on_no_answer=False, search=False)
    except dns.resolver.NXDOMAIN:
        return _NXDOMAIN
    except dns.exception.Timeout:
        raise DnsUnavailable(
            gettext(
                "The DNS servers did not answer in time (%(seconds)s s) when asked for %(name)s. "
                "Try again in a few minutes."
            )
            % {"seconds": settings.PORTICO_DNS_TIMEOUT, "name": name}
        ) from None
    except dns.exception.DNSException:
        raise DnsUnavailable(
            gettext("The DNS servers could not answer for %(name)s (SERVFAIL). Try again in a few minutes.")
            % {"name": name}
        ) from None
    return list(answer.rrset or [])


def check_records(*, domain: str, token: str) -> None:
    """Both records as `dns_records` shows them, or `DnsRecordsWrong` naming each one that is not."""
    lookup = resolver()
    target = cname_target()
    problems = []
    cnames = _answer(lookup, domain, "CNAME")
    if cnames is _NXDOMAIN:
        problems.append(
            gettext(
                "The name %(domain)s does not exist in DNS yet (NXDOMAIN): create a CNAME record for it "
                "pointing to %(target)s. New records can take a few minutes to appear."
            )
            % {"domain": domain, "target": target}
        )
    elif not cnames:
        problems.append(
            gettext("There is no CNAME record at %(domain)s: create one pointing to %(target)s.")
            % {"domain": domain, "target": target}
        )
    else:
        found = sorted({r.target.to_text(omit_final_dot=True).lower() for r in cnames})
        if target not in found:
            problems.append(
                gettext("The CNAME record of %(domain)s points to %(found)s, not to %(target)s.")
                % {"domain": domain, "found": ", ".join(found), "target": target}
            )
    name = challenge_name(domain)
    texts = _answer(lookup, name, "TXT")
    values = [] if texts is _NXDOMAIN else [b"".join(r.strings).decode("utf-8", "replace") for r in texts]
    if not values:
        problems.append(
            gettext("There is no TXT record at %(name)s: create it with the verification token shown below.")
            % {"name": name}
        )
    elif token not in (value.strip() for value in values):
        problems.append(
            gettext("The TXT record at %(name)s holds %(found)s, not the verification token shown below.")
            % {"name": name, "found": ", ".join(f"“{value[:70]}”" for value in values[:3])}
        )
    if problems:
        raise DnsRecordsWrong(problems)
