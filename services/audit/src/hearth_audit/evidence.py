"""What the audit log commits to, and how an outsider checks it with no access to the platform.

A leaf is one witnessed event, encoded canonically (`AuditedEvent.encode`) so that any
language can rebuild it: a fixed label, then length-prefixed stream, big-endian stream
sequence, subject, headers and the payload exactly as stored. Its RFC 6962 leaf hash is
SHA-256(0x00 || leaf).

An evidence bundle (`hearth-audit-bundle/v2`, one JSON document) holds the leaves of one
subject's trail, an inclusion proof for each, the signed checkpoint they are proved against,
a trail statement signed with the same key (how many events the trail has at that checkpoint
and the leaf index of its last: hash chains prove nothing is missing before the last event
shown, the statement that nothing is missing after it), consistency proofs from earlier
checkpoint sizes, and the log's verifier key. `verify_bundle` checks all of it using only
hearth_crypto and the event log's hash-chain check.

Over 400 lines because the leaf encoding, the bundle format and `verify_bundle` are one
contract an outsider reads whole.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hearth_crypto.checkpoint import Checkpoint, NoteError, NoteVerifier, open_note
from hearth_crypto.merkle import InvalidProof, leaf_hash, verify_consistency, verify_inclusion
from hearth_eventlog import BrokenChainError, verify_chain
from hearth_eventlog.records import decode_record, originator_of

LEAF_LABEL = b"hearth-audit-leaf/v1\n"
BUNDLE_FORMAT = "hearth-audit-bundle/v2"
TRAIL_LABEL = "hearth-audit-trail/v1"


class MalformedLeaf(ValueError):
    """Bytes that are not a canonically encoded leaf."""


@dataclass(frozen=True)
class AuditedEvent:
    """One event of a followed stream, as the audit log commits to it."""

    stream: str
    sequence: int
    subject: str
    headers: tuple[tuple[str, str], ...]
    payload: bytes

    def encode(self) -> bytes:
        parts = [LEAF_LABEL, _text(self.stream), struct.pack(">Q", self.sequence)]
        parts.append(_text(self.subject))
        parts.append(struct.pack(">I", len(self.headers)))
        for name, value in self.headers:
            parts += [_text(name), _text(value)]
        parts += [struct.pack(">I", len(self.payload)), self.payload]
        return b"".join(parts)

    @classmethod
    def decode(cls, leaf: bytes) -> AuditedEvent:
        if not leaf.startswith(LEAF_LABEL):
            raise MalformedLeaf("leaf does not start with the hearth-audit-leaf/v1 label")
        reader = _Reader(leaf, len(LEAF_LABEL))
        stream = reader.text()
        sequence = reader.unsigned(8)
        subject = reader.text()
        headers = tuple((reader.text(), reader.text()) for _ in range(reader.unsigned(4)))
        payload = reader.chunk()
        if reader.offset != len(leaf):
            raise MalformedLeaf("leaf has bytes after its payload")
        return cls(stream, sequence, subject, headers, payload)


def _text(value: str) -> bytes:
    data = value.encode()
    return struct.pack(">I", len(data)) + data


class _Reader:
    def __init__(self, data: bytes, offset: int) -> None:
        self.data, self.offset = data, offset

    def take(self, n: int) -> bytes:
        if self.offset + n > len(self.data):
            raise MalformedLeaf("leaf is truncated")
        chunk = self.data[self.offset : self.offset + n]
        self.offset += n
        return chunk

    def unsigned(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def chunk(self) -> bytes:
        return self.take(self.unsigned(4))

    def text(self) -> str:
        try:
            return self.chunk().decode()
        except UnicodeDecodeError as e:
            raise MalformedLeaf("leaf text is not UTF-8") from e


def leaf_of(event: AuditedEvent) -> bytes:
    """The RFC 6962 leaf hash of a witnessed event."""
    return leaf_hash(event.encode())


def pseudonym(key: bytes, stream: str, subject: str) -> str:
    """A stable pseudonym for one aggregate of one stream; unlinkable without the key."""
    digest = hmac.new(key, f"{stream}\n{subject}".encode(), hashlib.sha256).digest()
    return "ps-" + base64.b32encode(digest[:15]).decode().lower()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise BundleError(what, "is not a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BundleError(what, "is not valid base64") from None


@dataclass(frozen=True)
class TrailStatement:
    """What the log signs about one trail at one checkpoint, as the body of a signed note.

    Its first line is a label, so no statement is ever read as a checkpoint (whose second
    line is a tree size), and it names the checkpoint's root, so it holds for that tree only.
    """

    origin: str
    pseudonym: str
    tree_size: int
    root_hash: bytes
    events: int
    last_index: int

    def body(self) -> str:
        return (
            f"{TRAIL_LABEL}\n{self.origin}\ntrail {self.pseudonym}\n"
            f"checkpoint {self.tree_size} {_b64(self.root_hash)}\n"
            f"events {self.events}\nlast {self.last_index}\n"
        )

    @classmethod
    def parse(cls, body: str) -> TrailStatement:
        lines = body.split("\n")
        if len(lines) != 7 or lines[0] != TRAIL_LABEL or lines[6] != "":
            raise ValueError(f"not a {TRAIL_LABEL} statement")
        fields = [line.split(" ") for line in lines[2:6]]
        shape = [(f[0], len(f)) for f in fields]
        if shape != [("trail", 2), ("checkpoint", 3), ("events", 2), ("last", 2)]:
            raise ValueError(f"not a {TRAIL_LABEL} statement")
        numbers = [fields[1][1], fields[2][1], fields[3][1]]
        if not all(n.isascii() and n.isdigit() for n in numbers):
            raise ValueError("a count in the statement is not a decimal number")
        try:
            root = base64.b64decode(fields[1][2], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("the statement's root hash is not base64") from None
        size, events, last = (int(n) for n in numbers)
        return cls(lines[1], fields[0][1], size, root, events, last)


@dataclass(frozen=True)
class BundleEvent:
    index: int
    leaf: bytes
    proof: Sequence[bytes]


def make_bundle(
    *,
    pseudonym: str,
    verifier_key: str,
    checkpoint: str,
    trail: str,
    events: Sequence[BundleEvent],
    consistency: Sequence[tuple[int, Sequence[bytes]]] = (),
) -> dict[str, Any]:
    """The JSON document of an evidence bundle; `trail` is the signed trail statement."""
    return {
        "format": BUNDLE_FORMAT,
        "pseudonym": pseudonym,
        "verifier_key": verifier_key,
        "checkpoint": checkpoint,
        "trail": trail,
        "events": [
            {"index": e.index, "leaf": _b64(e.leaf), "proof": [_b64(p) for p in e.proof]}
            for e in events
        ],
        "consistency": [
            {"old_size": size, "proof": [_b64(p) for p in proof]} for size, proof in consistency
        ],
    }


class BundleError(Exception):
    """A bundle check failed; `check` names which one."""

    def __init__(self, check: str, detail: str) -> None:
        super().__init__(f"{check}: {detail}")
        self.check = check
        self.detail = detail


@dataclass
class Verification:
    """What `verify_bundle` established."""

    origin: str = ""
    tree_size: int = 0
    root_hash: bytes = b""
    pseudonym: str = ""
    events: int = 0
    trails: list[tuple[str, str, int]] = field(default_factory=list)  # stream, subject, count
    previous_size: int | None = None
    last_index: int = -1
    kinds: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "origin": self.origin,
            "tree_size": self.tree_size,
            "root_hash": _b64(self.root_hash),
            "pseudonym": self.pseudonym,
            "events": self.events,
            "last_index": self.last_index,
            "trails": [{"stream": s, "subject": sub, "events": n} for s, sub, n in self.trails],
            "consistent_with_previous_size": self.previous_size,
            "kinds": self.kinds,
        }


Progress = Callable[[str, int, int], None]


def verify_bundle(
    bundle: object,
    *,
    trusted_key: str | None = None,
    previous_checkpoint: str | None = None,
    progress: Progress | None = None,
) -> Verification:
    """Check a bundle offline; raises `BundleError` naming the first check that failed.

    Checks, in order: the format; the checkpoint's signature under the bundle's key (which
    must equal `trusted_key` when given); each leaf's inclusion proof against the checkpoint,
    with leaf indices strictly increasing; each aggregate's hash chain over its events; the
    signed trail statement (the trail's event count and last leaf index at this checkpoint,
    so no tail is missing); and consistency of the checkpoint with `previous_checkpoint` (a
    signed note seen earlier).
    """
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        detail = f"not a {BUNDLE_FORMAT} document"
        if isinstance(bundle, dict) and bundle.get("format") == "hearth-audit-bundle/v1":
            detail += " (a v1 bundle has no trail statement: export it again)"
        raise BundleError("format", detail)
    result = Verification(pseudonym=str(bundle.get("pseudonym", "")))
    verifier = _verifier(bundle.get("verifier_key"), trusted_key)
    checkpoint = _open_checkpoint(bundle.get("checkpoint"), verifier, "checkpoint")
    result.origin, result.tree_size = checkpoint.origin, checkpoint.size
    result.root_hash = checkpoint.root_hash

    entries = bundle.get("events")
    if not isinstance(entries, list) or not entries:
        raise BundleError("events", "the bundle holds no events")
    trails: dict[tuple[str, str], list[bytes]] = {}
    last_index = -1
    last_sequence: dict[str, int] = {}
    total = len(entries)
    for position, entry in enumerate(entries):
        if progress is not None and position % 10_000 == 0:
            progress("inclusion proofs", position, total)
        event, index = _check_inclusion(entry, position, checkpoint)
        if index <= last_index:
            raise BundleError(
                "order", f"event {position} has leaf index {index} after {last_index}"
            )
        last_index = index
        if event.sequence <= last_sequence.get(event.stream, 0):
            raise BundleError(
                "order",
                f"event {position} has {event.stream} sequence {event.sequence} "
                f"after {last_sequence[event.stream]}",
            )
        last_sequence[event.stream] = event.sequence
        try:
            record = decode_record(event.payload)
            originator = str(originator_of(record))
        except Exception as e:  # protobuf raises its own DecodeError
            raise BundleError("payload", f"event {position} is not a stored event ({e})") from e
        if originator != event.subject:
            raise BundleError(
                "payload", f"event {position} is about {originator}, its leaf says {event.subject}"
            )
        result.kinds[record.topic] = result.kinds.get(record.topic, 0) + 1
        trail = trails.setdefault((event.stream, event.subject), [])
        if len(trails) > 1:
            raise BundleError(
                "trail",
                f"event {position} is about {event.stream} {event.subject}, another subject",
            )
        trail.append(event.payload)
    if progress is not None:
        progress("inclusion proofs", total, total)
    result.events = total

    for (stream, subject), payloads in trails.items():
        try:
            verify_chain(payloads)
        except BrokenChainError as e:
            raise BundleError("hash chain", f"{stream} {subject}: {e}") from e
        result.trails.append((stream, subject, len(payloads)))
    _check_trail(bundle.get("trail"), verifier, checkpoint, result.pseudonym, total, last_index)
    result.last_index = last_index

    if previous_checkpoint is not None:
        previous = _open_checkpoint(previous_checkpoint, verifier, "previous checkpoint")
        _check_consistency(bundle.get("consistency"), previous, checkpoint)
        result.previous_size = previous.size
    return result


def _verifier(key: object, trusted_key: str | None) -> NoteVerifier:
    if not isinstance(key, str):
        raise BundleError("key", "the bundle names no verifier key")
    if trusted_key is not None and key != trusted_key:
        raise BundleError("key", f"the bundle's key {key} is not the trusted key {trusted_key}")
    try:
        return NoteVerifier.from_vkey(key)
    except NoteError as e:
        raise BundleError("key", str(e)) from e


def _open_checkpoint(note: object, verifier: NoteVerifier, what: str) -> Checkpoint:
    if not isinstance(note, str):
        raise BundleError(what, "missing")
    try:
        opened = open_note(note, [verifier])
        return Checkpoint.parse(opened.body)
    except NoteError as e:
        raise BundleError(f"{what} signature", str(e)) from e


def _check_trail(
    note: object,
    verifier: NoteVerifier,
    checkpoint: Checkpoint,
    pseudonym: str,
    events: int,
    last_index: int,
) -> None:
    if not isinstance(note, str):
        raise BundleError("trail statement", "missing: nothing shows the trail ends here")
    try:
        statement = TrailStatement.parse(open_note(note, [verifier]).body)
    except NoteError as e:
        raise BundleError("trail statement signature", str(e)) from e
    except ValueError as e:
        raise BundleError("trail statement", str(e)) from e
    signed = (statement.origin, statement.tree_size, statement.root_hash)
    if signed != (checkpoint.origin, checkpoint.size, checkpoint.root_hash):
        raise BundleError(
            "trail statement",
            f"it is about the tree of size {statement.tree_size}, not the bundle's checkpoint "
            f"({checkpoint.size})",
        )
    if statement.pseudonym != pseudonym:
        raise BundleError(
            "trail statement", f"it is about {statement.pseudonym}, the bundle is {pseudonym}"
        )
    if (statement.events, statement.last_index) != (events, last_index):
        raise BundleError(
            "trail statement",
            f"the log signed that the trail has {statement.events} events, the last at leaf "
            f"{statement.last_index}; the bundle holds {events}, the last at leaf {last_index}",
        )


def _check_inclusion(
    entry: object, position: int, checkpoint: Checkpoint
) -> tuple[AuditedEvent, int]:
    if not isinstance(entry, dict):
        raise BundleError("events", f"event {position} is not an object")
    index = entry.get("index")
    proof = entry.get("proof")
    if not isinstance(index, int) or isinstance(index, bool) or not isinstance(proof, list):
        raise BundleError("events", f"event {position} lacks an index or a proof")
    leaf = _unb64(entry.get("leaf"), f"event {position} leaf")
    hashes = [_unb64(p, f"event {position} proof") for p in proof]
    try:
        verify_inclusion(leaf_hash(leaf), index, checkpoint.size, hashes, checkpoint.root_hash)
    except InvalidProof as e:
        raise BundleError("inclusion", f"event {position} (leaf {index}): {e}") from e
    try:
        return AuditedEvent.decode(leaf), index
    except MalformedLeaf as e:
        raise BundleError("leaf", f"event {position}: {e}") from e


def _check_consistency(proofs: object, previous: Checkpoint, checkpoint: Checkpoint) -> None:
    if previous.origin != checkpoint.origin:
        raise BundleError(
            "consistency", f"previous checkpoint is of {previous.origin}, not {checkpoint.origin}"
        )
    if previous.size > checkpoint.size:
        raise BundleError(
            "consistency",
            f"previous checkpoint (size {previous.size}) is newer than the bundle's "
            f"({checkpoint.size}): ask for a fresh bundle",
        )
    proof: list[bytes] | None = [] if previous.size in (0, checkpoint.size) else None
    for item in proofs if isinstance(proofs, list) else []:
        if isinstance(item, dict) and item.get("old_size") == previous.size:
            raw = item.get("proof")
            proof = [_unb64(p, "consistency proof") for p in (raw if isinstance(raw, list) else [])]
    if proof is None:
        raise BundleError(
            "consistency",
            f"the bundle has no consistency proof from size {previous.size}; "
            "export it again naming that size",
        )
    try:
        verify_consistency(
            previous.size, checkpoint.size, previous.root_hash, checkpoint.root_hash, proof
        )
    except InvalidProof as e:
        raise BundleError(
            "consistency",
            f"checkpoint {checkpoint.size} is not consistent with the previous one "
            f"({previous.size}): {e}",
        ) from e


def load_bundle(text: str | bytes) -> object:
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise BundleError("format", f"not JSON ({e})") from e
