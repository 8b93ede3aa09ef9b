"""Triage: a report's severity from its category, the scanner's assessment it may carry, the
ages and roles of the people involved, and the subject's history.

The category sets the floor; each further signal raises the severity one step, up to high.
Only danger now makes a case immediate: the category `immediate_danger`, or the scanner's
flag. Nothing lowers a severity, and the scanner's assessment, which comes from the
reporter's device, can only raise one. Every step is given as a reason, for the case file.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .domain import Category, Severity
from .risk import RiskAssessment, RiskLevel

BASE = {
    Category.IMMEDIATE_DANGER: Severity.IMMEDIATE,
    Category.CHILD_SEXUAL_ABUSE: Severity.HIGH,
    Category.GROOMING: Severity.HIGH,
    Category.SELF_HARM: Severity.HIGH,
    Category.THREAT: Severity.HIGH,
    Category.BULLYING: Severity.MEDIUM,
    Category.HATE: Severity.MEDIUM,
    Category.SEXUAL_CONTENT: Severity.MEDIUM,
    Category.PERSONAL_INFO: Severity.MEDIUM,
    Category.SPAM: Severity.LOW,
    Category.OTHER: Severity.LOW,
}
# Where an adult's contact with a child is itself the risk.
ADULT_TO_CHILD = frozenset(
    {
        Category.CHILD_SEXUAL_ABUSE,
        Category.GROOMING,
        Category.SEXUAL_CONTENT,
        Category.PERSONAL_INFO,
        Category.THREAT,
    }
)
ADULT_ROLES = frozenset(
    {"guardian", "practitioner", "moderator", "safeguarding_lead", "org_admin", "auditor"}
)
TRUSTED_ROLES = frozenset({"practitioner", "moderator", "safeguarding_lead", "org_admin"})
CHILD_BANDS = frozenset({"under_13", "13_15", "16_17"})
HIGH_SCORE = 0.8


@dataclass(frozen=True)
class Party:
    """A person in a report as identity knows them: role and attested band ("" if none)."""

    role: str
    band: str = ""

    @property
    def is_child(self) -> bool:
        # No band attested: the youngest band they could be (identity's rule).
        return self.band in CHILD_BANDS or (not self.band and self.role not in ADULT_ROLES)

    @property
    def is_under_13(self) -> bool:
        return self.band == "under_13" or (not self.band and self.role == "child")

    @property
    def is_adult(self) -> bool:
        return self.band == "18_plus" or (not self.band and self.role in ADULT_ROLES)


@dataclass(frozen=True)
class ScannerAssessment:
    """What the on-device scanner said, if the report carries it: scores by category or
    indicator ("grooming", "grooming.secrecy"...), the conversation's risk, danger now."""

    scores: Mapping[str, float] = field(default_factory=dict)
    conversation_risk: float = 0.0
    immediate_danger: bool = False

    def to_scores(self) -> dict[str, float]:
        """The flat form a report and its event carry (a map of scores)."""
        return {
            **self.scores,
            "conversation_risk": self.conversation_risk,
            "immediate_danger": 1.0 if self.immediate_danger else 0.0,
        }

    @classmethod
    def from_scores(cls, scores: Mapping[str, float]) -> ScannerAssessment:
        flags = ("conversation_risk", "immediate_danger")
        return cls(
            {k: v for k, v in scores.items() if k not in flags},
            scores.get("conversation_risk", 0.0),
            scores.get("immediate_danger", 0.0) >= 0.5,
        )


@dataclass(frozen=True)
class Triage:
    severity: Severity
    reasons: tuple[str, ...]


def triage(
    category: Category,
    reporter: Party,
    subject: Party | None = None,
    assessment: ScannerAssessment | None = None,
    history: RiskAssessment | None = None,
) -> Triage:
    severity = BASE[Category(category)]
    reasons = [f"category {category.value}: {severity.value}"]
    if assessment is not None and assessment.immediate_danger:
        severity = Severity.IMMEDIATE
        reasons.append("the scanner flagged immediate danger: immediate")

    def raise_for(why: str) -> None:
        nonlocal severity
        if severity in (Severity.IMMEDIATE, Severity.HIGH):
            return
        severity = Severity.HIGH if severity is Severity.MEDIUM else Severity.MEDIUM
        reasons.append(f"{why}: {severity.value}")

    if assessment is not None:
        family = [v for k, v in assessment.scores.items() if k.split(".")[0] == category.value]
        if max(family, default=0.0) >= HIGH_SCORE:
            raise_for("the scanner scored this category high")
        if assessment.conversation_risk >= HIGH_SCORE:
            raise_for("the scanner saw risk build up over the conversation")
    if subject is not None:
        if subject.is_adult and reporter.is_child and category in ADULT_TO_CHILD:
            raise_for("an adult and a child")
        if subject.role in TRUSTED_ROLES and reporter.is_child:
            raise_for("about someone in a position of trust")
    if reporter.is_under_13 and category is not Category.SPAM:
        raise_for("the reporter is under 13")
    if history is not None and history.level is RiskLevel.HISTORY_OF_CONCERN:
        raise_for(f"the subject has a history of concern ({history.counted_reports} reports)")
    return Triage(severity, tuple(reasons))
