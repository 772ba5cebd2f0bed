"""The suite's card guard (tests/card_guard.py) can fail: it sees a card number or a security code
written to the database, logged, or emailed, and stays quiet about ordinary digits."""

import logging

from django.core import mail

from tests import card_guard


def _take_findings() -> list[str]:
    with card_guard._lock:
        seen, card_guard._seen[:] = list(card_guard._seen), []
    return seen


def test_a_card_number_written_to_the_database_is_seen(customer):
    customer.notes = "Customer read out 4242 4242 4242 4242 on the phone"
    customer.save(update_fields=["notes"])
    seen = _take_findings()
    assert seen and "card number ending 4242" in seen[0] and "customers_customer" in seen[0]


def test_a_security_code_in_a_log_line_is_seen():
    logging.getLogger("portico.payments").warning("retrying with cvc=123")
    assert _take_findings() == ["a security code in the log (portico.payments)"]


def test_a_card_number_in_an_email_received_over_smtp_is_seen(mailbox):
    import time

    mail.send_mail(
        "Your card", "We charged 4000-0000-0000-0341 today.", "billing@renotech.example", ["m@x.example"]
    )
    for _ in range(50):
        if mailbox.messages:
            break
        time.sleep(0.05)
    assert mailbox.messages
    assert "card number ending 0341 in an email (SMTP)" in _take_findings()


def test_ordinary_digits_are_not_card_data(customer):
    customer.notes = "Invoice INV-00042, order 4242424242, phone +1 415 555 0100, total 1234.56"
    customer.save(update_fields=["notes"])
    assert card_guard.findings("last4 4242, exp 12/2030, ref pi_4242424242424242x") == []
    assert _take_findings() == []
