"""Domain errors of shared documents and share links (see `core/errors.py`). Raised before anything is
written, so a refused upload or link stores nothing."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portico.core.errors import DomainError
from portico.engagement.errors import Code  # one list of the app's codes


class DocumentError(DomainError):
    code = Code.DOCUMENT_ERROR
    status = 422  # the API's: a value the request may correct (an upload, a title, an expiry)
    message = _("This change to the document is not possible.")


class DocumentInvalid(DocumentError):
    """A title or audience a document cannot take."""

    code = Code.DOCUMENT_INVALID
    message = _("Check the document's details.")


class DocumentRefused(DocumentError):
    """A file that cannot be shared: too large, empty, or of a type not allowed (judged by its bytes)."""

    code = Code.DOCUMENT_REFUSED
    field = "file"
    message = _("This file cannot be shared.")


class ShareLinkInvalid(DocumentError):
    """A share link to something that cannot be shared (by this sharer), or with an expiry refused."""

    code = Code.SHARE_LINK_INVALID
    message = _("Check the share link's details.")
