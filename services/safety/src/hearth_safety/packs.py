"""Scanner packs as safety publishes them: signed with the service's pack key, one chain of
versions per organisation, each version an event.

The pack format and its checks are the scanner's (`hearth_scanner.packs`): safety builds the
body from what an organisation's admin sends (rules, model, hash lists), adds the version, the
times, the previous version's digest, the organisation and the key id, signs it, and opens
it again with the scanner's own reader before recording, so a pack no device could use (a rule
that does not compile, a delta that does not follow) is refused here, not on a child's device.
The signing key's public half is recorded once (`PackKeyRecord`), so anyone verifies a pack
from the log. Pure but for the signature: no I/O, no clock.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.domain import Aggregate, event
from nacl.signing import SigningKey, VerifyKey

from hearth_proto.hearth.safety.v1 import events_pb2
from hearth_runtime.errors import Exhausted, Invalid, NotFound
from hearth_scanner.packs import PackError, build_pack, open_pack, pack_digest, pack_key_id

from .domain import derived_id, name_events

PACK_KEY_ALGORITHM = "ed25519"
MAX_MANIFEST_BYTES = 512 * 1024  # a pack is kept whole in its event
MANIFEST_KEYS = frozenset({"rules", "model", "hash_lists"})
DEFAULT_VALID_DAYS = 30
MAX_VALID_DAYS = 365


class InvalidPack(Invalid):
    reason = "INVALID_PACK"


class PackTooLarge(Exhausted):
    reason = "PACK_TOO_LARGE"


class NoPack(NotFound):
    reason = "NO_PACK"


class PackVersionNotFound(NotFound):
    reason = "PACK_VERSION_NOT_FOUND"


class PackSigner:
    """The service's pack signing key (an Ed25519 seed from configuration)."""

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise ValueError("a pack signing key is a 32-byte Ed25519 seed")
        self._signing = SigningKey(seed)
        self.public_key = bytes(self._signing.verify_key)
        self.key_id = pack_key_id(self.public_key)

    @property
    def verify_key(self) -> VerifyKey:
        return self._signing.verify_key

    def sign(self, manifest: dict[str, Any]) -> bytes:
        return build_pack(self._signing, manifest)


def parse_manifest(raw: bytes) -> dict[str, Any]:
    """What an admin sends: a JSON object of rules, model and hash lists, nothing else."""
    if len(raw) > MAX_MANIFEST_BYTES:
        raise PackTooLarge(f"a pack's content is at most {MAX_MANIFEST_BYTES // 1024} KiB")
    try:
        manifest = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise InvalidPack("the manifest is not JSON") from None
    if not isinstance(manifest, dict) or not manifest:
        raise InvalidPack('the manifest is an object with "rules", "model" or "hash_lists"')
    unknown = set(manifest) - MANIFEST_KEYS
    if unknown:
        raise InvalidPack(f"a manifest holds only {', '.join(sorted(MANIFEST_KEYS))}")
    return manifest


@dataclass(frozen=True)
class PackVersion:
    version: int
    digest: str
    key_id: str
    expires_at: datetime
    pack: bytes


class PackKeyRecord(Aggregate):
    """A pack signing key's public half, recorded so anyone can verify the packs it signed."""

    @staticmethod
    def create_id(key_id: str) -> uuid.UUID:
        return derived_id("pack-key", key_id)

    @event("Published")
    def __init__(self, key_id: str, algorithm: str, public_key: bytes) -> None:
        self.key_id = key_id
        self.algorithm = algorithm
        self.public_key = public_key


class PackShelf(Aggregate):
    """One organisation's packs, version after version, each chained to the one before."""

    @staticmethod
    def create_id(organisation_id: str) -> uuid.UUID:
        return derived_id("packs", organisation_id)

    @event("Started")
    def __init__(self, organisation_id: str) -> None:
        self.organisation_id = organisation_id
        self.versions: dict[int, PackVersion] = {}
        self.by_request: dict[str, int] = {}

    @property
    def latest(self) -> PackVersion | None:
        return self.versions[max(self.versions)] if self.versions else None

    def pack_version(self, number: int) -> PackVersion:
        """The named version, or the latest for 0."""
        if number == 0:
            if self.latest is None:
                raise NoPack("no pack has been published for this organisation")
            return self.latest
        if number not in self.versions:
            raise PackVersionNotFound(f"no pack version {number} for this organisation")
        return self.versions[number]

    def publish(
        self,
        signer: PackSigner,
        keys: dict[str, VerifyKey],
        manifest: dict[str, Any],
        valid_for: timedelta,
        at: datetime,
        by: str,
        request_id: str,
    ) -> PackVersion:
        """Sign the next version; `keys` opens the previous one (it may be an older key's)."""
        if request_id in self.by_request:
            return self.versions[self.by_request[request_id]]
        previous = self.latest
        current = None  # what a device that took every version holds now
        for number in sorted(self.versions):
            kept = self.versions[number]
            if kept.key_id in keys:
                current = open_pack(kept.pack, keys[kept.key_id], current=current)
        version = previous.version + 1 if previous else 1
        pack = signer.sign(
            {
                **manifest,
                "version": version,
                "issued_at": int(at.timestamp()),
                "expires_at": int((at + valid_for).timestamp()),
                "previous_digest": previous.digest if previous else "",
                "organisation_id": self.organisation_id,
                "key_id": signer.key_id,
            }
        )
        try:  # the scanner's own reader: a pack no device could use is refused here
            open_pack(pack, signer.verify_key, current=current)
        except PackError as e:
            raise InvalidPack(f"the pack would be refused by devices: {e}") from None
        self._publish(
            version=version,
            digest=pack_digest(pack),
            previous_digest=previous.digest if previous else "",
            key_id=signer.key_id,
            issued_at=at,
            expires_at=at + valid_for,
            pack=pack,
            by=by,
            request_id=request_id,
        )
        return self.versions[version]

    @event("Published")
    def _publish(
        self,
        version: int,
        digest: str,
        previous_digest: str,
        key_id: str,
        issued_at: datetime,
        expires_at: datetime,
        pack: bytes,
        by: str,
        request_id: str,
    ) -> None:
        self.versions[version] = PackVersion(version, digest, key_id, expires_at, pack)
        self.by_request[request_id] = version


name_events(PackKeyRecord, "safety.PackKeyRecord", {"Published": events_pb2.PackKeyPublished})
name_events(
    PackShelf,
    "safety.PackShelf",
    {"Started": events_pb2.PackShelfStarted, "Published": events_pb2.PackPublished},
)
