"""Triage: the category sets the floor; the scanner's assessment, the ages and roles involved,
and the subject's history raise it; only danger now makes a case immediate."""

from __future__ import annotations

import pytest

from hearth_safety.domain import Category, Severity
from hearth_safety.risk import RiskAssessment, RiskLevel
from hearth_safety.triage import Party, ScannerAssessment, triage

TEEN = Party("young_person", "13_15")
OTHER_TEEN = Party("young_person", "16_17")
ADULT = Party("guardian", "18_plus")
YOUTH_WORKER = Party("practitioner", "18_plus")
HISTORY = RiskAssessment(55.0, RiskLevel.HISTORY_OF_CONCERN, 3, 2, ())
ISOLATED = RiskAssessment(10.0, RiskLevel.ISOLATED, 1, 1, ())


@pytest.mark.parametrize(
    ("category", "severity"),
    [
        (Category.IMMEDIATE_DANGER, Severity.IMMEDIATE),
        (Category.GROOMING, Severity.HIGH),
        (Category.SELF_HARM, Severity.HIGH),
        (Category.CHILD_SEXUAL_ABUSE, Severity.HIGH),
        (Category.BULLYING, Severity.MEDIUM),
        (Category.PERSONAL_INFO, Severity.MEDIUM),
        (Category.SPAM, Severity.LOW),
        (Category.OTHER, Severity.LOW),
    ],
)
def test_between_two_teenagers_the_category_decides(category: Category, severity: Severity) -> None:
    result = triage(category, TEEN, OTHER_TEEN)
    assert result.severity is severity
    assert result.reasons == (f"category {category.value}: {severity.value}",)


def test_an_adult_asking_a_teenager_for_personal_details_is_high() -> None:
    result = triage(Category.PERSONAL_INFO, TEEN, ADULT)
    assert result.severity is Severity.HIGH
    assert "an adult and a child: high" in result.reasons


def test_bullying_by_an_adult_is_not_raised_for_age_alone() -> None:
    assert triage(Category.BULLYING, TEEN, ADULT).severity is Severity.MEDIUM


def test_a_report_about_someone_in_a_position_of_trust_is_raised() -> None:
    result = triage(Category.OTHER, TEEN, YOUTH_WORKER)
    assert result.severity is Severity.MEDIUM
    assert any("position of trust" in r for r in result.reasons)


def test_an_under_13_reporter_is_raised_and_no_band_counts_as_the_youngest() -> None:
    assert triage(Category.BULLYING, Party("child", "under_13"), TEEN).severity is Severity.HIGH
    assert triage(Category.BULLYING, Party("child"), TEEN).severity is Severity.HIGH
    # A person with no band and a young person's role is a child, never an adult.
    assert not Party("young_person").is_adult and Party("young_person").is_child
    assert triage(Category.PERSONAL_INFO, TEEN, Party("young_person")).severity is Severity.MEDIUM


def test_the_scanners_assessment_raises_but_never_lowers() -> None:
    sure = ScannerAssessment({"bullying": 0.95})
    assert triage(Category.BULLYING, TEEN, OTHER_TEEN, sure).severity is Severity.HIGH
    building = ScannerAssessment({"grooming.flattery": 0.3}, conversation_risk=0.85)
    result = triage(Category.SPAM, TEEN, OTHER_TEEN, building)
    assert result.severity is Severity.MEDIUM
    assert "the scanner saw risk build up over the conversation: medium" in result.reasons
    calm = ScannerAssessment({"grooming": 0.0}, conversation_risk=0.0)
    assert triage(Category.GROOMING, TEEN, OTHER_TEEN, calm).severity is Severity.HIGH
    other_family = ScannerAssessment({"self_harm": 0.99})
    assert triage(Category.BULLYING, TEEN, OTHER_TEEN, other_family).severity is Severity.MEDIUM


def test_only_danger_now_is_immediate() -> None:
    danger = ScannerAssessment(immediate_danger=True)
    assert triage(Category.SELF_HARM, TEEN, None, danger).severity is Severity.IMMEDIATE
    everything = ScannerAssessment({"grooming": 1.0}, conversation_risk=1.0)
    result = triage(
        Category.GROOMING, Party("child", "under_13"), YOUTH_WORKER, everything, HISTORY
    )
    assert result.severity is Severity.HIGH  # raises stop at high


def test_a_subject_with_a_history_of_concern_is_raised() -> None:
    result = triage(Category.BULLYING, TEEN, OTHER_TEEN, history=HISTORY)
    assert result.severity is Severity.HIGH
    assert "the subject has a history of concern (3 reports): high" in result.reasons
    assert triage(Category.BULLYING, TEEN, OTHER_TEEN, history=ISOLATED).severity is (
        Severity.MEDIUM
    )


def test_raises_add_up_from_low() -> None:
    result = triage(Category.OTHER, Party("child", "under_13"), YOUTH_WORKER, history=HISTORY)
    assert result.severity is Severity.HIGH
    assert len(result.reasons) == 3  # category, position of trust, under 13 (then capped)
