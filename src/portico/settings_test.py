"""Test settings: the real settings, with a fast password hasher and local email."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("PORTICO_TESTING", "true")
os.environ.setdefault("EMAIL_URL", "locmem://")
if os.environ.get("TEST_DATABASE_URL") and not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]

from portico.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
ACCOUNT_RATE_LIMITS = {"login_failed": False, "reset_password": "20/m/ip"}
# The real loggers and filters (a 403 is one line), quieter: warnings and up, and no handler.
LOGGING = {**LOGGING, "handlers": {}, "root": {"level": "WARNING"}}  # noqa: F405

# Uploaded files and rendered PDFs go to a throw-away folder, one per test process.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="portico-test-media-"))
atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)
