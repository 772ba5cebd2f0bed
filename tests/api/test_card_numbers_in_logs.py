"""A card number in a request's path never reaches the log (the record is masked as it is made,
`core.cards`): found by the schema fuzzer, which put "4242 4242 4242 4242" into a path."""

import logging

from portico.core.cards import mask_card_numbers


def test_a_card_number_in_a_refused_path_is_logged_by_its_last_four_digits_only(api, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = api.request("POST", "/api/v1/credit_notes/4242 4242 4242 4242/apply", {})
    assert 400 <= response.status_code < 500
    logged = [r.getMessage() for r in caplog.records if r.name == "django.request"]
    assert logged, "the refusal was logged"
    assert all("4242 4242" not in line and "4242424242424242" not in line for line in logged), logged
    assert any("[card number ending 4242]" in line for line in logged), logged


def test_every_logger_masks_and_numbers_that_are_not_cards_are_kept(caplog):
    with caplog.at_level(logging.INFO):
        logging.getLogger("portico.anything").info(
            "paid with %s, order %s", "5555-5555-5555-4444", "4242424242424243"
        )
    [record] = [r for r in caplog.records if r.name == "portico.anything"]
    assert record.getMessage() == "paid with [card number ending 4444], order 4242424242424243"
    assert mask_card_numbers("call 0044 20 7946 0958 or ref 1234567890123") == (
        "call 0044 20 7946 0958 or ref 1234567890123"
    )


def test_a_card_number_in_an_exceptions_message_is_masked_in_the_logged_traceback(caplog):
    with caplog.at_level(logging.ERROR):
        try:
            raise ValueError("card 4000 0566 5566 5556 refused")
        except ValueError:
            logging.getLogger("portico.anything").exception("charging failed")
    assert "ValueError: card [card number ending 5556] refused" in caplog.text
    assert "4000 0566" not in caplog.text and "Traceback (most recent call last)" in caplog.text
