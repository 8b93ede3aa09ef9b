"""Cumulative risk per subject: an isolated message, or a history of concern.

Moderation guidance asks to look at the single message, its context, and the history of a
person's communications. A subject's file (`domain.SubjectFile`) holds every report about
them, each case's outcome and the guardian notices their conversations raised; this module
weighs them: serious reports weigh more, recent ones more than old (half-life 90 days),
reports from several people more than repeats from one, substantiated outcomes add, and
reports whose case found them unfounded count for nothing. Pure: no I/O, no clock.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .domain import Outcome, Severity, SubjectFile

HALF_LIFE = timedelta(days=90)
WEIGHT = {Severity.IMMEDIATE: 40.0, Severity.HIGH: 25.0, Severity.MEDIUM: 10.0, Severity.LOW: 4.0}
SUBSTANTIATED_WEIGHT = 30.0
NOTICE_WEIGHT, MAX_NOTICES = 2.0, 10
NOTICES_THAT_MAKE_A_PATTERN = 3


class RiskLevel(enum.StrEnum):
    NONE = "none"
    ISOLATED = "isolated"
    HISTORY_OF_CONCERN = "history_of_concern"


@dataclass(frozen=True)
class PastReport:
    severity: Severity
    at: datetime
    reporter: str
    unfounded: bool = False


@dataclass(frozen=True)
class SubjectHistory:
    reports: Sequence[PastReport] = ()
    substantiated: Sequence[datetime] = ()  # when each substantiated case was reported
    guardian_notices: int = 0


@dataclass(frozen=True)
class RiskAssessment:
    score: float  # 0 to 100
    level: RiskLevel
    counted_reports: int
    distinct_reporters: int
    reasons: tuple[str, ...]


def history_of(file: SubjectFile) -> SubjectHistory:
    """A subject's file as risk reads it."""
    reports = []
    substantiated = []
    for r in file.reports:
        outcome = file.outcomes.get(r["case_id"])
        reports.append(
            PastReport(
                Severity(r["severity"]),
                r["at"],
                r["reporter"],
                unfounded=outcome == Outcome.UNFOUNDED,
            )
        )
        if outcome == Outcome.SUBSTANTIATED:
            substantiated.append(r["at"])
    return SubjectHistory(reports, substantiated, file.guardian_notices)


def _decay(at: datetime, now: datetime) -> float:
    age = max(now - at, timedelta(0))
    return float(0.5 ** (age / HALF_LIFE))


def cumulative_risk(history: SubjectHistory, now: datetime) -> RiskAssessment:
    counted = [r for r in history.reports if not r.unfounded]
    reporters = {r.reporter for r in counted}
    reasons: list[str] = []
    score = sum(WEIGHT[r.severity] * _decay(r.at, now) for r in counted)
    if len(reporters) > 1:
        score *= 1 + 0.25 * (len(reporters) - 1)
        reasons.append(f"reported by {len(reporters)} different people")
    if counted:
        reasons.insert(0, f"{len(counted)} report(s) counted")
    if len(counted) < len(history.reports):
        reasons.append(f"{len(history.reports) - len(counted)} report(s) found unfounded")
    if history.substantiated:
        score += sum(SUBSTANTIATED_WEIGHT * _decay(at, now) for at in history.substantiated)
        reasons.append(f"{len(history.substantiated)} substantiated case(s)")
    notices = min(history.guardian_notices, MAX_NOTICES)
    if notices:
        score += NOTICE_WEIGHT * notices
        reasons.append(f"{history.guardian_notices} guardian notice(s)")
    pattern = (
        len(counted) >= 2
        or bool(history.substantiated)
        or (bool(counted) and history.guardian_notices >= NOTICES_THAT_MAKE_A_PATTERN)
    )
    if pattern:
        level = RiskLevel.HISTORY_OF_CONCERN
    elif counted or history.guardian_notices:
        level = RiskLevel.ISOLATED
    else:
        level = RiskLevel.NONE
    return RiskAssessment(
        score=round(min(score, 100.0), 1),
        level=level,
        counted_reports=len(counted),
        distinct_reporters=len(reporters),
        reasons=tuple(reasons),
    )
