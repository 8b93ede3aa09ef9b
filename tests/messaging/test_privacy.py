"""What the server keeps: after a scripted conversation, every stream and bucket read raw."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

from hearth_crypto.ratchet import kdf_ck
from hearth_eventlog.link import JetStreamLink
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from hearth_sdk.messaging import GROUP, MessagingDevice
from tests.messaging.conftest import messaging_environ
from tests.messaging.support import People


def secrets_of(devices: list[MessagingDevice]) -> set[bytes]:
    """Every private key, root, chain and next message key the devices hold right now."""
    found: set[bytes] = set()
    for device in devices:
        found.add(device.identity.seed)
        found |= {s.key_pair.private_key for s in device.signed_prekeys.values()}
        found |= {p.key_pair.private_key for p in device.one_time.values()}
        for sessions in device.sessions.values():
            for session in sessions:
                state = session.ratchet.to_dict()
                for name in ("root_key", "dh_self_private"):
                    found.add(base64.b64decode(str(state[name])))
                for name in ("sending_chain_key", "receiving_chain_key"):
                    if state[name]:
                        chain_key = base64.b64decode(str(state[name]))
                        found |= {chain_key, kdf_ck(chain_key)[1]}  # and the next message key
                skipped_keys = state["skipped"]
                assert isinstance(skipped_keys, list)
                for skipped in skipped_keys:
                    assert isinstance(skipped, dict)
                    found.add(base64.b64decode(str(skipped["message_key"])))
    return found


def everything_stored(url: str) -> list[bytes]:
    """Every message of every stream (key-value buckets are streams too), headers included."""
    link = JetStreamLink(url, name="privacy-reader")
    try:
        names = link.run(link.api("$JS.API.STREAM.NAMES", {}))["streams"] or []
        stored: list[bytes] = []
        for name in names:
            sequence = 1
            while True:
                batch = link.run(link.read_batch(name, {"seq": sequence}, 500))
                if not batch:
                    break
                for m in batch:
                    stored.append(m.subject.encode() + repr(dict(m.headers)).encode() + m.payload)
                sequence = batch[-1].seq + 1
        return stored
    finally:
        link.close()


def test_the_server_stores_no_plaintext_message_key_or_franking_key(
    own_nats: EmbeddedNats, tmp_path: Path
) -> None:
    environ = messaging_environ("privacy")
    platform = Platform(
        tmp_path, services=["messaging"], environ=environ, nats_url=own_nats.url
    ).start()
    people = People(platform, environ)
    try:
        org = str(uuid.uuid4())
        practitioner = people.account("practitioner", "18_plus", (org,), vetted=True)
        young = people.account("young_person", "16_17", (org,))
        other = people.account("young_person", "16_17", (org,))
        people.settle()
        devices = [
            people.device(practitioner, "practitioner"),
            people.device(young, "young_person"),
            people.device(young, "young_person"),  # a second device of the same person
            people.device(other, "young_person"),
        ]
        p, y1, y2, o = devices
        direct = p.start_conversation([young]).conversation_id
        group = p.start_conversation([young, other], GROUP).conversation_id
        plaintexts: list[bytes] = []
        secrets: set[bytes] = set()
        franking_keys: set[bytes] = set()

        def say(device: MessagingDevice, conversation: str, text: str) -> None:
            body = f"{text} [{uuid.uuid4()}]".encode()
            plaintexts.append(body)
            device.send(conversation, body)
            secrets.update(secrets_of(devices))

        def hear(device: MessagingDevice, count: int) -> None:
            secrets.update(secrets_of(devices))
            received = device.receive(count)
            assert len(received) == count
            franking_keys.update(m.franking_key for m in received)
            secrets.update(secrets_of(devices))

        say(p, direct, "How has your week been?")
        hear(y1, 1)
        hear(y2, 1)
        say(y2, direct, "Not great, I had a fight with my friend")
        hear(p, 1)
        hear(y1, 1)
        say(p, group, "Welcome to the group, both of you")
        say(o, group, "hi everyone")
        hear(y1, 2)
        hear(y2, 2)
        hear(p, 1)
        hear(o, 1)
        for d in devices:
            d.disconnect()

        stored = everything_stored(own_nats.url)
        assert stored, "nothing was read back"
        blob = b"\n".join(stored)
        for needle_set, what in (
            (plaintexts, "plaintext"),
            (secrets, "key"),
            (franking_keys, "franking key"),
        ):
            assert needle_set
            for needle in needle_set:
                for form in (needle, needle.hex().encode(), base64.b64encode(needle)):
                    assert form not in blob, f"a {what} was found in JetStream"
        # What is there: metadata events and per-device ciphertext only.
        assert b"hearth.messaging.v1.MessageRelayed" in blob
    finally:
        people.close()
        platform.stop()
