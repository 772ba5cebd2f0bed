"""`core.fields.new_random_id`: the public ids of the API and of bulk-inserted rows."""

from collections import Counter

from portico.core.fields import PUBLIC_ID_ALPHABET, PUBLIC_ID_LENGTH, new_random_id


def test_an_id_is_fourteen_letters_and_digits_and_ids_do_not_repeat():
    ids = [new_random_id() for _ in range(20_000)]
    assert all(len(i) == PUBLIC_ID_LENGTH and set(i) <= set(PUBLIC_ID_ALPHABET) for i in ids)
    assert len(set(ids)) == len(ids)


def test_every_character_is_about_equally_likely():
    # 62 characters over 280,000 draws: about 4,516 each, a standard deviation of about 67. The
    # plain b % 62 over all 256 byte values would favour the first eight (5 bytes each instead of
    # 4): near 5,470 for them, 4,375 for the rest.
    counts = Counter("".join(new_random_id() for _ in range(20_000)))
    assert set(counts) == set(PUBLIC_ID_ALPHABET)
    assert min(counts.values()) > 4_100 and max(counts.values()) < 4_950
