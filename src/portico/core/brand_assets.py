"""The organization's logo and favicon: checked as images when uploaded, served from its own host.

An upload is whatever file the business chose. It is kept only when Pillow reads it as a raster
image of a sensible size (`validate_logo`, `validate_favicon`: model validators, so every form
checks it), and served by `brand_asset` with the content type of the format Pillow found — never
the name's — and `nosniff`, from `/brand/logo` and `/brand/favicon` on the organization's host. The
rest of the media storage (invoice PDFs, exports) is never served this way.
"""

from __future__ import annotations

import contextlib
import hashlib

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

CONTENT_TYPES = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "ICO": "image/x-icon",
}
LOGO_FORMATS = frozenset({"PNG", "JPEG", "GIF", "WEBP"})
FAVICON_FORMATS = LOGO_FORMATS | {"ICO"}
MAX_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 2500 * 2500


def image_format(file, formats=LOGO_FORMATS) -> str | None:
    """The Pillow format of an image file within the limits, else None (not an image, another
    format, truncated or corrupt, too big in bytes or pixels)."""
    from PIL import Image

    try:
        size = file.size
        if size is None or size > MAX_BYTES:
            return None
        file.seek(0)
        with Image.open(file) as image:
            width, height = image.size
            found = image.format
            if found not in formats or width * height > MAX_PIXELS:
                return None
            image.verify()  # a truncated or corrupt file fails here
        return found
    except Exception:  # Pillow refuses with several classes (UnidentifiedImageError, OSError, …)
        return None
    finally:
        with contextlib.suppress(Exception):  # a closed or unseekable file: nothing to rewind
            file.seek(0)


def _check(file, formats, what) -> None:
    if file and image_format(file, formats) is None:
        raise ValidationError(
            _("The %(what)s must be an image (%(formats)s) of at most 2 MB and 2500 × 2500 pixels.")
            % {"what": what, "formats": ", ".join(sorted(formats))},
            code="invalid_image",
        )


def validate_logo(file) -> None:
    _check(file, LOGO_FORMATS, _("logo"))


def validate_favicon(file) -> None:
    _check(file, FAVICON_FORMATS, _("favicon"))


def version_of(field) -> str:
    """Changes with the stored file: the asset URL's cache buster."""
    return hashlib.sha256(field.name.encode()).hexdigest()[:12]


def asset_path(kind: str, field) -> str:
    return f"/brand/{kind}?v={version_of(field)}"
