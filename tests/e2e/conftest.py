"""Real-browser harness: Playwright driving Debian's Chromium against pytest-django's live server.

Tenants are reached by their real host names (`<slug>.localhost:<port>`): Chromium resolves every
`*.localhost` name to the loopback address, so tenant resolution runs exactly as in production.
Each test gets a fresh browser context; `axe_check(page)` fails on serious or critical accessibility
violations; `screenshot(page, name)` writes desktop and phone captures to var/screenshots/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM must still be usable here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("PORTICO_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.exit(f"Chromium not found at {CHROMIUM}: run `make e2e` (it installs Debian's chromium).", 2)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live(live_server, transactional_db):
    """The live server's port; data created in the test is visible to it."""
    from urllib.parse import urlparse

    return urlparse(live_server.url).port


@pytest.fixture
def tenant_url(live):
    def url(organization, path: str = "/portal/") -> str:
        return f"http://{organization.slug}.localhost:{live}{path}"

    return url


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def axe_check(page, *, impacts=("serious", "critical"), exclude: tuple[str, ...] = ()) -> None:
    """Fail on accessibility violations of the given impacts, listing each rule and element.
    `exclude`: CSS selectors of parts that are not ours (localstripe's stand-in card fields)."""
    from axe_playwright_python.sync_playwright import Axe

    context = {"exclude": [[selector] for selector in exclude]} if exclude else None
    results = Axe().run(page, context=context)
    violations = [v for v in results.response["violations"] if v.get("impact") in impacts]
    if violations:
        lines = [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(node["target"][0] if node.get("target") else "?" for node in v["nodes"][:5])
            for v in violations
        ]
        pytest.fail(f"axe found {len(violations)} violation(s) on {page.url}:\n" + "\n".join(lines))


def screenshot(page, name: str) -> list[Path]:
    """Full-page captures at desktop and phone widths; the viewport is restored afterwards."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size or DESKTOP
    paths = []
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        path = SCREENSHOTS / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    page.set_viewport_size(original)
    return paths


def sign_in(page, url: str, email: str, password: str) -> None:
    page.goto(url)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
