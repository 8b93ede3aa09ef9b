"""Every RPC of every service, tried as a hostile client would: the answers a client may get.

Garbage bytes, garbage values in every field, missing, malformed, expired, forged and
odd-claim sessions, and every role, for each RPC found in the descriptors of what the
platform serves (`cases`). Each answer is one of the allowed statuses, never INTERNAL or
UNKNOWN, within its deadline; and the event streams only grow. `HEARTH_HOSTILE_CASES` sets
the number of cases per RPC (`make bench` runs more).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf.message_factory import GetMessageClass

from hearth_runtime.platform import Platform
from tests.conftest import ROLES
from tests.hostile.cases import Rpc, Run, cases, expected_refusal, rpcs, run
from tests.hostile.conftest import SUMMARIES, Snapshot, raw_streams

PER_RPC = int(os.environ.get("HEARTH_HOSTILE_CASES", "40"))
MAX_DETAILS = 300  # characters: a reason and a short prefix of the input at most


@pytest.fixture(scope="module")
def hostile(platform: Platform) -> Iterator[tuple[Run, Snapshot, Snapshot]]:
    """One hostile run over the module's platform, with the raw streams before and after."""
    before = raw_streams(platform)
    result = run(platform, cases(platform, sorted(ROLES), per_rpc=PER_RPC))
    SUMMARIES.append(result.summary())
    yield result, before, raw_streams(platform)


def test_every_rpc_answers_hostile_calls_with_an_allowed_status_in_time(
    platform: Platform, hostile: tuple[Run, Snapshot, Snapshot]
) -> None:
    result, _, _ = hostile
    assert {a.case.rpc for a in result.answers} == set(rpcs(platform))
    kinds = {a.case.kind for a in result.answers}
    assert kinds == {"garbage-bytes", "garbage-field", "session", "role"}
    assert "INTERNAL" not in result.histogram and "UNKNOWN" not in result.histogram
    refused = result.refused
    assert not refused, f"{len(refused)} answers not allowed:\n" + "\n".join(map(str, refused[:60]))


def test_requests_that_do_not_decode_answer_invalid_argument_on_every_rpc(
    hostile: tuple[Run, Snapshot, Snapshot],
) -> None:
    result, _, _ = hostile
    undecodable = [
        a
        for a in result.answers
        if a.case.kind == "garbage-bytes" and not _decodes(a.case.rpc, a.case.request)
    ]
    assert {a.case.rpc for a in undecodable} == {a.case.rpc for a in result.answers}
    wrong = [
        a
        for a in undecodable
        if a.code != grpc.StatusCode.INVALID_ARGUMENT or "protobuf wire format" not in a.details
    ]
    assert not wrong, "\n".join(map(str, wrong[:20]))


def _decodes(rpc: Rpc, data: bytes) -> bool:
    try:
        GetMessageClass(rpc.method.input_type).FromString(data)
    except Exception:
        return False
    return True


def test_hostile_calls_lose_and_change_no_recorded_event(
    hostile: tuple[Run, Snapshot, Snapshot],
) -> None:
    _, before, after = hostile
    assert sum(map(len, before.values())) > 0
    for stream, messages in before.items():
        assert after[stream][: len(messages)] == messages, f"{stream} lost or changed events"


def test_refusals_say_why_in_a_short_message(hostile: tuple[Run, Snapshot, Snapshot]) -> None:
    result, _, _ = hostile
    # A request whose own metadata passes the limit is refused by the transport, rightly.
    answers = [a for a in result.answers if sum(map(len, map(str, a.case.metadata))) < 8000]
    long = [a for a in answers if len(a.details) > MAX_DETAILS]
    transport = [a for a in answers if "metadata size exceeds" in a.details]
    assert not long and not transport, "\n".join(map(str, (long + transport)[:20]))


def test_session_and_role_refusals_carry_the_access_reasons(
    platform: Platform, hostile: tuple[Run, Snapshot, Snapshot]
) -> None:
    """Every odd session of an RPC that needs one is UNAUTHENTICATED (SESSION_MISSING,
    SESSION_INVALID or SESSION_AMBIGUOUS), and every role it is not for PERMISSION_DENIED
    (ROLE_REQUIRED), whatever the RPC."""
    result, _, _ = hostile
    checked = wrong = 0
    mismatched = []
    for answer in result.answers:
        code, reasons = expected_refusal(platform, answer.case)
        if not reasons:
            continue
        checked += 1
        if answer.code != code or answer.reason not in reasons:
            wrong += 1
            mismatched.append(f"{answer} (reason {answer.reason!r}; expected {code.name})")
    assert checked > 100
    assert not mismatched, f"{wrong} of {checked}:\n" + "\n".join(mismatched[:20])
