"""Concurrent writes to one account: each answered OK or ABORTED/FAILED_PRECONDITION, never
UNKNOWN, and every write answered OK is recorded.

Reported: 16 concurrent CreateOrganisation, RecordConsent or AddDevice by one account answered
UNKNOWN ("version N of ... is already recorded"). A write conflict is retried
(`hearth_runtime.application.retrying`), and one no retry resolves answers ABORTED.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
from nacl.signing import SigningKey

from hearth_identity.domain import MAX_DEVICES
from hearth_proto.hearth.identity.v1 import identity_pb2
from hearth_runtime.platform import Platform
from tests.conftest import unique_name
from tests.identity.support import Devices

WRITERS = 16
ALLOWED = {grpc.StatusCode.OK, grpc.StatusCode.ABORTED, grpc.StatusCode.FAILED_PRECONDITION}


def at_once(writes: list[Callable[[], object]]) -> list[tuple[grpc.StatusCode, object]]:
    """Every write started together, each answer (status, response)."""
    start = threading.Barrier(len(writes))

    def one(write: Callable[[], object]) -> tuple[grpc.StatusCode, object]:
        start.wait()
        try:
            return grpc.StatusCode.OK, write()
        except grpc.RpcError as e:
            return e.code(), e.details()

    with ThreadPoolExecutor(len(writes)) as pool:
        return list(pool.map(one, writes))


def assert_allowed(
    answers: list[tuple[grpc.StatusCode, object]], allowed: set[grpc.StatusCode] = ALLOWED
) -> int:
    codes = [code for code, _ in answers]
    assert set(codes) <= allowed, answers
    ok = codes.count(grpc.StatusCode.OK)
    assert ok > 0, answers
    return ok


def test_concurrent_writes_to_one_account_are_answered_and_none_is_lost(
    platform: Platform, tmp_path: Path
) -> None:
    devices = Devices(platform, tmp_path)
    admin = devices.account("org_admin")
    stub = admin.stub
    metadata = admin.metadata()

    # CreateOrganisation: each one answered OK is among the admin's organisations.
    names = [unique_name("org") for _ in range(WRITERS)]
    answers = at_once(
        [
            lambda name=name: stub.CreateOrganisation(  # type: ignore[misc]
                identity_pb2.CreateOrganisationRequest(request_id=name, name=name),
                metadata=metadata,
                timeout=30,
            )
            for name in names
        ]
    )
    assert_allowed(answers)
    created = {str(r.organisation_id) for c, r in answers if c == grpc.StatusCode.OK}  # type: ignore[attr-defined]
    assert created <= set(admin.account().organisations)

    # RecordConsent: each purpose answered OK is recorded as granted.
    purposes = [f"purpose_{i}" for i in range(WRITERS)]
    answers = at_once(
        [
            lambda purpose=purpose: stub.RecordConsent(  # type: ignore[misc]
                identity_pb2.RecordConsentRequest(purpose=purpose, granted=True),
                metadata=metadata,
                timeout=30,
            )
            for purpose in purposes
        ]
    )
    assert_allowed(answers)
    consented = {p for p, (c, _) in zip(purposes, answers, strict=True) if c == grpc.StatusCode.OK}
    recorded = str(admin.export())
    assert all(purpose in recorded for purpose in consented)

    # AddDevice: the account holds every device answered OK and the one it registered with
    # (16 at most: the last of 16 new ones is over the limit, unless a conflict refused one).
    keys = [SigningKey.generate() for _ in range(WRITERS)]
    answers = at_once([lambda key=key: admin.add_device(key) for key in keys])  # type: ignore[misc]
    ok = assert_allowed(answers, ALLOWED | {grpc.StatusCode.RESOURCE_EXHAUSTED})
    assert admin.account().devices == 1 + ok <= MAX_DEVICES
