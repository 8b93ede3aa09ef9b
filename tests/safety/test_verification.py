"""A child reports a stranger's message with the messages before it; safety verifies each with
the relay's published key, and every forged, altered, foreign or not-received message is
refused naming the check it failed and which message it was."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace

import pytest

from hearth_crypto.franking import FrankingReport, RelayKey
from hearth_safety.domain import ContextTooLarge, NotReceived, ReportNotVerified
from hearth_safety.verification import MAX_REPORT_BYTES, verify_report_messages
from tests.safety.support import NOW, Relay, account

NOW_MS = int(NOW.timestamp() * 1000)
STRANGER = (account(), "stranger-phone")
CHILD = (account(), "child-phone")
CHILD_TABLET = "child-tablet"


def conversation(relay: Relay, count: int) -> list[FrankingReport]:
    """The stranger and the child talk; the child's phone and tablet receive each message."""
    said: list[FrankingReport] = []
    for i in range(count):
        if i % 2:
            said.append(relay.send(f"child {i}".encode(), CHILD, ["stranger-phone", CHILD_TABLET]))
        else:
            said.append(
                relay.send(f"stranger {i}".encode(), STRANGER, ["child-phone", CHILD_TABLET])
            )
    return said


def refused(
    relay: Relay, reported: FrankingReport, context: list[FrankingReport]
) -> ReportNotVerified | NotReceived:
    with pytest.raises((ReportNotVerified, NotReceived)) as failure:
        verify_report_messages(relay.keys, {"child-phone"}, reported, context, NOW_MS)
    assert isinstance(failure.value, ReportNotVerified | NotReceived)
    return failure.value


def test_a_report_with_twenty_messages_of_context_verifies() -> None:
    relay = Relay()
    *context, reported = conversation(relay, 21)
    verified = verify_report_messages(relay.keys, {"child-phone"}, reported, context, NOW_MS)
    assert verified.subject_account_id == STRANGER[0]
    assert verified.conversation_id == relay.conversation
    assert verified.message_ids[-1] == reported.metadata.message_id
    assert len(verified.message_ids) == 21 and list(verified.sent_at_ms) == sorted(
        verified.sent_at_ms
    )
    assert verified.senders == {STRANGER[0], CHILD[0]}
    assert not verified.reporter_sent_it


def test_a_participant_may_report_a_message_they_sent() -> None:
    relay = Relay()
    mine = relay.send(b"stop messaging me", CHILD, ["stranger-phone"])
    verified = verify_report_messages(relay.keys, {"child-phone"}, mine, [], NOW_MS)
    assert verified.reporter_sent_it and verified.subject_account_id == CHILD[0]


def test_a_message_the_reporter_never_received_is_refused() -> None:
    relay = Relay()
    elsewhere = relay.send(b"hi", STRANGER, ["someone-elses-phone"])
    failure = refused(relay, elsewhere, [])
    assert (failure.check, failure.index) == ("recipient", None)


def test_context_the_reporter_never_received_is_refused_naming_the_message() -> None:
    relay = Relay()
    context = conversation(relay, 3)
    context[1] = relay.send(b"not yours", STRANGER, ["someone-elses-phone"])
    reported = relay.send(b"last", STRANGER, ["child-phone"])
    failure = refused(relay, reported, context)
    assert (failure.check, failure.index) == ("recipient", 1)
    assert "context message 1" in str(failure)


@pytest.mark.parametrize(
    ("alter", "check"),
    [
        (lambda r: replace(r, body=b"words never said"), "commitment"),
        (lambda r: replace(r, franking_key=os.urandom(32)), "commitment"),
        (
            lambda r: replace(r, relay_stamp=replace(r.relay_stamp, commitment=os.urandom(32))),
            "signature",
        ),
        (
            lambda r: replace(r, relay_stamp=replace(r.relay_stamp, sender_account_id=account())),
            "signature",
        ),
        (
            lambda r: replace(
                r,
                relay_stamp=replace(
                    r.relay_stamp, recipient_devices=(*r.relay_stamp.recipient_devices, "x")
                ),
            ),
            "signature",
        ),
        (
            lambda r: replace(
                r, relay_stamp=replace(r.relay_stamp, timestamp_ms=r.relay_stamp.timestamp_ms + 1)
            ),
            "signature",
        ),
        (
            lambda r: replace(r, relay_stamp=replace(r.relay_stamp, signature=os.urandom(32))),
            "stamp_version",
        ),
    ],
    ids=["body", "franking key", "commitment", "sender", "recipients", "timestamp", "hmac stamp"],
)
def test_an_altered_message_is_refused_naming_the_check(
    alter: Callable[[FrankingReport], FrankingReport], check: str
) -> None:
    relay = Relay()
    *context, reported = conversation(relay, 4)
    failure = refused(relay, alter(reported), context)
    assert (failure.check, failure.index) == (check, None)
    failure = refused(relay, reported, [*context[:2], alter(context[2])])
    assert (failure.check, failure.index) == (check, 2)


def test_a_forged_stamp_by_another_key_is_refused() -> None:
    relay = Relay()
    impostor = Relay()
    impostor.key = RelayKey.generate()
    forged = impostor.send(b"framed", STRANGER, ["child-phone"])
    assert refused(relay, forged, []).check == "relay_key"


def test_context_from_another_conversation_is_refused() -> None:
    relay = Relay()
    other = relay.send(b"elsewhere", STRANGER, ["child-phone"], conversation="another")
    reported = relay.send(b"here", STRANGER, ["child-phone"])
    failure = refused(relay, reported, [other])
    assert (failure.check, failure.index) == ("same_conversation", 0)


def test_context_out_of_order_or_after_the_reported_message_is_refused() -> None:
    relay = Relay()
    first, second, reported = conversation(relay, 3)
    failure = refused(relay, reported, [second, first])
    assert (failure.check, failure.index) == ("order", 1)
    failure = refused(relay, first, [second])
    assert (failure.check, failure.index) == ("order", None)


def test_the_same_message_twice_is_refused() -> None:
    relay = Relay()
    first, reported = conversation(relay, 2)
    failure = refused(relay, reported, [first, first])
    assert (failure.check, failure.index) == ("duplicate", 1)


def test_a_message_stamped_in_the_future_is_refused() -> None:
    relay = Relay()
    later = relay.send(b"from tomorrow", STRANGER, ["child-phone"], at_ms=NOW_MS + 86_400_000)
    assert refused(relay, later, []).check == "time"


def test_more_than_twenty_messages_or_too_many_bytes_are_too_much() -> None:
    relay = Relay()
    *context, reported = conversation(relay, 22)
    with pytest.raises(ContextTooLarge, match="20"):
        verify_report_messages(relay.keys, {"child-phone"}, reported, context, NOW_MS)
    huge = relay.send(b"x" * (MAX_REPORT_BYTES + 1), STRANGER, ["child-phone"])
    with pytest.raises(ContextTooLarge, match="bytes"):
        verify_report_messages(relay.keys, {"child-phone"}, huge, [], NOW_MS)
