"""Card numbers, wherever text might carry one: the Luhn check, and masking for logs.

A card number must never be stored readable (PCI DSS), and a log is storage. Django logs the path
of every refused request ("Bad Request: /api/v1/credit_notes/4242 4242 4242 4242/apply"), and a
hurried customer pastes a card number into whatever field is in front of them: every log record is
masked as it is made (`mask_log_records`, installed by core's AppConfig), whichever logger made it.
"""

from __future__ import annotations

import logging
import re
import traceback

# A card-number-shaped run: 12 to 19 digits, single spaces or dashes between groups allowed.
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z_])(?:\d[ -]?){11,18}\d(?![0-9A-Za-z_])")
_NOT_DIGITS = re.compile(r"\D")


def luhn_ok(digits: str) -> bool:
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _masked(match: re.Match) -> str:
    digits = _NOT_DIGITS.sub("", match.group())
    if not luhn_ok(digits):
        return match.group()  # an order number, a phone number: kept
    return f"[card number ending {digits[-4:]}]"


def mask_card_numbers(text: str) -> str:
    """`text` with every Luhn-valid card-number-shaped run replaced by its last four digits."""
    return _DIGIT_RUN.sub(_masked, text)


def mask_log_records() -> None:
    """Make every log record with its card numbers masked (once per process): the record's message,
    and its traceback when it has one, are formatted and masked when made, so no handler or
    formatter sees the digits."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "masks_card_numbers", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its message: logging reports it
            return record
        masked = mask_card_numbers(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            # The traceback as logging's Formatter writes it, kept only when masking changed it (a
            # formatter uses `exc_text` when set; filters that drop `exc_info` drop it too).
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            masked = mask_card_numbers(text)
            if masked != text:
                record.exc_text = masked
        return record

    factory.masks_card_numbers = True
    logging.setLogRecordFactory(factory)
