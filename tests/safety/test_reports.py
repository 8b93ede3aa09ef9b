"""Reports: a verified franked message with its context becomes a report once, however often
it is sent; a child's concern without a message is taken, and the child is told plainly who
will see it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hearth_safety.domain import (
    MAX_CONTEXT,
    WHO_SEES_A_CONCERN,
    Category,
    ContextTooLarge,
    InvalidReport,
    Severity,
)
from hearth_safety.report import Report
from hearth_safety.triage import ScannerAssessment
from tests.safety.support import NOW, account, rebuilt

CHILD, STRANGER = account(), account()


def reported(message_ids: list[str], **overrides: object) -> Report:
    fields: dict[str, object] = {
        "organisation_id": "org-1",
        "reporter_account_id": CHILD,
        "subject_account_id": STRANGER,
        "conversation_id": "conv-1",
        "message_ids": message_ids,
        "sent_at_ms": list(range(len(message_ids))),
        "category": Category.GROOMING,
        "sealed_content": b"sealed under the case key",
        "received_at": NOW,
        "scanner_assessment": ScannerAssessment({"grooming.secrecy": 0.9}, 0.7).to_scores(),
    }
    return Report.of_messages(**{**fields, **overrides})  # type: ignore[arg-type]


def test_reporting_the_same_message_twice_finds_the_same_report() -> None:
    first = reported(["m1", "m2", "m3"])
    again = reported(["m2", "m3"])
    assert first.id == again.id == Report.id_for_message(CHILD, "m3")
    assert Report.id_for_message(account(), "m3") != first.id  # another reporter's own report


def test_a_report_keeps_metadata_in_the_clear_and_content_sealed() -> None:
    report = reported(["m1", "m2"])
    report.triage(Severity.HIGH.value, ["category grooming: high"])
    report.join_case("case-1")
    copy = rebuilt(report)
    assert copy.kind == "message" and copy.category is Category.GROOMING
    assert copy.message_ids == ["m1", "m2"] and copy.sent_at_ms == [0, 1]
    assert copy.sealed_content == b"sealed under the case key"
    assert copy.severity is Severity.HIGH and copy.case_id == "case-1"
    assert ScannerAssessment.from_scores(copy.scanner_assessment).scores == {
        "grooming.secrecy": 0.9
    }
    assert copy.received_at == NOW


def test_a_report_carries_at_most_twenty_messages_of_context() -> None:
    reported([f"m{i}" for i in range(MAX_CONTEXT + 1)])
    with pytest.raises(ContextTooLarge):
        reported([f"m{i}" for i in range(MAX_CONTEXT + 2)])
    with pytest.raises(InvalidReport):
        reported([])
    with pytest.raises(InvalidReport):
        reported(["m1"], sent_at_ms=[1, 2])


def test_a_child_raises_a_concern_without_a_message() -> None:
    concern = Report.concern(
        organisation_id="org-1",
        reporter_account_id=CHILD,
        request_id="r-1",
        note="I'm worried about my friend, she said she wants to hurt herself",
        sealed_content=b"sealed note",
        received_at=NOW + timedelta(minutes=1),
        category=Category.SELF_HARM,
    )
    copy = rebuilt(concern)
    assert copy.kind == "concern" and copy.message_ids == []
    assert copy.subject_account_id == CHILD  # no one named: the case is about the child
    assert copy.category is Category.SELF_HARM
    assert "cannot promise to keep it secret" in WHO_SEES_A_CONCERN
    assert "999" in WHO_SEES_A_CONCERN and "0800 1111" in WHO_SEES_A_CONCERN


def test_a_concern_says_what_the_worry_is() -> None:
    for note in ("", "   ", "x" * 2001):
        with pytest.raises(InvalidReport):
            Report.concern(
                organisation_id="org-1",
                reporter_account_id=CHILD,
                request_id="r-2",
                note=note,
                sealed_content=b"sealed",
                received_at=NOW,
            )
