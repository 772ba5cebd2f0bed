"""localstripe, a stateful fake Stripe server (PyPI `localstripe`), for the `stripe` gateway's tests.

- `localstripe_server` (session): one server per test process (each xdist worker has its own), on
  a loopback port; yields its base URL, `http://127.0.0.1:<port>`. Stripe.js is served at
  `<base>/js.stripe.com/v3/` (localstripe's own copy, which talks to the same server), so browser
  tests load it from there.
- `localstripe` (function): the same URL, with the server's data flushed first, so a test sees only
  the Stripe objects it made (ids like `payment_attempt:<id>` repeat across rolled-back databases).
- `stripe_org`: the `org` fixture, paying through the `stripe` gateway at that server with test keys
  (`STRIPE_KEYS`), and `settings.STRIPE_API_BASE` pointing at it.

localstripe's own `start()` listens on every interface (`::`) and pickles its store to
`/tmp/localstripe.pickle` after each change (card numbers included). We run its aiohttp app
ourselves instead: on a socket this process bound to 127.0.0.1 and hands over (no port race), with
the store kept in memory only, and accepting `off_session` when a PaymentIntent is confirmed.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

STRIPE_KEYS = {
    "stripe_secret_key": "sk_test_portico",
    "stripe_publishable_key": "pk_test_portico",
    "stripe_webhook_secret": "whsec_portico_test",
}

_SERVER = """
import socket, sys
from aiohttp import web
from localstripe import resources

resources.store.dump_to_disk = lambda: None  # memory only: nothing (no card number) lands in /tmp

# Stripe takes `off_session` when a PaymentIntent is confirmed; localstripe refuses any parameter
# there. Accept it (localstripe then asks for 3-D Secure where Stripe would decline, and the
# gateway treats both alike). Routes are made from `extra_apis` when `server` is imported.
_confirm = resources.PaymentIntent._api_confirm
def _confirm_off_session(id, off_session=None, **kwargs):
    return _confirm(id, **kwargs)
resources.extra_apis[:] = [
    (m, u, _confirm_off_session if f == _confirm else f) for m, u, f in resources.extra_apis
]
from localstripe import server
sock = socket.socket(fileno=int(sys.argv[1]))
web.run_app(server.app, sock=sock, access_log=None, print=None)
"""


def flush(base_url: str) -> None:
    """Forget every Stripe object localstripe holds (its `DELETE /_config/data`)."""
    request = urllib.request.Request(f"{base_url}/_config/data", method="DELETE")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


@pytest.fixture(scope="session")
def localstripe_server(tmp_path_factory):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    log_path = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", _SERVER, str(sock.fileno())],
            pass_fds=[sock.fileno()],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    sock.close()  # the server holds its own copy of the listening socket
    try:
        _wait_until_answering(base_url, process, log_path)
        yield base_url
    finally:
        process.kill()
        process.wait(timeout=10)


def _wait_until_answering(base_url: str, process: subprocess.Popen, log_path) -> None:
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited ({process.returncode}): {log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{base_url}/js.stripe.com/v3/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"localstripe did not answer at {base_url}: {log_path.read_text()}")
        time.sleep(0.05)


@pytest.fixture
def localstripe(localstripe_server):
    flush(localstripe_server)
    return localstripe_server


@pytest.fixture
def stripe_org(org, settings, localstripe):
    """`org`, paying through Stripe (localstripe) with test keys."""
    from portico.payments.gateways import payment_settings

    settings.STRIPE_API_BASE = localstripe
    config = payment_settings(org)
    config.gateway = "stripe"
    for name, value in STRIPE_KEYS.items():
        setattr(config, name, value)
    config.save()
    return org
