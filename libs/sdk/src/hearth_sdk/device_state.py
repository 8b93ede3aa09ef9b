"""A device's local state: its secrets and the ids it has handled, as one JSON document.

Written atomically and readable by its owner only (`write_private_json`), after every change
and before anything is acknowledged.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hearth_crypto.ratchet import RatchetSession
from hearth_crypto.x3dh import IdentityKeyPair, OneTimePrekey, SignedPrekey, X25519KeyPair

from .local_state import write_private_json

STATE_VERSION = 1


@dataclass
class Session:
    ratchet: RatchetSession
    # The X3DH header we started it with, sent until the remote device first answers.
    initial_header: bytes | None = None
    # For a session we answered: the header that started it (a repeat finds this session).
    started_by: bytes | None = None


class DeviceState:
    """A device's keys, prekeys, ratchet sessions and handled message ids, kept in a local
    owner-only JSON file (the `MessagingDevice` layer that saves and restores)."""

    account_id: str
    device_id: str
    identity: IdentityKeyPair
    signed_prekeys: dict[int, SignedPrekey]
    one_time: dict[int, OneTimePrekey]
    _next_prekey_id: int
    signed_prekey_published_at: float
    sessions: dict[str, list[Session]]
    _seen: set[str]
    _lock: threading.RLock
    state_path: Path | None

    def save(self) -> None:
        """Write the device's state to `state_path` (if any): atomically, owner-only."""
        if self.state_path is None:
            return
        with self._lock:
            write_private_json(self.state_path, self._state())

    def _state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "account_id": self.account_id,
            "device_id": self.device_id,
            "identity_seed": _b64(self.identity.seed),
            "next_prekey_id": self._next_prekey_id,
            "signed_prekey_published_at": self.signed_prekey_published_at,
            "signed_prekeys": [
                {
                    "prekey_id": p.prekey_id,
                    "private_key": _b64(p.key_pair.private_key),
                    "signature": _b64(p.signature),
                }
                for p in self.signed_prekeys.values()
            ],
            "one_time_prekeys": [
                {"prekey_id": p.prekey_id, "private_key": _b64(p.key_pair.private_key)}
                for p in self.one_time.values()
            ],
            "sessions": {
                device: [
                    {
                        "ratchet": session.ratchet.to_dict(),
                        "initial_header": _b64_or_none(session.initial_header),
                        "started_by": _b64_or_none(session.started_by),
                    }
                    for session in sessions
                ]
                for device, sessions in self.sessions.items()
            },
            "seen": sorted(self._seen),
        }

    def _restore(self, state: dict[str, Any], device_id: str | None) -> None:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"{self.state_path}: unsupported device state version")
        if state["account_id"] != self.account_id:
            raise ValueError(f"{self.state_path} holds a device of another account")
        if device_id is not None and device_id != state["device_id"]:
            raise ValueError(f"{self.state_path} holds device {state['device_id']}")
        self.device_id = state["device_id"]
        self.identity = IdentityKeyPair(_unb64(state["identity_seed"]))
        self._next_prekey_id = int(state["next_prekey_id"])
        self.signed_prekey_published_at = float(state["signed_prekey_published_at"])
        self.signed_prekeys = {
            int(p["prekey_id"]): SignedPrekey(
                int(p["prekey_id"]),
                X25519KeyPair(_unb64(p["private_key"])),
                _unb64(p["signature"]),
            )
            for p in state["signed_prekeys"]
        }
        self.one_time = {
            int(p["prekey_id"]): OneTimePrekey(
                int(p["prekey_id"]), X25519KeyPair(_unb64(p["private_key"]))
            )
            for p in state["one_time_prekeys"]
        }
        self.sessions = {
            device: [
                Session(
                    RatchetSession.from_dict(s["ratchet"]),
                    initial_header=_unb64_or_none(s["initial_header"]),
                    started_by=_unb64_or_none(s["started_by"]),
                )
                for s in sessions
            ]
            for device, sessions in state["sessions"].items()
        }
        self._seen = set(state["seen"])


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _b64_or_none(value: bytes | None) -> str | None:
    return None if value is None else _b64(value)


def _unb64(value: str) -> bytes:
    return base64.b64decode(value)


def _unb64_or_none(value: str | None) -> bytes | None:
    return None if value is None else _unb64(value)
