"""Where a webhook may be sent: the address rules, checked when staff save an endpoint and again,
against the addresses the name resolves to, before every attempt (a name may be re-pointed later).

- `https://`, no user or password in the address, a host name or public IP address;
- never to a private, link-local (cloud metadata: 169.254.169.254), multicast, reserved or
  unspecified address: the sender must not become a way into the network it runs in (SSRF);
- loopback (127.0.0.0/8, ::1, `localhost`), over `http://` too, only where
  `PORTICO_WEBHOOKS_ALLOW_LOOPBACK` is on (tests and the demo); private networks only where
  `PORTICO_WEBHOOKS_ALLOW_PRIVATE` is on (a self-hosted install posting to its own LAN).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from portico.notifications.errors import UrlRefused

MAX_LENGTH = 500


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    path: str  # with its query


def parse(url: str) -> Destination:
    """The address's parts, or `UrlRefused` with what is wrong (no lookups)."""
    url = (url or "").strip()
    if not url or len(url) > MAX_LENGTH or any(c.isspace() or ord(c) < 32 for c in url):
        raise UrlRefused(_("Enter a complete address, such as https://example.com/webhooks."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlRefused(_("This address is not valid.")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UrlRefused(_("Webhooks are sent over https:// only."))
    if parts.username is not None or parts.password is not None:
        raise UrlRefused(
            _("Leave the user name and password out of the address; verify the signature instead.")
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UrlRefused(_("Enter a complete address, such as https://example.com/webhooks."))
    if parts.fragment:
        raise UrlRefused(_("Leave the #fragment out of the address."))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Destination(scheme, host, port or (443 if scheme == "https" else 80), path)


def _loopback_allowed() -> bool:
    return bool(getattr(settings, "PORTICO_WEBHOOKS_ALLOW_LOOPBACK", False))


def _private_allowed() -> bool:
    return bool(getattr(settings, "PORTICO_WEBHOOKS_ALLOW_PRIVATE", False))


def check_address(address: str) -> None:
    """Refuse an IP address Portico may not send to."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        if _loopback_allowed():
            return
        raise UrlRefused(_("This address points to this server itself; use a public address."))
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        raise UrlRefused(_("This address is not reachable on the public internet."))
    if ip.is_private or not ip.is_global:
        if _private_allowed():
            return
        raise UrlRefused(_("This address is on a private network; use a public address."))


def resolve(destination: Destination) -> list[str]:
    """The destination's IP addresses, each allowed, or `UrlRefused`."""
    try:
        infos = socket.getaddrinfo(destination.host, destination.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UrlRefused(
            _("No server answers to this name (%(host)s).") % {"host": destination.host}
        ) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    for address in addresses:
        check_address(address)
    return addresses


def check_url(url: str, *, lookup: bool = True, https_message=None) -> Destination:
    """The rules above for an endpoint's address (with `lookup`, its host name's addresses too).
    `https_message` says why plain http is refused where the address is not a webhook's (single
    sign-on providers, whose addresses the server fetches too)."""
    destination = parse(url)
    is_ip = _is_ip(destination.host)
    if is_ip:
        check_address(destination.host)
    elif destination.host.lower() == "localhost" or destination.host.lower().endswith(".localhost"):
        check_address("127.0.0.1")
    elif lookup:
        resolve(destination)
    if destination.scheme == "http" and not _plain_http_allowed(destination):
        raise UrlRefused(https_message or _("Webhooks are sent over https:// only."))
    return destination


def _plain_http_allowed(destination: Destination) -> bool:
    if not _loopback_allowed():
        return False
    host = destination.host.lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    return _is_ip(host) and ipaddress.ip_address(host).is_loopback


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
