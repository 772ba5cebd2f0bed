"""Helpers of the accounts suites: second factors with a known secret, codes from oathtool, links."""

from __future__ import annotations

import re
import subprocess

import pytest
from allauth.mfa.totp.internal.auth import TOTP

from tests.conftest import tenant_client

# RFC 4648 base32 of the RFC 6238 test key "12345678901234567890".
SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


def oathtool_code(secret: str = SECRET) -> str:
    """The current TOTP code, computed by Debian's oathtool from the same secret (not by our code)."""
    return subprocess.run(
        ["oathtool", "--totp", "--base32", secret], check=True, capture_output=True, text=True
    ).stdout.strip()


def enable_totp(user, secret: str = SECRET):
    return TOTP.activate(user, secret).instance


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def client_at(org):
    def make(organization=None, **kwargs):
        return tenant_client(organization or org, **kwargs)

    return make


def set_policy(organization, **fields):
    from portico.accounts.models import AccessPolicy

    AccessPolicy.objects.update_or_create(organization=organization, defaults=fields)
