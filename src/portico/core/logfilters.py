"""Logging filters of Portico (configured in settings.LOGGING)."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied


class ForbiddenWithoutTraceback(logging.Filter):
    """An expected refusal (PermissionDenied → 403) is logged as one line, "Forbidden (Permission
    denied): /path", not with the traceback Django attaches: it is a normal outcome, not a bug."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], PermissionDenied):
            record.exc_info = None
            record.exc_text = None
        return True
