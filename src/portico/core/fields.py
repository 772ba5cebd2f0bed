import secrets
import string

from django.db import models

from portico.core.money import Money

PUBLIC_ID_ALPHABET = string.ascii_letters + string.digits
PUBLIC_ID_LENGTH = 14  # 62**14 ≈ 2**83: unguessable, and short enough to read out


def money_property(field_name: str, currency_attr: str = "currency"):
    """Expose an integer `<name>_minor` field as a `Money` attribute, read and write."""

    def getter(self) -> Money:
        return Money(getattr(self, field_name), getattr(self, currency_attr))

    def setter(self, value: Money) -> None:
        if value.currency != getattr(self, currency_attr):
            raise ValueError(f"{field_name} is in {getattr(self, currency_attr)}, not {value.currency}")
        setattr(self, field_name, value.minor)

    return property(getter, setter)


# Random bytes to letters and digits in one `bytes.translate`: byte b < 248 (4 × 62) becomes
# ALPHABET[b % 62], the 8 bytes above it are dropped, so every character is equally likely.
_TO_ALPHABET = bytes(ord(PUBLIC_ID_ALPHABET[b % len(PUBLIC_ID_ALPHABET)]) for b in range(256))
_DROPPED = bytes(range(4 * len(PUBLIC_ID_ALPHABET), 256))


def new_random_id() -> str:
    """A random letters-and-digits id (the API shows it with its kind's prefix: `cus_…`). One
    `secrets` call per id (the bill run makes thousands a second)."""
    while True:
        # 24 bytes leave 14 or more in all but about one call in 10^10; a shorter draw is redrawn.
        chosen = secrets.token_bytes(24).translate(_TO_ALPHABET, _DROPPED)
        if len(chosen) >= PUBLIC_ID_LENGTH:
            return chosen[:PUBLIC_ID_LENGTH].decode("ascii")


class PublicIdField(models.CharField):
    """The id by which a row is addressed from outside (the API, URLs): random and unique, never the
    sequential primary key, which would tell how many rows there are and invite guessing.

    A new column of this kind on a table with rows comes in three migrations (nullable, backfill,
    required), as every new required column does (CONVENTIONS.md)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault("unique", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("default", new_random_id)
        super().__init__(*args, **kwargs)

    def db_type(self, connection):
        # varchar under its SQL name: PostgreSQL's schema editor gives every unique `varchar…` column
        # a second index for LIKE (varchar_pattern_ops), written on every insert. An id is only
        # ever compared whole. Core migration 0009 drops the ones made before.
        if connection.vendor == "postgresql":
            return f"character varying({self.max_length})"
        return super().db_type(connection)
