"""Cumulative risk per subject: one report is an isolated message, several, from several
people, or a substantiated case are a history of concern; old reports fade and unfounded
ones count for nothing."""

from __future__ import annotations

from datetime import timedelta

from hearth_safety.domain import Outcome, Severity, SubjectFile
from hearth_safety.risk import (
    PastReport,
    RiskLevel,
    SubjectHistory,
    cumulative_risk,
    history_of,
)
from tests.safety.support import NOW, rebuilt


def test_nobody_reported_has_no_risk() -> None:
    risk = cumulative_risk(SubjectHistory(), NOW)
    assert (risk.level, risk.score, risk.counted_reports) == (RiskLevel.NONE, 0.0, 0)


def test_one_report_is_an_isolated_message() -> None:
    risk = cumulative_risk(SubjectHistory([PastReport(Severity.MEDIUM, NOW, "child-1")]), NOW)
    assert risk.level is RiskLevel.ISOLATED and risk.score == 10.0


def test_reports_from_several_people_weigh_more_than_repeats_from_one() -> None:
    repeats = [PastReport(Severity.MEDIUM, NOW, "child-1") for _ in range(3)]
    several = [PastReport(Severity.MEDIUM, NOW, f"child-{i}") for i in range(3)]
    one = cumulative_risk(SubjectHistory(repeats), NOW)
    many = cumulative_risk(SubjectHistory(several), NOW)
    assert one.level is many.level is RiskLevel.HISTORY_OF_CONCERN
    assert many.score > one.score and many.distinct_reporters == 3
    assert "reported by 3 different people" in many.reasons


def test_old_reports_fade() -> None:
    old = cumulative_risk(
        SubjectHistory([PastReport(Severity.HIGH, NOW - timedelta(days=90), "c")]), NOW
    )
    new = cumulative_risk(SubjectHistory([PastReport(Severity.HIGH, NOW, "c")]), NOW)
    assert new.score == 25.0 and old.score == 12.5


def test_a_substantiated_case_is_a_history_and_unfounded_reports_do_not_count() -> None:
    substantiated = SubjectHistory([PastReport(Severity.LOW, NOW, "c")], substantiated=[NOW])
    assert cumulative_risk(substantiated, NOW).level is RiskLevel.HISTORY_OF_CONCERN
    unfounded = SubjectHistory(
        [PastReport(Severity.HIGH, NOW, "c", unfounded=True), PastReport(Severity.LOW, NOW, "d")]
    )
    risk = cumulative_risk(unfounded, NOW)
    assert risk.level is RiskLevel.ISOLATED and risk.counted_reports == 1 and risk.score == 4.0


def test_guardian_notices_add_and_with_a_report_make_a_pattern() -> None:
    notices = SubjectHistory([PastReport(Severity.LOW, NOW, "c")], guardian_notices=3)
    risk = cumulative_risk(notices, NOW)
    assert risk.level is RiskLevel.HISTORY_OF_CONCERN and risk.score == 10.0
    capped = cumulative_risk(SubjectHistory(guardian_notices=500), NOW)
    assert capped.score == 20.0 and capped.level is RiskLevel.ISOLATED


def test_a_subjects_file_is_read_as_its_history() -> None:
    file = SubjectFile("org-1", "stranger")
    file.note_report("r1", "case-1", "grooming", Severity.HIGH.value, "child-1", NOW)
    file.note_closed("case-1", Outcome.UNFOUNDED.value)
    assert file.open_case_id is None
    file.note_report("r2", "case-2", "grooming", Severity.HIGH.value, "child-2", NOW)
    file.note_report("r3", "case-2", "bullying", Severity.MEDIUM.value, "child-3", NOW)
    file.note_closed("case-2", Outcome.SUBSTANTIATED.value)
    file.note_reopened("case-2")
    file.note_closed("case-2", Outcome.SUBSTANTIATED.value)
    file.note_guardian_notices(2)
    copy = rebuilt(file)
    history = history_of(copy)
    assert [r.unfounded for r in history.reports] == [True, False, False]
    assert len(history.substantiated) == 2 and history.guardian_notices == 2
    risk = cumulative_risk(history, NOW)
    assert risk.level is RiskLevel.HISTORY_OF_CONCERN and risk.counted_reports == 2
