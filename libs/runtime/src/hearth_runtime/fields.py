"""Field validators for the thin servicers: each bad field raises `Invalid` naming it.

A servicer checks a request's shape here before the application sees it, so applications
take well-formed domain values. Messages say what the field must be and never repeat the
input whole (`quote` keeps a short prefix).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sized
from uuid import UUID

from .errors import Invalid, quote

MAX_REQUEST_ID = 128


def request_id(value: str, field: str = "request_id") -> str:
    """A client's idempotency key: 1..128 characters."""
    if not 0 < len(value) <= MAX_REQUEST_ID:
        raise Invalid.field(field, f"must be 1..{MAX_REQUEST_ID} characters")
    return value


def identifier(value: str, field: str, kind: str) -> UUID:
    """A UUID naming a `kind` of thing: identifier(v, "organisation_id", "organisation")."""
    try:
        return UUID(value)
    except (ValueError, TypeError):
        article = "an" if kind[:1] in "aeiou" else "a"
        shown = f", not {quote(value)}" if value else ""
        raise Invalid.field(field, f"must be {article} {kind} id (a UUID){shown}") from None


def text(value: str, field: str, *, max_chars: int, required: bool = False) -> str:
    """Text of at most `max_chars` characters; `required` text is not blank."""
    if required and not value.strip():
        raise Invalid.field(field, f"is required (1..{max_chars} characters)")
    if len(value) > max_chars:
        raise Invalid.field(field, f"must be at most {max_chars} characters")
    return value


def matching(value: str, field: str, pattern: re.Pattern[str], description: str) -> str:
    """Text of a fixed form, e.g. a purpose name; `description` says the form."""
    if not pattern.fullmatch(value):
        raise Invalid.field(field, f"must be {description}")
    return value


def exact_bytes(value: bytes, field: str, size: int, what: str) -> bytes:
    """Bytes of one length: exact_bytes(key, "device_public_key", 32, "Ed25519 key")."""
    if len(value) != size:
        raise Invalid.field(field, f"must be a {size}-byte {what}")
    return value


def bounded_bytes(value: bytes, field: str, *, max_bytes: int, required: bool = False) -> bytes:
    if required and not value:
        raise Invalid.field(field, "is required")
    if len(value) > max_bytes:
        raise Invalid.field(field, f"must be at most {max_bytes} bytes")
    return value


def known(value: int, field: str, allowed: Collection[int], what: str) -> int:
    """An enum value the service knows (never UNSPECIFIED unless `allowed` has it)."""
    if value not in allowed:
        raise Invalid.field(field, f"must be {what}")
    return value


def positive(value: int, field: str) -> int:
    if value <= 0:
        raise Invalid.field(field, "must be a positive number")
    return value


def bounded_int(value: int, field: str, *, at_most: int, at_least: int = 0) -> int:
    """A number within documented bounds, checked before it reaches a store."""
    if not at_least <= value <= at_most:
        raise Invalid.field(field, f"must be {at_least}..{at_most}")
    return value


def count(values: Sized, field: str, *, at_most: int, at_least: int = 0) -> int:
    """A repeated field's length within bounds."""
    n = len(values)
    if not at_least <= n <= at_most:
        raise Invalid.field(field, f"must have {at_least}..{at_most} entries, not {n}")
    return n
