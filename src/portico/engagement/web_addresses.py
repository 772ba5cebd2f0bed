"""Which addresses a web tab may hold: the portal links to them and may frame them, so only plain
`http://` and `https://` addresses of a named host or an IP address.

Refused, each with its reason: other schemes (`javascript:`, `data:`, `ftp:`... in any case and
after any leading space), relative and scheme-relative addresses (`//evil.example`), a user name or
password in the address, characters outside printable ASCII (look-alike letters, control
characters, spaces: an international name is written in its `xn--` form), backslashes (which
browsers read as slashes), and host names that are not DNS names. The origin (`scheme://host[:port]`)
is what the embedded page's CSP `frame-src` names, so the host must be safe to write into a header.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from portico.engagement.errors import WebTabUrlRefused

MAX_LENGTH = 500
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
_PRINTABLE_ASCII = re.compile(r"^[\x21-\x7e]*$")


def check_url(url: str) -> str:
    """The address as it is stored (surrounding spaces removed), or `WebTabUrlRefused` saying why."""
    url = (url or "").strip()
    if not url:
        raise WebTabUrlRefused(_("Enter the page's address, such as https://help.example.com/."))
    if len(url) > MAX_LENGTH:
        raise WebTabUrlRefused(
            _("This address is too long (%(max)d characters at most).") % {"max": MAX_LENGTH}
        )
    if not _PRINTABLE_ASCII.match(url):
        raise WebTabUrlRefused(
            _(
                "The address may contain only plain ASCII characters and no spaces: write an "
                "international domain name in its xn-- form and percent-encode other characters."
            )
        )
    if "\\" in url:
        raise WebTabUrlRefused(_("The address may not contain a backslash (\\)."))
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 — raises ValueError for a port that is not a number in range
    except ValueError:
        raise WebTabUrlRefused(_("This address is not valid.")) from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise WebTabUrlRefused(
            _("Enter a complete address starting with https:// (or http://), not a relative one.")
        )
    if scheme not in ("https", "http"):
        raise WebTabUrlRefused(
            _("Only https:// and http:// addresses can be web tabs (not %(scheme)s:).") % {"scheme": scheme}
        )
    if not url[len(scheme) + 1 :].startswith("//"):
        raise WebTabUrlRefused(_("Enter a complete address, such as https://help.example.com/."))
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise WebTabUrlRefused(_("Leave the user name and password out of the address."))
    host = parts.hostname or ""
    if not host:
        raise WebTabUrlRefused(_("Enter a complete address, such as https://help.example.com/."))
    if not _is_ip(host) and not _HOST_NAME.match(host.rstrip(".")):
        raise WebTabUrlRefused(_("%(host)s is not a valid host name.") % {"host": host})
    return url


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def origin_of(url: str) -> str:
    """`https://help.example.com:8443/a/b?c` → `https://help.example.com:8443`: what a CSP source
    expression names (default ports left out, as browsers compare them)."""
    parts = urlsplit(check_url(url))
    scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    default = {"https": 443, "http": 80}[scheme]
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != default else "")
