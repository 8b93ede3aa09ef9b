"""Issuer keys: one RSA blind-signature key per band, method class and epoch.

Keys are PKCS#8 PEM files in one directory: a mounted Kubernetes Secret in production, and
generated on first need under the data directory in development. A key of a past epoch stays
loaded, so a token signed with it is refused as expired rather than as forged.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from hearth_crypto import age_token, blind_rsa
from hearth_crypto.age_band import AgeBand
from hearth_runtime.secret_files import keep_secret

from .domain import AssuranceLevel, MethodClass

_FILE = re.compile(r"^issuer-(?P<band>[a-z0-9_]+)-(?P<method>[a-z]+)-e(?P<epoch>\d+)\.pem$")


class KeyUnavailable(Exception):
    """No key is configured for a band, method and epoch, and generating one is off."""


@dataclass(frozen=True)
class Epochs:
    """Epoch n covers [n * seconds, (n + 1) * seconds) of Unix time."""

    seconds: int

    def of(self, now: float) -> int:
        return int(now // self.seconds)

    def end(self, epoch: int) -> datetime:
        return datetime.fromtimestamp((epoch + 1) * self.seconds, UTC)


@dataclass(frozen=True)
class IssuerKeyEntry:
    """An issuer key and what a token signed by it says."""

    band: AgeBand
    method_class: MethodClass
    key: age_token.IssuerKey = field(repr=False)
    not_after: datetime

    @property
    def epoch(self) -> int:
        return self.key.epoch

    @property
    def key_id(self) -> bytes:
        return self.key.key_id

    @property
    def assurance_level(self) -> AssuranceLevel:
        return self.method_class.assurance_level

    @property
    def public_der(self) -> bytes:
        return self.key.private_key.public_key.to_der()


def key_file(directory: Path, band: AgeBand, method_class: MethodClass, epoch: int) -> Path:
    return directory / f"issuer-{band.name.lower()}-{method_class.name.lower()}-e{epoch}.pem"


class Keyring:
    """The issuer keys in a directory, by key id and by (band, method, epoch)."""

    def __init__(
        self,
        directory: Path,
        epochs: Epochs,
        *,
        generate: bool,
        bits: int = blind_rsa.DEFAULT_KEY_BITS,
    ) -> None:
        self.directory = directory
        self.epochs = epochs
        self.generate = generate
        self.bits = bits
        self._lock = threading.Lock()
        self._by_slot: dict[tuple[AgeBand, MethodClass, int], IssuerKeyEntry] = {}
        self._by_id: dict[bytes, IssuerKeyEntry] = {}
        if directory.is_dir():
            for path in sorted(directory.iterdir()):
                match = _FILE.match(path.name)
                if match:
                    self._add(
                        AgeBand[match["band"].upper()],
                        MethodClass[match["method"].upper()],
                        int(match["epoch"]),
                        blind_rsa.PrivateKey.from_pem(path.read_bytes()),
                    )

    def _add(
        self, band: AgeBand, method_class: MethodClass, epoch: int, private: blind_rsa.PrivateKey
    ) -> IssuerKeyEntry:
        entry = IssuerKeyEntry(
            band,
            method_class,
            age_token.IssuerKey(band, epoch, private),
            self.epochs.end(epoch),
        )
        self._by_slot[(band, method_class, epoch)] = entry
        self._by_id[entry.key_id] = entry
        return entry

    def by_id(self, key_id: bytes) -> IssuerKeyEntry | None:
        return self._by_id.get(key_id)

    def current(self, band: AgeBand, method_class: MethodClass, now: float) -> IssuerKeyEntry:
        epoch = self.epochs.of(now)
        entry = self._by_slot.get((band, method_class, epoch))
        if entry is not None:
            return entry
        with self._lock:
            entry = self._by_slot.get((band, method_class, epoch))
            if entry is not None:
                return entry
            path = key_file(self.directory, band, method_class, epoch)
            if not self.generate:
                raise KeyUnavailable(f"no issuer key at {path} and key generation is off")
            # Two replicas generating the same slot at once agree on the first key kept.
            kept = keep_secret(path, lambda: blind_rsa.PrivateKey.generate(self.bits).to_pem())
            private = blind_rsa.PrivateKey.from_pem(kept)
            return self._add(band, method_class, epoch, private)

    def all_current(self, now: float) -> list[IssuerKeyEntry]:
        return [
            self.current(band, method, now) for band in AgeBand.known() for method in MethodClass
        ]
