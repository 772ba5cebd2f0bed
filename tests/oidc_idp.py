"""A real OpenID Connect provider (npm `oidc-provider`, tests/idp/oidc/server.mjs) for the SSO tests.

- `oidc_idp` (session): one provider per test process (each xdist worker has its own), on a free
  loopback port, issuer `http://127.0.0.1:<port>`. It yields an `OidcIdp`:
  - `.issuer`, `.discovery_url`, `.discovery()` (the parsed document), `.log_path`;
  - `.register_client(redirect_uris, auth_method="client_secret_post", **metadata)` registers a
    client (dynamic registration) and returns `(client_id, client_secret)`; `auth_method` is
    `client_secret_post` or `client_secret_basic`;
  - `.sign_in_programmatically(authorize_url, email)` walks the provider's pages as a browser would
    (the login form, then the consent form if the client asked for `prompt=consent`) and returns the
    redirect back to the relying party (its callback URL with `code` and `state`, or `error`) without
    following it; `cancel=True` presses Cancel instead (`error=access_denied`);
  - `OidcIdp.sub_for(email)`: the `sub` the provider gives that email.

Accounts are whatever email is typed: `email_verified` is false when the local part starts with
`unverified`, true otherwise; `ann@acme.example` is "Ann Acme", `ann.smith@...` "Ann Smith". Consent
for openid, email and profile is given without a page. In a real browser (Playwright):
`page.fill("#login-form input[name=login]", email)` (label "Email"), then
`page.click("#login-form button[type=submit]")` (text "Sign in"); with `prompt=consent` a second
page has `#consent-form button[type=submit]` ("Continue"). `#cancel-form button` ("Cancel") refuses.

The provider's packages are installed by `make idp-deps` (`npm ci`); a clone without them gets them
here, once, under a lock shared by the xdist workers. Without Node.js the fixture fails.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

IDP_DIR = Path(__file__).resolve().parent / "idp" / "oidc"
SERVER = IDP_DIR / "server.mjs"
NODE_MODULES = IDP_DIR / "node_modules"
LOCKFILE = IDP_DIR / "package-lock.json"
STAMP = NODE_MODULES / ".portico-installed"  # the Makefile's idp-deps target uses the same stamp
READY = "OIDC_IDP_READY "


class _Forms(HTMLParser):
    """The forms of a page: id, action, method and the named inputs with their values."""

    def __init__(self):
        super().__init__()
        self.forms: dict[str, dict] = {}
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {
                "action": attrs.get("action", ""),
                "method": (attrs.get("method") or "get").lower(),
                "fields": {},
            }
            self.forms[attrs.get("id") or f"form-{len(self.forms)}"] = self._current
        elif tag == "input" and self._current is not None and attrs.get("name"):
            self._current["fields"][attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


@dataclass
class OidcIdp:
    issuer: str
    log_path: Path
    _discovery: dict | None = field(default=None, repr=False)

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def discovery(self) -> dict:
        if self._discovery is None:
            response = requests.get(self.discovery_url, timeout=10)
            response.raise_for_status()
            self._discovery = response.json()
        return self._discovery

    @staticmethod
    def sub_for(email: str) -> str:
        return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]

    def register_client(
        self, redirect_uris: list[str], auth_method: str = "client_secret_post", **metadata
    ) -> tuple[str, str]:
        body = {
            "redirect_uris": list(redirect_uris),
            "token_endpoint_auth_method": auth_method,
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "scope": "openid email profile",
            **metadata,
        }
        response = requests.post(self.discovery()["registration_endpoint"], json=body, timeout=10)
        if response.status_code != 201:
            raise AssertionError(f"client registration refused ({response.status_code}): {response.text}")
        client = response.json()
        return client["client_id"], client["client_secret"]

    def sign_in_programmatically(
        self,
        authorize_url: str,
        email: str,
        *,
        cancel: bool = False,
        session: requests.Session | None = None,
    ) -> str:
        """The URL the provider finally redirects to outside itself (the relying party's callback).

        Pass a `session` to keep the provider's session cookie between sign-ins (single sign-on: a
        second authorization then needs no login)."""
        session = session or requests.Session()
        response = session.get(authorize_url, allow_redirects=False, timeout=10)
        for _ in range(10):
            if response.is_redirect:
                location = urljoin(response.url, response.headers["Location"])
                if not location.startswith(f"{self.issuer}/"):
                    return location
                response = session.get(location, allow_redirects=False, timeout=10)
                continue
            if response.status_code != 200:
                raise AssertionError(
                    f"the provider answered {response.status_code} at {response.url}: {response.text}"
                )
            parser = _Forms()
            parser.feed(response.text)
            if cancel:
                form = parser.forms["cancel-form"]
            elif "login-form" in parser.forms:
                form = parser.forms["login-form"]
                form["fields"]["login"] = email
            elif "consent-form" in parser.forms:
                form = parser.forms["consent-form"]
            else:
                raise AssertionError(f"no sign-in form at {response.url}: {response.text}")
            response = session.request(
                form["method"],
                urljoin(response.url, form["action"]),
                data=form["fields"],
                allow_redirects=False,
                timeout=10,
            )
        raise AssertionError(f"the provider kept redirecting within itself, last at {response.url}")


def ensure_node_modules() -> None:
    """`npm ci` when node_modules is missing or older than package-lock.json (as `make idp-deps`)."""
    lock_path = Path(tempfile.gettempdir()) / (
        "portico-oidc-idp-npm-" + hashlib.sha256(str(IDP_DIR).encode()).hexdigest()[:12] + ".lock"
    )
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers: one installs, the others wait for it
        if STAMP.exists() and STAMP.stat().st_mtime >= LOCKFILE.stat().st_mtime:
            return
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(f"npm is needed to install the OIDC provider's packages ({IDP_DIR})", pytrace=False)
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(IDP_DIR)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            pytest.fail(f"npm ci failed in {IDP_DIR}:\n{result.stdout}\n{result.stderr}", pytrace=False)
        STAMP.touch()


def _wait_for_ready(process: subprocess.Popen, log_path: Path, timeout: float = 120) -> str:
    """The issuer from the server's ready line, then its discovery document answering. Patient: on a
    2-core machine running both test suites at once, node once took over 30 s to start; a provider
    that exits is reported at once."""
    found: list[str] = []

    def read_stdout():
        with open(log_path, "a") as log:
            for line in process.stdout:
                if line.startswith(READY) and not found:
                    found.append(json.loads(line[len(READY) :])["issuer"])
                log.write(line)
                log.flush()

    threading.Thread(target=read_stdout, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not found:
        if process.poll() is not None:
            time.sleep(0.1)  # let the reader copy the last lines
            raise RuntimeError(f"the OIDC provider exited ({process.returncode}): {log_path.read_text()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the OIDC provider printed no ready line: {log_path.read_text()}")
        time.sleep(0.02)
    issuer = found[0]
    while True:
        try:
            response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2)
            if response.status_code == 200 and response.json()["issuer"] == issuer:
                return issuer
        except (requests.RequestException, ValueError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the OIDC provider did not answer at {issuer}: {log_path.read_text()}")
        time.sleep(0.05)


@contextlib.contextmanager
def running_provider(log_path: Path, **env_extra: str):
    """One provider process, its clients (`OIDC_IDP_CLIENTS`, as scripts/serve.sh gives the demo's)
    and port from `env_extra`; stopped on leaving."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js (`node`) is needed for the OIDC provider of the SSO tests", pytrace=False)
    ensure_node_modules()
    log_path.touch()
    env = {**os.environ, "NODE_ENV": "test", **env_extra}
    env.pop("OIDC_IDP_PORT", None)
    with open(log_path, "ab") as stderr_log:  # O_APPEND, shared with the stdout reader
        process = subprocess.Popen(
            [node, str(SERVER), "--port", env_extra.get("PORT", "0")],
            cwd=IDP_DIR,
            env=env,
            stdin=subprocess.PIPE,  # the server exits when this closes, even if we are killed
            stdout=subprocess.PIPE,
            stderr=stderr_log,
            text=True,
        )
    try:
        issuer = _wait_for_ready(process, log_path)
        yield OidcIdp(issuer=issuer, log_path=log_path)
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def oidc_idp(tmp_path_factory):
    with running_provider(tmp_path_factory.mktemp("oidc_idp") / "oidc-idp.log") as idp:
        yield idp
