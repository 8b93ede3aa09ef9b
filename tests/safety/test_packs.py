"""Scanner packs published by safety over real NATS and gRPC: an org admin publishes, the
service signs with its pack key and records each version; a child's device fetches the pack,
verifies it with the key from the log and scans with it; a tampered, rolled back or foreign
pack is refused on the device, and bad publications are refused with nothing recorded."""

from __future__ import annotations

import json
import uuid

import grpc
import pytest
from nacl.signing import SigningKey

from hearth_proto.hearth.safety.v1 import safety_pb2 as pb
from hearth_scanner.images import fingerprint
from hearth_scanner.packs import BadPackSignature, ForeignPack, PackRollback, build_pack
from hearth_scanner.taxonomy import Participant
from hearth_sdk.channel import connect
from hearth_sdk.packs import fetch_pack, pack_keys
from hearth_sdk.safety import SafetyGuard
from tests.messaging.support import People
from tests.safety.team import Team, refusal, rid, safety_stream
from tests.scanner.support import encoded, picture
from tests.support.streams import read_stream

ORG = "org-" + uuid.uuid4().hex[:8]
RULE = {
    "id": "pack.lighthouse",
    "indicator": "grooming.meeting",
    "strength": 0.9,
    "pattern": r"\blighthouse at midnight\b",
    "unless": "",
    "why": "a meeting place a pack names",
}
KNOWN = fingerprint(encoded(picture(21)))
LATER = fingerprint(encoded(picture(22)))


@pytest.fixture(scope="module")
def team(people: People) -> Team:
    return Team(people, ORG)


def publish(
    team: Team, manifest: object, request_id: str = "", valid_days: int = 0
) -> pb.PublishPackResponse:
    answer: pb.PublishPackResponse = team.call(
        team.admin,
        "PublishPack",
        pb.PublishPackRequest(
            request_id=request_id or rid(),
            organisation_id=team.org,
            manifest=json.dumps(manifest).encode(),
            valid_days=valid_days,
        ),
    )
    return answer


def test_a_device_loads_the_served_pack_and_refuses_a_tampered_one(
    people: People, team: Team, environ: dict[str, str]
) -> None:
    channel = connect(people.platform.endpoint("safety"))
    child_token = team.token(team.child)
    code, reason, _ = refusal(
        lambda: team.call(team.child, "GetPack", pb.GetPackRequest(organisation_id=ORG))
    )
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "NO_PACK")

    request_id = rid()
    first = {
        "rules": [RULE],
        "hash_lists": {"known": {"mode": "full", "pdq": [[KNOWN.pdq, KNOWN.quality, "known"]]}},
    }
    v1 = publish(team, first, request_id, valid_days=7)
    assert v1.version == 1
    again = publish(team, first, request_id)  # a retry answers the same version
    assert (again.version, again.digest) == (1, v1.digest)

    # The device trusts the key the log records (pinned from GetPackKeys), and only it.
    keys = pack_keys(channel, child_token)
    assert v1.key_id in keys
    guard = SafetyGuard(Participant("young_person", "13_15"), trusted_pack_key=keys[v1.key_id])
    installed = fetch_pack(channel, child_token, guard, ORG)
    assert (installed.version, installed.digest, installed.organisation_id) == (1, v1.digest, ORG)
    adult = Participant("adult", "18_plus")
    child = Participant("young_person", "13_15")
    scan = guard.scanner.scan("meet me by the lighthouse at midnight", adult, [child])
    assert "grooming.meeting" in scan.flagged  # the served rule, not one built in
    assert "known" in guard.packs.current.hash_lists  # type: ignore[union-attr]

    # A delta adds to the list and chains to version 1.
    delta = {"hash_lists": {"known": {"mode": "delta", "pdq": [[LATER.pdq, LATER.quality, "l"]]}}}
    v2 = publish(team, delta)
    assert v2.version == 2
    installed = fetch_pack(channel, child_token, guard, ORG)
    assert installed.previous_digest == v1.digest
    assert set(installed.hash_lists["known"].pdq) == {KNOWN.pdq, LATER.pdq}
    # A device that missed version 1 takes it first: a delta follows the pack before it.
    late = SafetyGuard(Participant("young_person", "13_15"), trusted_pack_key=keys[v1.key_id])
    caught_up = fetch_pack(channel, child_token, late, ORG)
    assert caught_up.version == 2 and set(caught_up.hash_lists["known"].pdq) == {
        KNOWN.pdq,
        LATER.pdq,
    }

    # Tampered in transit or at rest: refused, and the pack in force stays.
    served = team.call(team.child, "GetPack", pb.GetPackRequest(organisation_id=ORG))
    tampered = bytearray(served.pack)
    tampered[-5] ^= 0x01
    with pytest.raises(BadPackSignature):
        guard.install_pack(bytes(tampered), organisation_id=ORG)
    forged = build_pack(SigningKey.generate(), {"version": 3, "issued_at": 0, "expires_at": 2e9})
    with pytest.raises(BadPackSignature):
        guard.install_pack(forged, organisation_id=ORG)
    # An older version the service still serves is a rollback to the device.
    with pytest.raises(PackRollback):
        fetch_pack(channel, child_token, guard, ORG, version=1)
    assert guard.packs.current.version == 2  # type: ignore[union-attr]

    # Another organisation's pack, signed by the same key, is not this device's.
    elsewhere = Team(people, "org-" + uuid.uuid4().hex[:8])
    publish(elsewhere, {"rules": [RULE]})
    foreign = elsewhere.call(
        elsewhere.child, "GetPack", pb.GetPackRequest(organisation_id=elsewhere.org)
    )
    with pytest.raises(ForeignPack):
        guard.install_pack(foreign.pack, organisation_id=ORG)

    # Each version is an event holding the whole signed pack.
    stream = read_stream(people.platform.nats_url, environ["HEARTH_SAFETY_STREAM"])
    assert any(served.pack in m.data for m in stream)


def test_bad_publications_are_refused_and_record_nothing(
    people: People, team: Team, environ: dict[str, str]
) -> None:
    publish(team, {"rules": [RULE]})  # so a delta below has a pack before it
    before = safety_stream(people, environ)

    def refused(manifest: bytes, account: str = team.admin, org: str = ORG) -> tuple[object, str]:
        code, reason, _ = refusal(
            lambda: team.call(
                account,
                "PublishPack",
                pb.PublishPackRequest(request_id=rid(), organisation_id=org, manifest=manifest),
            )
        )
        return code, reason

    invalid = (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PACK")
    assert refused(b"not json") == invalid
    assert refused(b'{"script": "rm -rf /"}') == invalid
    assert refused(json.dumps({"rules": [{**RULE, "pattern": "(unclosed"}]}).encode()) == invalid
    orphan = {"hash_lists": {"other": {"mode": "delta", "sha256": [["00" * 32, "x"]]}}}
    assert refused(json.dumps(orphan).encode()) == invalid
    assert refused(b"[" * (600 * 1024)) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "PACK_TOO_LARGE")
    assert refused(b'{"rules": []}', org="org-elsewhere") == (
        grpc.StatusCode.PERMISSION_DENIED,
        "NOT_IN_ORGANISATION",
    )
    code, _ = refused(b'{"rules": []}', account=team.moderator)
    assert code == grpc.StatusCode.PERMISSION_DENIED
    code, reason, _ = refusal(
        lambda: team.call(team.child, "GetPack", pb.GetPackRequest(organisation_id=ORG, version=99))
    )
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "PACK_VERSION_NOT_FOUND")
    assert safety_stream(people, environ) == before
