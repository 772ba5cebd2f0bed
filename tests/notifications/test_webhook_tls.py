"""Webhooks over https: the receiver's certificate is verified for the endpoint's host name, on the
connection to the address that was checked. A local TLS receiver with a certificate made here."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess

import pytest

from portico.core import outbox
from portico.notifications import delivery
from portico.notifications.models import WebhookDelivery
from tests.billing.factories import open_invoice
from tests.notifications.factories import endpoint
from tests.notifications.receiver import Receiver


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for `localhost` (openssl), its key beside it."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "localhost.pem", tmp_path / "localhost.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_receiver(certificate):
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = Receiver().start(tls=context)
    try:
        yield server
    finally:
        server.stop()


def test_an_endpoint_whose_certificate_is_not_trusted_is_not_sent_the_event(
    org, customer, tls_receiver, clock
):
    endpoint(org, url=tls_receiver.https_url())
    open_invoice(customer, 5000)
    outbox.deliver_all_due()
    delivery.send_all_due()
    row = WebhookDelivery.objects.get()
    assert row.status == WebhookDelivery.Status.PENDING and row.response_status is None
    assert "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert tls_receiver.requests == []


def test_an_endpoint_with_a_trusted_certificate_receives_the_event_over_tls(
    org, customer, tls_receiver, certificate, clock, monkeypatch
):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust this one certificate
    endpoint(org, url=tls_receiver.https_url())
    invoice = open_invoice(customer, 5000)
    outbox.deliver_all_due()
    assert delivery.send_all_due().delivered == 1
    [request] = tls_receiver.requests
    assert json.loads(request.body)["data"]["number"] == invoice.number
    assert request.headers["Host"] == f"localhost:{tls_receiver.port}"
