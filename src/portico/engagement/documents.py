"""Every change to shared documents and share links, audited; and how a file is judged and served.

Rules:
- A document's type is what its first bytes say (`sniff`), never its name: PDF, PNG, JPEG, GIF, WebP,
  Office Open XML and OpenDocument files (zip archives whose parts say which), CSV and plain text
  (UTF-8 without control bytes). Markup (HTML, SVG, XML) is text a browser would run: refused. So is
  anything larger than `PORTICO_DOCUMENT_MAX_BYTES` (20 MB unless set) or of no listed type.
- The uploaded name is display text: the stored path is random (`models_documents.document_path`);
  a download's name is rebuilt from the title-or-name with the sniffed type's extension
  (`download_name`), in ASCII and in RFC 5987 form (`content_disposition`).
- A document is shared with one customer of its organization or with all of them.
- A share link opens one document or one invoice (not a draft) for `SHARE_LINK_MAX_DAYS` at most;
  its token is shown once and only its SHA-256 stored. A contact shares only what their customer
  sees; staff share any of the organization's documents and invoices. Revoking is immediate and
  final. Every opening is audited (`share_link.opened`), as is every portal download
  (`document.downloaded`, naming the contact).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.billing.models import Invoice
from portico.core import clock
from portico.core.audit import Actor, audit
from portico.customers.models import Customer
from portico.engagement.errors_documents import DocumentInvalid, DocumentRefused, ShareLinkInvalid
from portico.engagement.models_documents import (
    NAME_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    SharedDocument,
    ShareLink,
)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
SHARE_LINK_MAX_DAYS = 90
SHARE_LINK_DEFAULT_DAYS = 7
TOKEN_BYTES = 32

# The types a document may have → (its extension, how it is described to people).
ALLOWED_TYPES: dict[str, tuple[str, str]] = {
    "application/pdf": ("pdf", gettext_lazy("PDF")),
    "image/png": ("png", gettext_lazy("PNG image")),
    "image/jpeg": ("jpg", gettext_lazy("JPEG image")),
    "image/gif": ("gif", gettext_lazy("GIF image")),
    "image/webp": ("webp", gettext_lazy("WebP image")),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx", gettext_lazy("Word")),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx", gettext_lazy("Excel")),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "pptx",
        gettext_lazy("PowerPoint"),
    ),
    "application/vnd.oasis.opendocument.text": ("odt", gettext_lazy("OpenDocument text")),
    "application/vnd.oasis.opendocument.spreadsheet": ("ods", gettext_lazy("OpenDocument spreadsheet")),
    "application/vnd.oasis.opendocument.presentation": ("odp", gettext_lazy("OpenDocument presentation")),
    "text/csv": ("csv", gettext_lazy("CSV")),
    "text/plain": ("txt", gettext_lazy("Text")),
}
# What a browser would render as a page or run as a script, if it were ever served inline.
MARKUP = re.compile(
    rb"^\s*<(?:!doctype|html|head|body|script|iframe|svg|\?xml|!--|title|style|div|a\s|table|img|p[\s>]|b[\s>]"
    rb"|br|h1|font|object|embed|meta|link|form|math)",
    re.IGNORECASE,
)
# Control characters other than tab, line and page breaks: binary, not text.
CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
OOXML_PARTS = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


def max_bytes() -> int:
    return getattr(settings, "PORTICO_DOCUMENT_MAX_BYTES", None) or DEFAULT_MAX_BYTES


def kind_of(content_type: str) -> str:
    entry = ALLOWED_TYPES.get(content_type)
    return str(entry[1]) if entry else _("File")


# -- judging a file by its bytes --------------------------------------------------------------------------


def _zip_type(data: bytes) -> str | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
        if "mimetype" in names:  # OpenDocument: the first part names the type, stored uncompressed
            declared = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
            return declared if declared in ALLOWED_TYPES else None
        if "[Content_Types].xml" in names:
            for prefix, content_type in OOXML_PARTS.items():
                if any(name.startswith(prefix) for name in names):
                    return content_type
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, RuntimeError, NotImplementedError):
        return None
    return None


def _text_type(data: bytes) -> str | None:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if CONTROL.search(text):
        return None
    if MARKUP.match(data):
        return "text/html"
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if len(lines) >= 2:
        try:
            dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t")
        except csv.Error:
            dialect = None
        if dialect is not None:
            widths = {len(row) for row in csv.reader(lines, dialect)}
            if len(widths) == 1 and widths.pop() > 1:
                return "text/csv"
    return "text/plain"


def sniff(data: bytes) -> str:
    """The content type the bytes show ("application/octet-stream" when none we know of)."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"PK\x03\x04"):
        return _zip_type(data) or "application/zip"
    return _text_type(data) or "application/octet-stream"


def _read_upload(upload) -> bytes:
    limit = max_bytes()
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise DocumentRefused(_too_large(limit), field="file")
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise DocumentRefused(_too_large(limit), field="file")
    if not data:
        raise DocumentRefused(_("The file is empty."), field="file")
    return data


def _too_large(limit: int) -> str:
    return _("The file is larger than %(mb)s MB, the most a document may be.") % {
        "mb": f"{limit / (1024 * 1024):g}"
    }


def check_file(upload) -> tuple[bytes, str]:
    """The upload's bytes and sniffed type, or `DocumentRefused` saying why not."""
    data = _read_upload(upload)
    content_type = sniff(data)
    if content_type == "text/html":
        raise DocumentRefused(
            _("Web pages (HTML, SVG, XML) cannot be shared as documents: save it as a PDF first."),
            field="file",
        )
    if content_type not in ALLOWED_TYPES:
        raise DocumentRefused(
            _(
                "This kind of file cannot be shared. Share a PDF, an image (PNG, JPEG, GIF, WebP), "
                "an Office or OpenDocument file, a CSV or a text file."
            ),
            field="file",
        )
    return data, content_type


# -- names ------------------------------------------------------------------------------------------------


def clean_display_name(name: str) -> str:
    """The uploaded name as text to show: its last path part, without control characters, trimmed."""
    name = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = " ".join(name.split())
    return name[:NAME_MAX_LENGTH]


def download_name(title: str, content_type: str) -> str:
    """The name a download is saved under: the title made safe, with the sniffed type's extension
    (a text file uploaded as `page.html` downloads as `page.html.txt`)."""
    extension = ALLOWED_TYPES.get(content_type, ("bin", ""))[0]
    stem = clean_display_name(title).strip(" .") or "document"
    stem = re.sub(r'[<>:"/\\|?*;]', "_", stem)[:120].strip(" .") or "document"
    if stem.lower().endswith("." + extension):
        stem = stem[: -len(extension) - 1] or "document"
    return f"{stem}.{extension}"


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback and the UTF-8 name (RFC 6266 §4.3, RFC 5987)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r"[^A-Za-z0-9._ ()+-]", "_", ascii_name).strip(" .") or "document"
    value = f'attachment; filename="{ascii_name}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


# -- documents --------------------------------------------------------------------------------------------


def _clean_title(title: str, fallback: str) -> str:
    title = " ".join("".join(c for c in str(title or "") if unicodedata.category(c)[0] != "C").split())
    title = title or fallback
    if not title:
        raise DocumentInvalid(_("Give the document a title, as customers will see it."), field="title")
    if len(title) > TITLE_MAX_LENGTH:
        raise DocumentInvalid(
            _("Keep the title to %(max)d characters or fewer.") % {"max": TITLE_MAX_LENGTH}, field="title"
        )
    return title


def _clean_audience(organization, customer) -> tuple[str, Customer | None]:
    if customer is None:
        return SharedDocument.Audience.ALL, None
    if customer.organization_id != organization.pk:
        raise DocumentInvalid(_("Only your own customers can be chosen."), field="customer")
    return SharedDocument.Audience.CUSTOMER, customer


def check_document(*, organization, title: str, upload, customer=None) -> dict:
    """The document's values as they would be stored, or the `DocumentError` a save would raise."""
    if upload is None:
        raise DocumentInvalid(_("Choose the file to share."), field="file")
    name = clean_display_name(getattr(upload, "name", ""))
    audience, customer = _clean_audience(organization, customer)
    title = _clean_title(title, name)
    data, content_type = check_file(upload)
    return {
        "title": title,
        "original_name": name,
        "audience": audience,
        "customer": customer,
        "data": data,
        "content_type": content_type,
    }


def create_document(*, organization, title: str, upload, customer=None, actor: Actor) -> SharedDocument:
    """Store the file under a random name and share it with `customer`, or with all when None."""
    values = check_document(organization=organization, title=title, upload=upload, customer=customer)
    with transaction.atomic():
        document = SharedDocument(
            organization=organization,
            title=values["title"],
            original_name=values["original_name"],
            content_type=values["content_type"],
            size=len(values["data"]),
            audience=values["audience"],
            customer=values["customer"],
        )
        document.file.save("upload", ContentFile(values["data"]), save=False)
        stored = document.file.name
        try:
            document.save()
            audit(
                actor,
                "document.created",
                document,
                title=document.title,
                original_name=document.original_name,
                content_type=document.content_type,
                size=document.size,
                audience=document.audience,
            )
        except Exception:
            document.file.storage.delete(stored)
            raise
    return document


def delete_document(*, document: SharedDocument, actor: Actor) -> None:
    """Remove the document, its file (once committed) and every link to it."""
    with transaction.atomic():
        document = SharedDocument.all_tenants.select_for_update(of=("self",)).filter(pk=document.pk).first()
        if document is None:
            return
        storage, name = document.file.storage, document.file.name
        audit(actor, "document.deleted", document, title=document.title, original_name=document.original_name)
        document.delete()
        transaction.on_commit(lambda: storage.delete(name))


def record_download(*, document: SharedDocument, actor: Actor, contact=None, via: str = "portal") -> None:
    """Audit a download: who (the contact, for the portal), which document, how."""
    data = {"via": via, "title": document.title}
    if contact is not None:
        data.update(contact=contact.pk, contact_email=contact.email)
    audit(actor, "document.downloaded", document, customer=getattr(contact, "customer", None), **data)


# -- share links ------------------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(str(token).encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class NewShareLink:
    """A link just made: its token is here and nowhere else (only its hash is stored)."""

    link: ShareLink
    token: str


def _clean_expiry(expires_at) -> dt.datetime:
    now = clock.now()
    if not isinstance(expires_at, dt.datetime) or expires_at.tzinfo is None:
        raise ShareLinkInvalid(_("Choose when the link expires."), field="expires_at")
    if expires_at <= now:
        raise ShareLinkInvalid(_("Choose an expiry in the future."), field="expires_at")
    if expires_at > now + dt.timedelta(days=SHARE_LINK_MAX_DAYS):
        raise ShareLinkInvalid(
            _("A link may stay open for %(days)d days at most.") % {"days": SHARE_LINK_MAX_DAYS},
            field="expires_at",
        )
    return expires_at


def _owner_of(*, organization, document, invoice, customer) -> Customer | None:
    """The customer whose link it is; refuses a target outside the organization or, for a contact's
    link (`customer` given), outside what that customer sees."""
    if (document is None) == (invoice is None):
        raise ShareLinkInvalid(_("Choose a document or an invoice to share."), field="target")
    target = document or invoice
    if target.organization_id != organization.pk:
        raise ShareLinkInvalid(_("This document or invoice cannot be shared."), field="target")
    if invoice is not None:
        if invoice.status == Invoice.Status.DRAFT:
            raise ShareLinkInvalid(_("A draft invoice cannot be shared."), field="target")
        owner = invoice.customer
    else:
        owner = document.customer
    if customer is not None:
        if owner is not None and owner.pk != customer.pk:
            raise ShareLinkInvalid(_("This document or invoice cannot be shared."), field="target")
        return customer
    return owner


def create_share_link(
    *, organization, expires_at, actor: Actor, document=None, invoice=None, customer=None
) -> NewShareLink:
    """Make a link to `document` or `invoice`. `customer` is the contact's customer when a contact
    makes it (the target must be theirs or for all customers); None for staff."""
    owner = _owner_of(organization=organization, document=document, invoice=invoice, customer=customer)
    expires_at = _clean_expiry(expires_at)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    user = actor.user if getattr(actor.user, "pk", None) else None
    with transaction.atomic():
        link = ShareLink.all_tenants.create(
            organization=organization,
            token_hash=token_hash(token),
            document=document,
            invoice=invoice,
            customer=owner,
            created_by=user,
            created_by_label=actor.label[:254],
            expires_at=expires_at,
        )
        audit(
            actor,
            "share_link.created",
            link,
            target=link.target._meta.label_lower,
            target_id=link.target.pk,
            expires_at=expires_at,
        )
    return NewShareLink(link, token)


def revoke_share_link(*, link: ShareLink, actor: Actor) -> ShareLink:
    """Close the link now (revoking twice changes nothing the second time)."""
    with transaction.atomic():
        link = ShareLink.all_tenants.select_for_update(of=("self",)).get(pk=link.pk)
        if link.revoked_at is not None:
            return link
        link.revoked_at = clock.now()
        link.save(update_fields=["revoked_at"])
        audit(actor, "share_link.revoked", link, expires_at=link.expires_at)
    return link


class LinkState:
    OPEN = "open"
    CLOSED = "closed"  # expired or revoked: 410
    UNKNOWN = "unknown"  # no such token on this host: 404


def find_share_link(organization, token: str) -> tuple[str, ShareLink | None]:
    """The link of this organization with this token, and whether it still opens."""
    if organization is None or not token or len(token) > 200:
        return LinkState.UNKNOWN, None
    link = (
        ShareLink.all_tenants.select_related("document", "invoice", "created_by", "customer", "organization")
        .filter(organization_id=organization.pk, token_hash=token_hash(token))
        .first()
    )
    if link is None:
        return LinkState.UNKNOWN, None
    if not link.is_open_at(clock.now()):
        return LinkState.CLOSED, link
    return LinkState.OPEN, link


def record_opening(*, link: ShareLink, actor: Actor, refused: bool = False) -> None:
    """Audit an opening of the link (a refused one too: someone holds a closed link)."""
    if refused:
        audit(actor, "share_link.refused", link, revoked=link.revoked_at is not None)
        return
    ShareLink.all_tenants.filter(pk=link.pk).update(
        open_count=F("open_count") + 1, last_opened_at=clock.now()
    )
    audit(actor, "share_link.opened", link, target=link.target._meta.label_lower, target_id=link.target.pk)
