"""Signed, versioned safety packs: the rules, model and hash lists a device scans with.

A pack is `signature (64 bytes, Ed25519) || body`, the body canonical JSON:
`{"format": "hearth-safety-pack-v1", "version", "issued_at", "expires_at",
"previous_digest", "organisation_id"?, "key_id"?, "rules"?, "model"? (base64 .npz),
"hash_lists": {id: {"mode": "full" | "delta", "sha256": [[hex, label]], "pdq": [[hex, quality,
label]], "remove_sha256": [hex], "remove_pdq": [hex]}}}`. Its digest is the SHA-256 of the whole
pack. The safety service signs packs with its pack key (`pack_key_id` names it) for one
organisation's devices; a device refuses a pack signed for another organisation.

:class:`PackKeeper` holds the pack in force. It refuses, each with its own error and the last
good pack kept: a pack over the size limit (checked before anything is parsed), a bad
signature, a version not above the highest it has seen (rollback or replay), a pack already
expired, a delta whose `previous_digest` is not the pack it holds. A pack in force that
expires stays in use and is reported stale. Nothing here executes what a pack carries: rules
are regular expressions, the model plain arrays loaded without pickle.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from .images import HashList
from .model import ModelError, TextModel
from .rules import RuleError, RuleSet

FORMAT = "hearth-safety-pack-v1"
MAX_PACK_BYTES = 64 * 1024 * 1024
SIGNATURE_BYTES = 64


class PackError(ValueError):
    """A pack the device will not use; the subclass says why."""


class PackTooLarge(PackError):
    pass


class BadPackSignature(PackError):
    pass


class PackRollback(PackError):
    pass


class PackExpired(PackError):
    pass


class BrokenPackChain(PackError):
    pass


class MalformedPack(PackError):
    pass


class ForeignPack(PackError):
    """Signed for another organisation's devices."""


PACK_KEY_ID_DOMAIN = b"hearth-safety-pack-key-v1"


def pack_key_id(public_key: bytes) -> str:
    """A pack key's id: hex of the first 8 bytes of SHA-256(domain || public key)."""
    return hashlib.sha256(PACK_KEY_ID_DOMAIN + public_key).digest()[:8].hex()


def pack_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_pack(signing_key: SigningKey, manifest: dict[str, Any]) -> bytes:
    """Sign a manifest (the safety service's side, and tests'): canonical JSON, signed."""
    body = json.dumps({"format": FORMAT, **manifest}, sort_keys=True, separators=(",", ":"))
    signed = signing_key.sign(body.encode())
    return signed.signature + signed.message


@dataclass
class SafetyPack:
    """A verified pack, its contents parsed."""

    version: int
    issued_at: float
    expires_at: float
    digest: str
    previous_digest: str
    rules: RuleSet | None
    model: TextModel | None
    hash_lists: dict[str, HashList]
    raw: bytes = field(repr=False, default=b"")
    organisation_id: str = ""  # empty: a pack for any organisation (built by hand)
    key_id: str = ""

    def expired(self, now: float) -> bool:
        return now >= self.expires_at


def _hash_list(list_id: str, raw: Any, base: HashList | None) -> HashList:
    if not isinstance(raw, dict) or raw.get("mode", "full") not in ("full", "delta"):
        raise MalformedPack(f"hash list {list_id}: mode must be full or delta")
    hashes = HashList(list_id)
    if raw.get("mode") == "delta":
        if base is None:
            raise BrokenPackChain(f"hash list {list_id}: a delta needs the list it updates")
        hashes.add(base.sha256.items(), ((h, 100, label) for h, label in base.pdq.items()))
    try:
        hashes.remove(
            (str(h) for h in raw.get("remove_sha256", [])),
            (str(h) for h in raw.get("remove_pdq", [])),
        )
        hashes.add(
            ((str(h), str(label)) for h, label in raw.get("sha256", [])),
            ((str(h), int(q), str(label)) for h, q, label in raw.get("pdq", [])),
        )
    except (TypeError, ValueError) as e:
        raise MalformedPack(f"hash list {list_id}: {e}") from None
    return hashes


def open_pack(
    data: bytes,
    trusted_key: VerifyKey,
    *,
    max_bytes: int = MAX_PACK_BYTES,
    current: SafetyPack | None = None,
) -> SafetyPack:
    """Verify and parse pack bytes; deltas apply to `current`'s hash lists."""
    if len(data) > max_bytes:
        raise PackTooLarge(f"pack is {len(data)} bytes, over the limit of {max_bytes}")
    if len(data) <= SIGNATURE_BYTES:
        raise MalformedPack("pack too short to carry a signature")
    try:
        body = trusted_key.verify(data[SIGNATURE_BYTES:], data[:SIGNATURE_BYTES])
    except BadSignatureError:
        raise BadPackSignature("pack signature does not verify under the trusted key") from None
    try:
        manifest = json.loads(body)
        if manifest.get("format") != FORMAT:
            raise MalformedPack(f"not a {FORMAT} pack")
        version = int(manifest["version"])
        issued_at, expires_at = float(manifest["issued_at"]), float(manifest["expires_at"])
        previous = str(manifest.get("previous_digest", ""))
        organisation_id = str(manifest.get("organisation_id", ""))
        key_id = str(manifest.get("key_id", ""))
        rules = RuleSet.from_json(manifest["rules"]) if manifest.get("rules") else None
        model_b64 = manifest.get("model")
        model = (
            TextModel.from_bytes(base64.b64decode(model_b64, validate=True)) if model_b64 else None
        )
        lists_raw = manifest.get("hash_lists", {})
        if not isinstance(lists_raw, dict):
            raise MalformedPack("hash_lists must be an object")
    except (ValueError, KeyError, TypeError, AttributeError, RuleError, ModelError) as e:
        if isinstance(e, PackError):
            raise
        raise MalformedPack(f"pack content is malformed: {e}") from None
    has_delta = any(isinstance(v, dict) and v.get("mode") == "delta" for v in lists_raw.values())
    if has_delta and (current is None or previous != current.digest):
        raise BrokenPackChain("a delta pack must follow the pack this device holds")
    base = current.hash_lists if current else {}
    lists = {str(k): _hash_list(str(k), v, base.get(str(k))) for k, v in lists_raw.items()}
    if current is not None:  # lists a delta pack does not mention carry over unchanged
        for list_id, kept in base.items():
            if has_delta:
                lists.setdefault(list_id, kept)
    return SafetyPack(
        version,
        issued_at,
        expires_at,
        pack_digest(data),
        previous,
        rules,
        model,
        lists,
        data,
        organisation_id,
        key_id,
    )


@dataclass
class PackKeeper:
    """The device's pack in force, and the highest version it has ever accepted."""

    trusted_key: VerifyKey
    max_bytes: int = MAX_PACK_BYTES
    current: SafetyPack | None = None
    highest_version: int = 0

    def offer(self, data: bytes, now: float, *, organisation_id: str = "") -> SafetyPack:
        """Verify a new pack and put it in force; on any refusal the current one stays. With
        `organisation_id`, a pack signed for another organisation is refused."""
        pack = open_pack(data, self.trusted_key, max_bytes=self.max_bytes, current=self.current)
        if organisation_id and pack.organisation_id != organisation_id:
            raise ForeignPack(
                f"pack version {pack.version} was signed for another organisation's devices"
            )
        if pack.version <= self.highest_version:
            raise PackRollback(
                f"pack version {pack.version} is not above {self.highest_version}, already seen"
            )
        if pack.expired(now):
            raise PackExpired(f"pack version {pack.version} expired; keeping the last good one")
        self.current, self.highest_version = pack, pack.version
        return pack

    def restore(self, data: bytes, highest_version: int) -> SafetyPack:
        """Put back the pack this device kept (its signature checked again), expired or not."""
        pack = open_pack(data, self.trusted_key, max_bytes=self.max_bytes)
        self.current, self.highest_version = pack, max(highest_version, pack.version)
        return pack

    def stale(self, now: float) -> bool:
        """True when the pack in force has expired (still used: better than none)."""
        return self.current is not None and self.current.expired(now)

    def status(self, now: float) -> str:
        if self.current is None:
            return "no pack: built-in rules only"
        state = "STALE (expired, kept until a newer pack arrives)" if self.stale(now) else "fresh"
        return f"pack v{self.current.version} {state}"
