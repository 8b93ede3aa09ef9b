"""The relay: fan-out per device, delivery with acknowledgement and resume, order, replays."""

from __future__ import annotations

import uuid

import grpc
import pytest

from hearth_crypto.franking import MessageMetadata, verify_frank
from hearth_crypto.ratchet import MessageHeader, RatchetMessage, TooManySkippedMessages
from hearth_proto.hearth.messaging.v1 import messaging_pb2 as pb
from hearth_sdk.messaging import GROUP, MessagingDevice
from hearth_sdk.sessions import RATCHET_MESSAGE
from tests.messaging.support import People
from tests.support.polling import wait_for
from tests.support.status import status_of

TEEN = ("young_person", "13_15")


def pair(people: People) -> tuple[MessagingDevice, MessagingDevice, str]:
    a = people.account("young_person", "13_15")
    b = people.account("young_person", "16_17")
    people.settle()
    alice = people.device(a, *TEEN)
    bob = people.device(b, "young_person", "16_17")
    conversation = alice.start_conversation([b])
    return alice, bob, conversation.conversation_id


def test_a_message_reaches_every_device_of_the_other_member_and_the_senders_own(
    people: People,
) -> None:
    a = people.account("young_person", "13_15")
    b = people.account("young_person", "13_15")
    people.settle()
    alice = people.device(a, *TEEN)
    alice_tablet = people.device(a, *TEEN)
    bob = people.device(b, *TEEN)
    bob_laptop = people.device(b, *TEEN)
    conversation = alice.start_conversation([b]).conversation_id

    sent = alice.send(conversation, b"hello from alice")
    assert len(sent.franking_stamp) == 32
    for device in (alice_tablet, bob, bob_laptop):
        [message] = device.receive(1)
        assert message.body == b"hello from alice"
        assert message.sender_account_id == a
        assert message.sender_device_id == alice.device_id
        verify_frank(
            message.body,
            message.franking_key,
            MessageMetadata(conversation, alice.device_id, message.message_id),
            message.franking_commitment,
        )
    bob.send(conversation, b"hi alice")
    assert [m.body for m in alice.receive(1)] == [b"hi alice"]
    assert [m.body for m in alice_tablet.receive(1)] == [b"hi alice"]
    alice.send(conversation, b"second")  # now over the established session, no X3DH header
    assert [m.body for m in bob.receive(1)] == [b"second"]
    for device in (alice, alice_tablet, bob, bob_laptop):
        device.disconnect()


def test_a_reconnecting_device_gets_what_it_had_not_acknowledged_in_order(
    people: People,
) -> None:
    alice, bob, conversation = pair(people)
    for i in range(5):
        alice.send(conversation, f"message {i}".encode())
    first = bob.receive(2)
    assert [m.body for m in first] == [b"message 0", b"message 1"]
    bob.disconnect()
    for i in range(5, 8):
        alice.send(conversation, f"message {i}".encode())
    later = bob.receive(6)
    assert [m.body for m in later] == [f"message {i}".encode() for i in range(2, 8)]
    bob.disconnect()
    assert bob.receive(1, timeout=0.5) == []  # everything was acknowledged
    bob.disconnect()
    alice.disconnect()


def test_an_unacknowledged_message_comes_again_and_is_recognised_by_its_id(
    people: People,
) -> None:
    alice, bob, conversation = pair(people)
    alice.send(conversation, b"once")
    [first] = bob.receive(1, acknowledge=False)
    bob.disconnect()
    bob.connect()
    assert bob._inbox is not None
    again = bob._inbox.envelopes.get(timeout=10)
    assert isinstance(again, pb.Envelope)
    assert again.message_id == first.message_id  # the duplicate, recognisable by its id
    assert bob.receive(1, timeout=0.5) == []  # and the SDK drops it
    bob.disconnect()


def test_a_replayed_message_id_is_refused(people: People) -> None:
    alice, bob, conversation = pair(people)
    request = alice.seal(conversation, b"x", [bob.device_id], str(uuid.uuid4()))
    alice.stub.SendEnvelope(request, metadata=alice.metadata)
    assert (
        status_of(lambda: alice.stub.SendEnvelope(request, metadata=alice.metadata))
        == grpc.StatusCode.ALREADY_EXISTS
    )
    assert len(bob.receive(5, timeout=1)) == 1
    bob.disconnect()


def test_envelopes_from_a_non_member_or_to_an_unknown_device_are_refused(
    people: People,
) -> None:
    alice, bob, conversation = pair(people)
    c = people.account("young_person", "13_15")
    people.settle()
    carol = people.device(c, *TEEN)
    request = carol.seal(conversation, b"let me in", [bob.device_id], str(uuid.uuid4()))
    assert (
        status_of(lambda: carol.stub.SendEnvelope(request, metadata=carol.metadata))
        == grpc.StatusCode.PERMISSION_DENIED
    )
    request = alice.seal(conversation, b"x", [bob.device_id], str(uuid.uuid4()))
    request.ciphertexts[0].device_id = str(uuid.uuid4())
    assert (
        status_of(lambda: alice.stub.SendEnvelope(request, metadata=alice.metadata))
        == grpc.StatusCode.NOT_FOUND
    )
    # A device of someone outside the conversation.
    request = alice.seal(conversation, b"x", [carol.device_id], str(uuid.uuid4()))
    assert (
        status_of(lambda: alice.stub.SendEnvelope(request, metadata=alice.metadata))
        == grpc.StatusCode.INVALID_ARGUMENT
    )
    # Someone else's device as the sender.
    request = alice.seal(conversation, b"x", [bob.device_id], str(uuid.uuid4()))
    request.sender_device_id = bob.device_id
    assert (
        status_of(lambda: alice.stub.SendEnvelope(request, metadata=alice.metadata))
        == grpc.StatusCode.PERMISSION_DENIED
    )


@pytest.mark.parametrize(
    "spoil",
    [
        lambda r: setattr(r, "message_id", "not-a-uuid"),
        lambda r: setattr(r, "conversation_id", "nope"),
        lambda r: setattr(r, "franking_commitment", b"short"),
        lambda r: r.ClearField("ciphertexts"),
        lambda r: setattr(r.ciphertexts[0], "ciphertext", b""),
        lambda r: r.ciphertexts.append(r.ciphertexts[0]),
    ],
    ids=["message-id", "conversation-id", "commitment", "no-ciphertexts", "empty", "twice"],
)
def test_malformed_envelopes_are_invalid_arguments(people: People, spoil: object) -> None:
    alice, bob, conversation = pair(people)
    request = alice.seal(conversation, b"x", [bob.device_id], str(uuid.uuid4()))
    spoil(request)  # type: ignore[operator]
    assert (
        status_of(lambda: alice.stub.SendEnvelope(request, metadata=alice.metadata))
        == grpc.StatusCode.INVALID_ARGUMENT
    )


def test_oversized_envelopes_and_floods_are_resource_exhausted(people: People) -> None:
    alice, bob, conversation = pair(people)
    big = alice.seal(conversation, b"x" * 5000, [bob.device_id], str(uuid.uuid4()))
    assert (
        status_of(lambda: alice.stub.SendEnvelope(big, metadata=alice.metadata))
        == grpc.StatusCode.RESOURCE_EXHAUSTED
    )
    codes = []
    for _ in range(60):  # the burst allowance is 40 at 5 per second
        request = alice.seal(conversation, b"spam", [bob.device_id], str(uuid.uuid4()))
        try:
            alice.stub.SendEnvelope(request, metadata=alice.metadata)
            codes.append(grpc.StatusCode.OK)
        except grpc.RpcError as e:
            codes.append(e.code())
    assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes
    assert set(codes) == {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}


def test_a_blocked_sender_is_refused_and_unblocking_lets_them_through(people: People) -> None:
    alice, bob, conversation = pair(people)
    bob.block(alice.account_id)
    assert (
        status_of(lambda: alice.send(conversation, b"are you there?"))
        == grpc.StatusCode.PERMISSION_DENIED
    )
    bob.unblock(alice.account_id)
    alice.send(conversation, b"sorry")
    assert [m.body for m in bob.receive(1)] == [b"sorry"]
    bob.disconnect()


def test_a_muted_conversation_still_delivers_marked_muted(people: People) -> None:
    alice, bob, conversation = pair(people)
    bob.mute(conversation)
    alice.send(conversation, b"quietly")
    [message] = bob.receive(1)
    assert message.muted and message.body == b"quietly"
    bob.disconnect()


def test_an_out_of_range_ratchet_skip_is_refused_by_the_sdk(people: People) -> None:
    alice, bob, conversation = pair(people)
    alice.send(conversation, b"start")
    assert len(bob.receive(1)) == 1
    bob.send(conversation, b"ack")  # alice's session is now established
    assert len(alice.receive(1)) == 1
    session = alice.sessions[bob.device_id][0].ratchet
    genuine = session.encrypt(b"\x01" + b"k" * 32 + b"far")
    forged = RatchetMessage(
        MessageHeader(genuine.header.ratchet_key, genuine.header.previous_chain_length, 2**31),
        genuine.ciphertext,
    )
    request = alice.seal(conversation, b"placeholder", [bob.device_id], str(uuid.uuid4()))
    request.ciphertexts[0].ciphertext = bytes([RATCHET_MESSAGE]) + forged.to_bytes()
    alice.stub.SendEnvelope(request, metadata=alice.metadata)
    wait_for(lambda: bob.receive(1, timeout=0.2) == [] and bool(bob.rejected))
    [(_envelope, error)] = bob.rejected
    assert isinstance(error, TooManySkippedMessages)
    assert bob.sessions[alice.device_id][0].ratchet.skipped_key_count == 0
    bob.disconnect()
    alice.disconnect()


def test_mailboxes_are_a_separate_stream_that_ages_out_and_only_their_device_reads(
    people: People, environ: dict[str, str]
) -> None:
    from hearth_eventlog.link import JetStreamLink

    link = JetStreamLink(people.platform.nats_url)
    try:
        mailbox = link.run(
            link.api(f"$JS.API.STREAM.INFO.{environ['HEARTH_MESSAGING_MAILBOX_STREAM']}")
        )
        events = link.run(link.api(f"$JS.API.STREAM.INFO.{environ['HEARTH_MESSAGING_STREAM']}"))
    finally:
        link.close()
    assert mailbox["config"]["max_age"] == 30 * 24 * 3600 * 10**9
    assert events["config"]["max_age"] == 0 and events["config"]["deny_delete"]
    alice, bob, _ = pair(people)
    for call in (
        lambda: alice.stub.AcknowledgeEnvelopes(
            pb.AcknowledgeEnvelopesRequest(device_id=bob.device_id, up_to_sequence=10**9),
            metadata=alice.metadata,
        ),
        lambda: next(
            iter(
                alice.stub.ReceiveEnvelopes(
                    pb.ReceiveEnvelopesRequest(device_id=bob.device_id), metadata=alice.metadata
                )
            )
        ),
    ):
        assert status_of(call) == grpc.StatusCode.PERMISSION_DENIED


def test_groups_fan_out_to_every_member_and_hold_at_most_fifty(people: People) -> None:
    members = [people.account("young_person", "13_15") for _ in range(4)]
    people.settle()
    devices = [people.device(m, *TEEN) for m in members]
    group = devices[0].start_conversation(members[1:], GROUP).conversation_id
    devices[0].send(group, b"hello group")
    for d in devices[1:]:
        assert [m.body for m in d.receive(1)] == [b"hello group"]
        d.disconnect()
    devices[1].stub.LeaveConversation(
        pb.LeaveConversationRequest(request_id="l", conversation_id=group),
        metadata=devices[1].metadata,
    )
    assert status_of(lambda: devices[1].send(group, b"still here?")) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    assert len(devices[0].recipient_devices(group)) == 2
    too_many = [str(uuid.uuid4()) for _ in range(50)]  # fifty others make fifty-one
    assert status_of(lambda: devices[0].start_conversation(too_many, GROUP)) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
