"""Attachments of conversation messages: what a file is, judged by its first bytes (magic numbers),
not by its name or the type the browser sent — an `invoice.pdf` that is HTML is refused, and a text
file is plain text whatever it is called. Allowed: PDF, PNG, JPEG, GIF, WebP and UTF-8 plain text
(no NUL bytes), up to 5 MB each and 5 files a message. Every file is served as a download
(`Content-Disposition: attachment`, `X-Content-Type-Options: nosniff`) with the sniffed type, so
nothing sent in a conversation ever renders in the portal's origin."""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _

from portico.engagement.errors import ConversationInvalid
from portico.engagement.models_conversations import ATTACHMENT_MAX_BYTES

MAX_FILES = 5
SIGNATURES = [
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"GIF87a", "image/gif", ".gif"),
    (b"GIF89a", "image/gif", ".gif"),
]
_MARKUP = re.compile(rb"^\s*<(?:!doctype|html|head|body|script|svg|\?xml|iframe|meta)", re.IGNORECASE)


def sniff(content: bytes) -> tuple[str, str] | None:
    """(content type, extension) of what the bytes are, None for anything not allowed."""
    for magic, content_type, extension in SIGNATURES:
        if content.startswith(magic):
            return content_type, extension
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp", ".webp"
    if b"\x00" in content or _MARKUP.match(content[:1024].lstrip(b"\xef\xbb\xbf")):
        return None  # binary of an unknown kind, or markup a browser could be talked into rendering
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain", ".txt"


def safe_filename(name: str, extension: str) -> str:
    """The name shown and offered on download: no path, no control characters, at most 100
    characters, ending in the extension of what the file is."""
    name = unicodedata.normalize("NFKC", str(name or "")).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = re.sub(r"[^\w\- ()]+", "_", stem)[:90].strip() or "attachment"
    return f"{stem}{extension}"


def check_files(files) -> list[tuple[str, bytes, str]]:
    """(safe name, content, content type) of each uploaded file, or the refusal of the first that
    is too large or of a type not allowed."""
    files = [f for f in (files or ()) if f is not None]
    if len(files) > MAX_FILES:
        raise ConversationInvalid(_("Attach at most %(max)d files.") % {"max": MAX_FILES}, field="attachment")
    checked = []
    for upload in files:
        name = getattr(upload, "name", "") or ""
        size = getattr(upload, "size", None)
        if size is not None and size > ATTACHMENT_MAX_BYTES:
            raise ConversationInvalid(_("Attach files of 5 MB or less."), field="attachment")
        content = upload.read(ATTACHMENT_MAX_BYTES + 1) if hasattr(upload, "read") else bytes(upload)
        if len(content) > ATTACHMENT_MAX_BYTES:
            raise ConversationInvalid(_("Attach files of 5 MB or less."), field="attachment")
        if not content:
            raise ConversationInvalid(_("The attached file is empty."), field="attachment")
        found = sniff(content)
        if found is None:
            raise ConversationInvalid(
                _("Attach a PDF, an image (PNG, JPEG, GIF, WebP) or a plain text file."), field="attachment"
            )
        content_type, extension = found
        checked.append((safe_filename(name, extension), content, content_type))
    return checked
