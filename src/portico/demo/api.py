"""The demo's API keys: one fixed write key per demo organization, so that the README's and
docs/api.md's curl examples work as written. Created only when `PORTICO_DEMO` is on (`make run`,
`make demo`): a production instance that runs `portico demo` by mistake gets no known key."""

from __future__ import annotations

import os

from portico.api.services import ensure_demo_key
from portico.core.audit import Actor

DEMO_API_SECRETS = {"renotech": "portico-demo-api-key", "northwind": "northwind-demo-api-key"}


def demo_enabled() -> bool:
    return os.environ.get("PORTICO_DEMO", "").strip().lower() in ("1", "true", "yes", "on")


def extend(demo) -> None:
    if not demo_enabled():
        return
    for organization in (demo.renotech, demo.northwind):
        demo.api_keys[organization.slug] = ensure_demo_key(
            organization=organization, secret=DEMO_API_SECRETS[organization.slug], actor=Actor.system("demo")
        )
