"""A device's state (keys, prekeys, ratchet sessions) kept in a local file survives a restart."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from hearth_sdk.messaging import MessagingDevice
from tests.messaging.support import People

TEEN = ("young_person", "13_15")


def restart(people: People, device: MessagingDevice, role: tuple[str, str]) -> MessagingDevice:
    """The app stops (its device object is gone) and starts again from its state file."""
    device.disconnect()
    assert device.state_path is not None
    return MessagingDevice(
        people.channel,
        people.token(device.account_id, *role),
        device.account_id,
        address=people.platform.endpoint("messaging"),
        state_path=device.state_path,
    )


def test_a_device_restored_from_its_file_decrypts_the_next_message(
    people: People, tmp_path: Path
) -> None:
    a, b = people.account(*TEEN), people.account(*TEEN)
    people.settle()
    alice = people.device(a, *TEEN, state_path=tmp_path / "alice.json")
    bob = people.device(b, *TEEN, state_path=tmp_path / "bob.json")
    conversation = alice.start_conversation([b]).conversation_id

    alice.send(conversation, b"first, with the X3DH header")
    assert [m.body for m in bob.receive(1)] == [b"first, with the X3DH header"]
    bob_device = bob.device_id
    bob = restart(people, bob, TEEN)
    assert bob.device_id == bob_device
    # Bob has not answered yet, so this one repeats the header: the restored session takes it.
    alice.send(conversation, b"second, before bob answered")
    assert [m.body for m in bob.receive(1)] == [b"second, before bob answered"]
    bob.send(conversation, b"bob answers after a restart")
    assert [m.body for m in alice.receive(1)] == [b"bob answers after a restart"]

    alice = restart(people, alice, TEEN)  # the sender's ratchet moves on from where it was
    alice.send(conversation, b"third, a plain ratchet message")
    bob = restart(people, bob, TEEN)
    assert [m.body for m in bob.receive(1)] == [b"third, a plain ratchet message"]
    assert not bob.rejected
    for device in (alice, bob):
        device.disconnect()

    path = tmp_path / "bob.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(tmp_path.glob("*.tmp"))
    text = path.read_bytes()
    assert b"third, a plain ratchet message" not in text and b"bob answers" not in text
    assert json.loads(text)["device_id"] == bob_device


def test_a_state_file_is_one_accounts_device(people: People, tmp_path: Path) -> None:
    a, b = people.account(*TEEN), people.account(*TEEN)
    people.settle()
    people.device(a, *TEEN, state_path=tmp_path / "device.json").disconnect()
    with pytest.raises(ValueError, match="another account"):
        MessagingDevice(
            people.channel, people.token(b, *TEEN), b, state_path=tmp_path / "device.json"
        )
    with pytest.raises(ValueError, match="holds device"):
        MessagingDevice(
            people.channel,
            people.token(a, *TEEN),
            a,
            device_id="00000000-0000-4000-8000-000000000000",
            state_path=tmp_path / "device.json",
        )
