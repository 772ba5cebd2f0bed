"""The rate limit per key, counted in the database: 429 with Retry-After past the limit."""

from tests.api.conftest import ApiClient, assert_error, new_key


def test_past_the_limit_a_key_gets_429_with_retry_after_until_the_window_ends(org, settings, clock):
    settings.PORTICO_API_RATE_LIMIT = 3
    clock.set("2026-03-10T15:00:02+00:00")  # 8 seconds before the 10-second window ends
    api = ApiClient(new_key(org))
    assert [api.get("/api/v1/customers").status_code for _ in range(3)] == [200, 200, 200]
    refused = api.get("/api/v1/customers")
    assert_error(refused, 429, "rate_limited")
    assert refused["Retry-After"] == "8"
    assert ApiClient(new_key(org, name="Another")).get("/api/v1/customers").status_code == 200  # per key
    clock.advance(seconds=8)
    assert api.get("/api/v1/customers").status_code == 200


def test_the_documented_default_is_100_requests_per_10_seconds():
    from portico.api import ratelimit

    assert (ratelimit.limit(), ratelimit.window()) == (100, 10)
