"""Uploaded files go to the local disk unless an S3-compatible bucket is configured: the settings
read in a fresh interpreter, as a deployment would start."""

from __future__ import annotations

import json
import os
import subprocess
import sys

READ = "import json, portico.settings as s; print(json.dumps(s.STORAGES['default']))"


def _default_storage(**env) -> dict:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_S3_")}
    environment.update({"PORTICO_DEMO": "true", **env})
    out = subprocess.run(
        [sys.executable, "-c", READ], env=environment, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_files_stay_on_the_local_disk_by_default():
    assert _default_storage()["BACKEND"] == "django.core.files.storage.FileSystemStorage"


def test_a_bucket_keeps_them_private_behind_short_lived_signed_addresses():
    storage = _default_storage(
        PORTICO_S3_BUCKET="portico-files",
        PORTICO_S3_ENDPOINT_URL="https://minio.internal:9000",
        PORTICO_S3_ACCESS_KEY_ID="AKIAEXAMPLE",
        PORTICO_S3_SECRET_ACCESS_KEY="secret",
    )
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert (
        options["bucket_name"] == "portico-files" and options["endpoint_url"] == "https://minio.internal:9000"
    )
    assert options["default_acl"] == "private" and options["querystring_auth"] is True
    assert options["querystring_expire"] == 300 and options["file_overwrite"] is False
