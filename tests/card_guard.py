"""A guard over the whole suite, browser tests included: no card number and no security code ever
reaches the database, the logs or an email.

Structural, not a list of places to look: every SQL statement any connection executes (the test
client's, the browser tests' live server thread's) has its parameters read; every log record at INFO
and up is formatted and read; every email, whether Django's in-memory outbox or the real SMTP
server received it, is read. What is looked for is every card number the suite types — the test
gateway's and localstripe's test cards, with or without spaces — and a security code next to its
name. A test during which one is seen fails at teardown, naming where it was seen.
"""

from __future__ import annotations

import logging
import re
import threading

import pytest
from django.db.backends.signals import connection_created

# The test cards the suite types (payments.test_gateway, localstripe's), as digits.
CARD_NUMBERS = {
    "4242424242424242",
    "4000056655665556",
    "5555555555554444",
    "2223003122003222",
    "378282246310005",
    "6011111111111117",
    "4000000000000002",
    "4000000000009995",
    "4000000000009987",
    "4000000000009979",
    "4000000000000069",
    "4000000000000127",
    "4000000000000119",
    "4000000000000341",
    "4000002500003155",
    "4000000000003220",
    "4000000000003063",
    "4242424242424241",
    "4111111111111111",
}
# A card-number-shaped run of digits, spaces or dashes between groups allowed.
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z_])(?:\d[ -]?){12,18}\d(?![0-9A-Za-z_])")
# A security code beside its name: cvc=123, "cvc": "123", cvc: 1234, card[cvc]=123.
_CVC = re.compile(r"""(?i)\b(?:cvc|cvv|cvv2|csc|security.code)\b\]?["']?\s*[:=]\s*["']?\d{3,4}\b""")

_seen: list[str] = []
_lock = threading.Lock()


def findings(text: str) -> list[str]:
    """What in `text` is a card number or a security code (empty when clean)."""
    if not text:
        return []
    found = []
    for match in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if digits in CARD_NUMBERS:
            found.append(f"card number ending {digits[-4:]}")
    if _CVC.search(text):
        found.append("a security code")
    return found


def _report(where: str, text: str) -> None:
    for finding in findings(text):
        with _lock:
            _seen.append(f"{finding} in {where}")


def check(where: str, value) -> None:
    if isinstance(value, bytes | memoryview):
        value = bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        _report(where, value)
    elif isinstance(value, dict):
        for item in value.values():
            check(where, item)
    elif isinstance(value, list | tuple):
        for item in value:
            check(where, item)


# -- the database: every statement's parameters ------------------------------------------------


def _sql_guard(execute, sql, params, many, context):
    if params and sql.lstrip()[:6].upper() in {"INSERT", "UPDATE"}:
        words = sql.split()
        table = (words[2] if words[0].upper() == "INSERT" else words[1]).strip('"`')
        check(f"the database ({table})", [list(p) for p in params] if many else list(params))
    return execute(sql, params, many, context)


def _install(connection, **kwargs):
    if _sql_guard not in connection.execute_wrappers:
        connection.execute_wrappers.append(_sql_guard)


connection_created.connect(_install, weak=False)


# -- the logs ---------------------------------------------------------------------------------


class _LogGuard(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:
            text = str(record.msg)
        _report(f"the log ({record.name})", text)


_log_guard = _LogGuard(level=logging.INFO)
_log_guard.setFormatter(logging.Formatter("%(message)s"))


def _watch_logs() -> None:
    """(Re)attach the log guard: a test that reconfigures logging (dictConfig) drops root's handlers."""
    root = logging.getLogger()
    if _log_guard not in root.handlers:
        root.addHandler(_log_guard)
    # The suite's settings log warnings and up; the app's own INFO lines are read too.
    for name in ("portico", "stripe"):
        if logging.getLogger(name).getEffectiveLevel() > logging.INFO:
            logging.getLogger(name).setLevel(logging.INFO)


# -- emails, and the verdict per test ------------------------------------------------------------


def check_email(message, where: str = "an email") -> None:
    """Read an email as received (an `email.message.Message`) or as sent (Django's EmailMessage)."""
    if hasattr(message, "walk"):
        for part in message.walk():
            if part.get_content_maintype() == "text":
                check(where, part.get_content())
        check(where, str(message.get("Subject", "")))
    else:
        check(where, [message.subject, message.body, *(c for c, _t in getattr(message, "alternatives", []))])


@pytest.fixture(autouse=True)
def _card_guard():
    _watch_logs()
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        _install(connection)
    with _lock:
        _seen.clear()
    yield
    from django.core import mail

    for message in getattr(mail, "outbox", []) or []:
        check_email(message, "an email (Django's outbox)")
    with _lock:
        seen, _seen[:] = list(_seen), []
    if seen:
        pytest.fail("Card data leaked: " + "; ".join(dict.fromkeys(seen)), pytrace=False)
