"""The chat widget: the organization's chat provider, loaded on its portal pages.

The organization chooses a provider and pastes its script's address and its one id (Crisp's website
id, Intercom's app id, Zoho SalesIQ's widget code, Tawk.to's property/widget); the portal never runs
pasted code. Our static loader (`engagement/static/engagement/chat.js`) reads the settings from its
own script tag's data- attributes, sets the provider's globals (with the signed-in contact's name and
email, where the provider takes them and the organization allows it) and adds the provider's script.

Rules (`check_chat_widget`): the address is https on the provider's own domains (any https host for
"another provider"); loopback over plain http only where `PORTICO_CHAT_ALLOW_LOOPBACK` is on
(development, tests); the id matches the provider's strict pattern. The page's CSP then allows the
script's origin, and only it, on the responses that show the widget (`csp_for`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from portico.core.audit import Actor, audit
from portico.engagement import web_addresses
from portico.engagement.errors import ChatWidgetInvalid, WebTabUrlRefused
from portico.engagement.models_reviews import ChatWidget, chat_widget_of

Provider = ChatWidget.Provider

_ZOHO_HOSTS = tuple(
    f"salesiq.{domain}.{tld}"
    for domain in ("zoho", "zohopublic")
    for tld in ("com", "eu", "in", "com.au", "jp")
)


@dataclass(frozen=True)
class Spec:
    hosts: tuple[str, ...]  # the script's host must be one of these (empty: any, for "generic")
    default_url: str  # with {id}: the provider's script for this id, used when no address is pasted
    id_pattern: re.Pattern
    id_hint: str
    id_required: bool = True


SPECS: dict[str, Spec] = {
    Provider.CRISP: Spec(
        ("client.crisp.chat",),
        "https://client.crisp.chat/l.js",
        re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
        "Crisp's website id, such as 0a1b2c3d-1111-2222-3333-444455556666",
    ),
    Provider.INTERCOM: Spec(
        ("widget.intercom.io",),
        "https://widget.intercom.io/widget/{id}",
        re.compile(r"^[a-z0-9]{6,12}$"),
        "Intercom's app id, such as abc12def",
    ),
    Provider.ZOHO: Spec(
        _ZOHO_HOSTS,
        "https://salesiq.zohopublic.com/widget?wc={id}",
        re.compile(r"^siq[0-9a-zA-Z]{10,100}$"),
        "Zoho SalesIQ's widget code, starting with siq",
    ),
    Provider.TAWK: Spec(
        ("embed.tawk.to",),
        "https://embed.tawk.to/{id}",
        re.compile(r"^[0-9a-f]{24}/[0-9a-z]{4,40}$"),
        "Tawk.to's property and widget ids, such as 5f1a2b3c4d5e6f7a8b9c0d1e/1abcdefgh",
    ),
    Provider.GENERIC: Spec(
        (),
        "",
        re.compile(r"^[A-Za-z0-9_.:-]{1,100}$"),
        "letters, digits, and _ . : - (or leave it empty)",
        id_required=False,
    ),
}


def _loopback_allowed(host: str) -> bool:
    return settings.PORTICO_CHAT_ALLOW_LOOPBACK and host in ("127.0.0.1", "localhost", "::1")


def check_script_url(provider: str, url: str, site_id: str = "") -> str:
    """The script's address as stored, or `ChatWidgetInvalid` (field `script_url`) saying why."""
    spec = SPECS[provider]
    url = (url or "").strip()
    if not url and spec.default_url:
        url = spec.default_url.format(id=site_id)
    if not url:
        raise ChatWidgetInvalid(_("Enter the address of the provider's script."), field="script_url")
    try:
        url = web_addresses.check_url(url)
    except WebTabUrlRefused as refused:
        raise ChatWidgetInvalid(refused.message, field="script_url") from None
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").rstrip(".")
    if scheme != "https" and not _loopback_allowed(host):
        raise ChatWidgetInvalid(_("The chat script must be loaded over https://."), field="script_url")
    if spec.hosts and (host not in spec.hosts or parts.port not in (None, 443)):
        raise ChatWidgetInvalid(
            _("%(provider)s's script is served from %(hosts)s; this address is on %(host)s.")
            % {"provider": Provider(provider).label, "hosts": ", ".join(spec.hosts), "host": host},
            field="script_url",
        )
    return url


def check_chat_widget(
    *, enabled: bool, provider: str, script_url: str, site_id: str, share_contact: bool
) -> dict:
    """The widget's values as they would be stored, or the `ChatWidgetInvalid` a save would raise. A
    widget switched off keeps whatever was typed only if it is valid too: nothing invalid is stored."""
    if provider not in SPECS:
        raise ChatWidgetInvalid(_("Choose one of the offered providers."), field="provider")
    spec = SPECS[provider]
    site_id = (site_id or "").strip()
    if (site_id or spec.id_required) and not spec.id_pattern.match(site_id):
        raise ChatWidgetInvalid(_("Enter %(hint)s.") % {"hint": spec.id_hint}, field="site_id")
    return {
        "enabled": bool(enabled),
        "provider": provider,
        "script_url": check_script_url(provider, script_url, site_id),
        "site_id": site_id,
        "share_contact": bool(share_contact),
    }


def configure_chat_widget(*, organization, actor: Actor, **values) -> ChatWidget:
    values = check_chat_widget(**values)
    chat_widget_of(organization)  # the row exists to lock
    with transaction.atomic():
        widget = ChatWidget.all_tenants.select_for_update().get(organization=organization)
        before = {key: getattr(widget, key) for key in values}
        if before == values:
            return widget
        for key, value in values.items():
            setattr(widget, key, value)
        widget.save()
        changed = {key: value for key, value in values.items() if before[key] != value}
        audit(actor, "chat_widget.changed", widget, previous={k: before[k] for k in changed}, **changed)
    organization.chat_widget = widget
    return widget


def origin(widget: ChatWidget) -> str:
    return web_addresses.origin_of(widget.script_url)


def loader_data(widget: ChatWidget, contact) -> dict:
    """The loader's data- attributes (escaped by the template like any attribute)."""
    shared = widget.share_contact and contact is not None
    return {
        "provider": widget.provider,
        "script": widget.script_url,
        "site": widget.site_id,
        "name": contact.full_name if shared else "",
        "email": (contact.email or "") if shared else "",
    }


def csp_for(widget: ChatWidget) -> dict:
    """This response's CSP additions: the script's origin in each directive a widget uses (scripts,
    its API and live connection, its frames, images and styles), 'self' kept where the directive was
    left to `default-src`."""
    allowed = origin(widget)
    return {
        "script-src": [allowed],
        "connect-src": ["'self'", allowed],
        "frame-src": ["'self'", allowed],
        "img-src": [allowed],
        "style-src": [allowed],
    }


def widget_for_portal(portal) -> ChatWidget | None:
    """The widget to show this contact: enabled, with an address, and chat on in its portal."""
    if not portal.may("chat"):
        return None
    try:
        widget = portal.organization.chat_widget  # loaded with the organization (`apps.py`)
    except ChatWidget.DoesNotExist:
        return None  # never configured: nothing to show, and no row written on a page view
    if not widget.enabled or not widget.script_url:
        return None
    return widget
