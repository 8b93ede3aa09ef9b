"""Verifying an aggregate's hash chain: proof that no event of its trail is missing or altered.

Each stored event carries the SHA-256 of the previous event of the same aggregate, so a trail
read back (from the stream, or from an exported bundle) verifies on its own: versions must
increase, the first event must link to nothing, and every other must link to its predecessor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .records import decode_record, event_hash, originator_of


class BrokenChainError(ValueError):
    """An aggregate's trail is not a complete, unaltered chain."""


@dataclass(frozen=True)
class VerifiedTrail:
    originator: str
    events: int
    head_hash: bytes


def verify_chain(payloads: Iterable[bytes]) -> VerifiedTrail:
    """Check a whole trail, in stored order, of `RecordedEvent` payloads of one aggregate."""
    previous = b""
    last_version: int | None = None
    originator: str | None = None
    count = 0
    for position, payload in enumerate(payloads):
        record = decode_record(payload)
        who = str(originator_of(record))
        if originator is None:
            originator = who
        elif who != originator:
            raise BrokenChainError(f"event {position} belongs to {who}, not {originator}")
        if last_version is not None and record.originator_version <= last_version:
            raise BrokenChainError(
                f"event {position} has version {record.originator_version} after {last_version}"
            )
        if record.previous_hash != previous:
            expected = previous.hex() or "nothing (first event)"
            raise BrokenChainError(
                f"event {position} (version {record.originator_version}) links to "
                f"{record.previous_hash.hex() or 'nothing'}, expected {expected}: "
                "an event before it was removed, inserted or altered"
            )
        previous = event_hash(payload)
        last_version = record.originator_version
        count += 1
    if originator is None:
        raise BrokenChainError("the trail is empty")
    return VerifiedTrail(originator=originator, events=count, head_hash=previous)
