"""What a device keeps to report: messages in the relay's order, the latest hundred per
conversation, through a round trip of its local state."""

from __future__ import annotations

import os

import pytest

from hearth_sdk.franked import FrankedHistory, MessageNotKept, ReceivedMessage


def kept(message_id: str, at_ms: int, conversation: str = "c1") -> ReceivedMessage:
    return ReceivedMessage(
        message_id=message_id,
        conversation_id=conversation,
        sender_account_id="a",
        sender_device_id="d",
        body=message_id.encode(),
        franking_key=os.urandom(32),
        franking_commitment=os.urandom(32),
        franking_stamp=os.urandom(64),
        relayed_at_ms=at_ms,
        sequence=0,
        muted=False,
        franking_key_id="k",
        recipient_device_ids=("r1", "r2"),
    )


def test_context_is_in_the_relays_order_whatever_order_messages_were_handled_in() -> None:
    history = FrankedHistory()
    for message_id, at in (("m2", 2000), ("m1", 1000), ("m4", 4000), ("m3", 3000)):
        history.keep(kept(message_id, at))
    reported, context = history.report("c1", "m4", context=2)
    assert reported.body == b"m4" and [c.body for c in context] == [b"m2", b"m3"]
    assert [c.body for c in history.report("c1", "m2")[1]] == [b"m1"]


def test_only_the_latest_are_kept_per_conversation() -> None:
    history = FrankedHistory(kept=3)
    for i in range(5):
        history.keep(kept(f"m{i}", i))
    history.keep(kept("other", 0, conversation="c2"))
    assert [m.message_id for m in history.messages("c1")] == ["m2", "m3", "m4"]
    with pytest.raises(MessageNotKept):
        history.report("c1", "m0")
    assert [m.message_id for m in history.messages("c2")] == ["other"]


def test_the_history_survives_a_round_trip_of_local_state() -> None:
    history = FrankedHistory()
    history.keep(kept("m1", 1))
    again = FrankedHistory.from_dict(history.to_dict())
    assert again.messages("c1") == history.messages("c1")
    assert again.report("c1", "m1")[0] == history.report("c1", "m1")[0]
