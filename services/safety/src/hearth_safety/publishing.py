"""Packs for the on-device scanner: signed here with the pack key, served to devices."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from eventsourcing.persistence import IntegrityError
from nacl.signing import VerifyKey

from hearth_runtime.application import retrying
from hearth_runtime.errors import Unavailable
from hearth_runtime.sessions import Session

from .packs import (
    PACK_KEY_ALGORITHM,
    PackKeyRecord,
    PackShelf,
    PackSigner,
    PackVersion,
    parse_manifest,
)
from .reporting import Reporting


class Publishing(Reporting):
    """Each organisation's chain of pack versions, and the keys that signed them."""

    pack_signer: PackSigner | None

    def publish_pack_key(self) -> None:
        """Record the pack key's public half (once): packs verify against it from the log."""
        signer = self.pack_signer
        if (
            signer is None
            or self._get(PackKeyRecord, PackKeyRecord.create_id(signer.key_id)) is not None
        ):
            return
        record = PackKeyRecord(signer.key_id, PACK_KEY_ALGORITHM, signer.public_key)
        with contextlib.suppress(IntegrityError):  # another instance recorded it first
            self.save(record)

    def publish_pack(
        self,
        session: Session,
        organisation_id: str,
        request_id: str,
        manifest: bytes,
        valid_days: int,
    ) -> PackVersion:
        self._member(session, organisation_id)
        signer = self.pack_signer
        if signer is None:
            raise Unavailable("this safety service has no pack key configured")
        content = parse_manifest(manifest)
        keys = {k: VerifyKey(public) for k, (_, public) in self.pack_keys().items()}
        keys[signer.key_id] = signer.verify_key

        def command() -> PackVersion:
            shelf = self._get(PackShelf, PackShelf.create_id(organisation_id)) or PackShelf(
                organisation_id
            )
            published = shelf.publish(
                signer,
                keys,
                content,
                timedelta(days=valid_days),
                self.now(),
                session.account_id,
                request_id,
            )
            self.save(shelf)
            return published

        return retrying(command)

    def pack(self, session: Session, organisation_id: str, version: int) -> PackVersion:
        """The organisation's latest pack, or a named version; for its members only."""
        self._member(session, organisation_id)
        shelf = self._get(PackShelf, PackShelf.create_id(organisation_id)) or PackShelf(
            organisation_id
        )
        return shelf.pack_version(version)

    def pack_keys(self) -> dict[str, tuple[str, bytes]]:
        """Every pack key recorded: key id -> (algorithm, public key)."""
        return dict(self.current_board().pack_keys)
