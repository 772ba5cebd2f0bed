"""An error report about any request — whatever view it reached — never shows a card's number or
security code (core/reporting.py), while the rest of the request still helps debugging."""

import re
import sys

from django.test import RequestFactory
from django.views.debug import ExceptionReporter

from tests import card_guard

# Built, not written out: the report shows the source lines around the raise, and this file's own
# source must not be what the assertions find.
NUMBER = " ".join(["4242"] * 4)
CVC = str(900 + 87)
CARD = {"name": "Maria Lopez", "number": NUMBER, "exp_month": "12", "exp_year": "2030", "cvc": CVC}


def _report_of(request) -> str:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        reporter = ExceptionReporter(request, *sys.exc_info())
        return reporter.get_traceback_text() + reporter.get_traceback_html()


def test_a_report_of_an_undecorated_view_hides_the_card_fields():
    request = RequestFactory().post("/portal/anything/", {**CARD, "memo": "thanks"})
    report = _report_of(request)
    # The code as a word of its own: a memory address in the report (0x7fee987a1ff0) may hold the digits.
    assert NUMBER not in report and not re.search(rf"(?<![0-9A-Za-z]){CVC}(?![0-9A-Za-z])", report)
    assert card_guard.findings(report) == []
    assert "thanks" in report and "Maria Lopez" in report  # the rest still shows


def test_a_report_of_a_request_without_card_fields_is_unchanged():
    request = RequestFactory().post("/portal/anything/", {"memo": "4000 0000 0000 0002 is a test card"})
    assert "4000 0000 0000 0002" in _report_of(request)
