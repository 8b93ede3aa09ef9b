"""The scanner's pack, fetched from the safety service and verified on the device.

The safety service signs each organisation's packs with its pack key and records the key's
public half in its stream; :func:`pack_keys` reads them (an app pins the key it trusts, from
its build or on first use), and :func:`fetch_pack` gets the organisation's latest pack and hands
it to the :class:`~hearth_sdk.safety.SafetyGuard`, which verifies the signature, the version
(no rollback), the expiry, the chain and the organisation before using it. A refused pack
raises a :class:`~hearth_scanner.packs.PackError` and the pack in force stays. The fetch is
the only network the scanner's pack needs; scanning itself has none.
"""

from __future__ import annotations

import grpc
from nacl.signing import VerifyKey

from hearth_proto.hearth.safety.v1 import safety_pb2, safety_pb2_grpc
from hearth_scanner.packs import BrokenPackChain, SafetyPack

from .channel import bearer
from .safety import SafetyGuard


def pack_keys(channel: grpc.Channel, token: str) -> dict[str, VerifyKey]:
    """Every pack signing key the safety service has recorded, by key id."""
    answer = safety_pb2_grpc.SafetyServiceStub(channel).GetPackKeys(
        safety_pb2.GetPackKeysRequest(), metadata=bearer(token)
    )
    return {k.key_id: VerifyKey(k.public_key) for k in answer.keys if k.algorithm == "ed25519"}


def fetch_pack(
    channel: grpc.Channel,
    token: str,
    guard: SafetyGuard,
    organisation_id: str,
    *,
    version: int = 0,
    now: float | None = None,
) -> SafetyPack:
    """Fetch the organisation's pack (the latest, or `version`) and install it on `guard`.

    A delta pack follows the one before it: when the device missed versions, they are
    fetched and installed in order."""
    stub = safety_pb2_grpc.SafetyServiceStub(channel)

    def get(number: int) -> safety_pb2.GetPackResponse:
        answer: safety_pb2.GetPackResponse = stub.GetPack(
            safety_pb2.GetPackRequest(organisation_id=organisation_id, version=number),
            metadata=bearer(token),
        )
        return answer

    wanted = get(version)
    try:
        return guard.install_pack(wanted.pack, now, organisation_id=organisation_id)
    except BrokenPackChain:
        if guard.packs is None:
            raise
        # The answer's version only says how many to fetch: each pack is verified on install.
        for number in range(guard.packs.highest_version + 1, wanted.version):
            guard.install_pack(get(number).pack, now, organisation_id=organisation_id)
        return guard.install_pack(wanted.pack, now, organisation_id=organisation_id)
