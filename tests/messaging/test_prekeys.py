"""The prekey directory: bundles, one-time prekeys consumed exactly once, forged keys refused."""

from __future__ import annotations

import threading
import uuid

import grpc
import pytest

from hearth_crypto.x3dh import IdentityKeyPair, InvalidPrekeySignature, SignedPrekey
from hearth_proto.hearth.messaging.v1 import messaging_pb2 as pb
from tests.messaging.support import People
from tests.support.status import status_of


def test_concurrent_fetches_consume_each_one_time_prekey_exactly_once(people: People) -> None:
    owner = people.device(people.account("young_person", "13_15"), "young_person", prekeys=10)
    fetcher = people.device(people.account("young_person", "13_15"), "young_person", prekeys=1)
    taken: list[int | None] = []
    lock = threading.Lock()

    def fetch() -> None:
        bundle = fetcher.stub.FetchPrekeyBundle(
            pb.FetchPrekeyBundleRequest(request_id=str(uuid.uuid4()), device_id=owner.device_id),
            metadata=fetcher.metadata,
        )
        with lock:
            taken.append(
                bundle.one_time_prekey.prekey_id if bundle.HasField("one_time_prekey") else None
            )

    threads = [threading.Thread(target=fetch) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    handed_out = [t for t in taken if t is not None]
    assert sorted(handed_out) == sorted(owner.one_time)  # all ten, none twice
    assert taken.count(None) == 6  # the rest ran out and go without one
    assert owner.refill(low=5, count=7) == 7


def test_a_bundle_starts_a_session_and_a_forged_signed_prekey_is_refused(people: People) -> None:
    owner = people.device(people.account("young_person", "13_15"), "young_person")
    fetcher = people.device(people.account("young_person", "13_15"), "young_person")
    bundle = fetcher.stub.FetchPrekeyBundle(
        pb.FetchPrekeyBundleRequest(request_id="r", device_id=owner.device_id),
        metadata=fetcher.metadata,
    )
    assert bundle.identity_key == owner.identity.public_key
    fetcher.session_from_bundle(bundle)  # genuine: accepted

    # A server (or anyone on the path) swapping in its own signed prekey is caught.
    forged = pb.FetchPrekeyBundleResponse()
    forged.CopyFrom(bundle)
    mallory = SignedPrekey.generate(IdentityKeyPair.generate(), bundle.signed_prekey.prekey_id)
    forged.signed_prekey.public_key = mallory.key_pair.public_key
    with pytest.raises(InvalidPrekeySignature):
        fetcher.session_from_bundle(forged)
    forged.signed_prekey_signature = mallory.signature  # signed, but by another identity
    with pytest.raises(InvalidPrekeySignature):
        fetcher.session_from_bundle(forged)


def test_the_directory_refuses_bad_publications(people: People) -> None:
    account = people.account("young_person", "13_15")
    device = people.device(account, "young_person")
    identity = IdentityKeyPair.generate()
    signed = SignedPrekey.generate(identity, 1)
    request = pb.PublishPrekeysRequest(
        request_id="p",
        device_id=str(uuid.uuid4()),
        identity_key=identity.public_key,
        signed_prekey=pb.Prekey(prekey_id=1, public_key=signed.key_pair.public_key),
        signed_prekey_signature=b"\0" * 64,
    )
    publish = device.stub.PublishPrekeys
    assert status_of(lambda: publish(request, metadata=device.metadata)) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    request.signed_prekey_signature = signed.signature
    request.device_id = "not-a-uuid"
    assert status_of(lambda: publish(request, metadata=device.metadata)) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    request.device_id = device.device_id  # someone else's device id
    other = people.token(people.account("young_person", "13_15"), "young_person")
    assert status_of(
        lambda: publish(request, metadata=(("authorization", f"Bearer {other}"),))
    ) == (grpc.StatusCode.PERMISSION_DENIED)
    # The same device with a different identity key.
    assert status_of(lambda: publish(request, metadata=device.metadata)) == (
        grpc.StatusCode.FAILED_PRECONDITION
    )
    fetch = pb.FetchPrekeyBundleRequest(request_id="f", device_id=str(uuid.uuid4()))
    assert status_of(lambda: device.stub.FetchPrekeyBundle(fetch, metadata=device.metadata)) == (
        grpc.StatusCode.NOT_FOUND
    )


def test_a_rotated_signed_prekey_still_opens_sessions_started_on_the_old_one(
    people: People,
) -> None:
    a = people.account("young_person", "13_15")
    b = people.account("young_person", "13_15")
    people.settle()
    alice = people.device(a, "young_person", "13_15")
    bob = people.device(b, "young_person", "13_15")
    conversation = alice.start_conversation([b]).conversation_id
    alice.send(conversation, b"before rotation")
    bob.publish(5, rotate=True)
    carol_session = people.device(a, "young_person", "13_15")  # alice's second device
    carol_session.send(conversation, b"after rotation")
    assert [m.body for m in bob.receive(2)] == [b"before rotation", b"after rotation"]
    listed = bob.stub.ListDevices(pb.ListDevicesRequest(account_id=a), metadata=bob.metadata)
    assert {d.device_id for d in listed.devices} == {alice.device_id, carol_session.device_id}
    bob.disconnect()


def test_the_signed_prekey_is_rotated_weekly_and_one_time_prekeys_refilled(
    people: People,
) -> None:
    device = people.device(people.account("young_person", "13_15"), "young_person", prekeys=2)
    first = set(device.signed_prekeys)
    device.maintain(low=5, count=10, now=device.signed_prekey_published_at + 3600)
    assert set(device.signed_prekeys) == first  # a day is not a week
    assert device.refill(low=1) == 12  # but the directory was topped up
    week = device.signed_prekey_published_at + 7 * 24 * 3600
    device.maintain(now=week)
    device.maintain(now=week + 7 * 24 * 3600)
    assert len(device.signed_prekeys) == 2  # the current one and the one before
    assert not first & set(device.signed_prekeys)
    bundle = device.stub.FetchPrekeyBundle(
        pb.FetchPrekeyBundleRequest(request_id="r", device_id=device.device_id),
        metadata=device.metadata,
    )
    assert bundle.signed_prekey.prekey_id == max(device.signed_prekeys)
