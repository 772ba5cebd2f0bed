"""An organization's brand, as every output shows it: the portal, its emails and its PDFs.

`brand_of(organization)` is the one place that turns the organization's branding fields into what a
template needs: the name, the headline, absolute logo and favicon addresses (an email is read far
from the portal), and colours that are always readable. The brand colour is used as chosen where it
reaches WCAG AA (4.5:1) against the text put on it — white or near-black, whichever reads better —
and against the page (links and accents on white); a colour that cannot reach it on white is darkened
step by step until it does (`readable_on_white`), so a business that picks pale yellow still gets
legible buttons and links, and the console says so (`contrast_notice`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from portico.core.brand_assets import asset_path

AA = 4.5  # WCAG 2.x AA for normal text
WHITE = "#ffffff"
INK = "#111111"
DEFAULT_COLOUR = "#1f5fbf"
_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def luminance(colour: str) -> float:
    r, g, b = _rgb(colour)
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two `#rrggbb` colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(colour: str) -> str:
    """White or near-black: whichever reads better on `colour`."""
    return WHITE if contrast(colour, WHITE) >= contrast(colour, INK) else INK


def readable_on_white(colour: str) -> str:
    """`colour` itself if it reaches AA on white, else the same hue darkened until it does."""
    r, g, b = _rgb(colour)
    current = colour.lower()
    while contrast(current, WHITE) < AA:
        r, g, b = (int(c * 0.92) for c in (r, g, b))
        current = f"#{r:02x}{g:02x}{b:02x}"
    return current


def contrast_notice(colour: str) -> str | None:
    """What the console tells a business whose colour is adjusted (None: it is used as chosen)."""
    readable = readable_on_white(colour)
    if readable == colour.lower():
        return None
    return _(
        "%(colour)s has a contrast of %(ratio).1f:1 on white, below the 4.5:1 that text needs (WCAG AA). "
        "Buttons and links use %(readable)s instead, the same colour darkened."
    ) % {"colour": colour, "ratio": contrast(colour, WHITE), "readable": readable}


@dataclass(frozen=True)
class Brand:
    name: str
    headline: str
    chosen_colour: str  # as the business set it
    colour: str  # the brand colour as used: readable on white (links, buttons, PDF headings)
    on_colour: str  # text on a `colour` background
    logo_url: str | None  # absolute: for emails
    favicon_url: str | None  # absolute: for emails
    logo_path: str | None = None  # on the page's own host (its custom domain too): for pages
    favicon_path: str | None = None

    @property
    def adjusted(self) -> bool:
        return self.colour != self.chosen_colour.lower()


def _absolute(organization, kind: str, field) -> str | None:
    """The asset's address on the organization's own host (`core.brand_assets`: checked, typed)."""
    if not field:
        return None
    return organization.public_url(asset_path(kind, field))


def brand_of(organization) -> Brand:
    # The form validates the colour, but a row written another way (a script, the shell, an import)
    # must not break every page and document that shows the brand: anything else is the default.
    chosen = organization.brand_colour or ""
    if not _HEX.fullmatch(chosen):
        chosen = DEFAULT_COLOUR
    colour = readable_on_white(chosen)
    return Brand(
        name=organization.display_title,
        headline=organization.portal_headline,
        chosen_colour=chosen,
        colour=colour,
        on_colour=text_on(colour),
        logo_url=_absolute(organization, "logo", organization.logo),
        favicon_url=_absolute(organization, "favicon", organization.favicon),
        logo_path=asset_path("logo", organization.logo) if organization.logo else None,
        favicon_path=asset_path("favicon", organization.favicon) if organization.favicon else None,
    )
