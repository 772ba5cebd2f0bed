"""Benchmark settings: production settings (DEBUG off) plus the floor view's URL."""

import os

os.environ.setdefault("PORTICO_DEMO", "true")
os.environ.setdefault("EMAIL_URL", "locmem://")

from portico.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
