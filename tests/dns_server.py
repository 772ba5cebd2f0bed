"""A real DNS server for the custom-domain tests (dnslib, PyPI), on a free loopback UDP port.

- `dns_server`: a server answering from the records a test gives it (`dns_server.set(...)`, zone
  file lines such as `billing.example.test. 60 CNAME renotech.localhost.`), authoritatively: a name
  it holds no record for is NXDOMAIN, a name it holds other types for is an empty answer. Settings
  point `core.domains` at it (`PORTICO_DNS_NAMESERVERS`), with a one-second timeout.
- `silent_dns_port`: a bound UDP socket that never answers, for the timeout case.
"""

from __future__ import annotations

import socket
import threading

import pytest


class RecordsResolver:
    """Answers from a list of resource records; `set` replaces them while the server runs."""

    def __init__(self):
        self.records = []
        self.lock = threading.Lock()
        self.queries: list[tuple[str, str]] = []

    def set(self, *zone_lines: str) -> None:
        from dnslib import RR

        records = [rr for line in zone_lines for rr in RR.fromZone(line)]
        with self.lock:
            self.records = records

    def resolve(self, request, handler):
        from dnslib import QTYPE, RCODE

        reply = request.reply()
        question = request.q
        with self.lock:
            records = list(self.records)
            self.queries.append((str(question.qname).rstrip("."), QTYPE[question.qtype]))
        at_name = [rr for rr in records if rr.rname == question.qname]
        for rr in at_name:
            if rr.rtype == question.qtype:
                reply.add_answer(rr)
        if not at_name:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


@pytest.fixture
def dns_server(settings):
    from dnslib.server import DNSLogger, DNSServer

    resolver = RecordsResolver()
    server = DNSServer(
        resolver, address="127.0.0.1", port=0, logger=DNSLogger(log="-request,-reply,-truncated")
    )
    server.start_thread()
    host, port = server.server.server_address
    settings.PORTICO_DNS_NAMESERVERS = [(host, port)]
    settings.PORTICO_DNS_TIMEOUT = 1
    resolver.port = port
    try:
        yield resolver
    finally:
        server.stop()
        server.server.server_close()


@pytest.fixture
def silent_dns_port(settings):
    """A UDP port where queries arrive and are never answered: every lookup times out."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    settings.PORTICO_DNS_NAMESERVERS = [sock.getsockname()]
    settings.PORTICO_DNS_TIMEOUT = 1
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()
