"""Case work as moderation practice asks: a report opens a case about its subject, later
reports join it, a moderator is assigned, notes are kept, the case escalates to the
safeguarding lead who suspends and refers, an outcome is recorded, the case closes and can
reopen; everything refused that the rules refuse, and the case rebuilt from its events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hearth_safety.case import SafeguardingCase
from hearth_safety.domain import (
    ActionKind,
    CaseClosed,
    CaseOpen,
    ConflictOfInterest,
    InvalidAction,
    InvalidReport,
    NeedsLead,
    NotAssigned,
    Outcome,
    OutcomeRequired,
    Referral,
    Severity,
    Staff,
    StaffRole,
    UnknownAction,
)
from tests.safety.support import NOW, account, lead, moderator, rebuilt

STRANGER, CHILD = account(), account()


def opened(severity: Severity = Severity.HIGH) -> SafeguardingCase:
    return SafeguardingCase.open(
        organisation_id="org-1",
        subject_account_id=STRANGER,
        report_id="report-1",
        involved=[CHILD],
        severity=severity,
        deadline=NOW + timedelta(hours=1),
        at=NOW,
    )


def test_the_story_of_a_case_from_report_to_closure() -> None:
    case = opened(Severity.MEDIUM)
    mod, sgl = moderator(), lead()

    case.join("report-2", [account()], Severity.HIGH, NOW + timedelta(minutes=30))
    assert case.severity is Severity.HIGH
    assert case.deadline == NOW + timedelta(minutes=30)
    case.join("report-3", [], Severity.LOW, NOW + timedelta(hours=72))
    assert case.severity is Severity.HIGH  # severity only rises
    assert case.deadline == NOW + timedelta(minutes=30)  # and the deadline only nears
    case.join("report-3", [], Severity.LOW, NOW)  # a repeat changes nothing
    assert case.report_ids == ["report-1", "report-2", "report-3"]

    case.assign(mod.account_id, NOW)
    case.read_content(mod, "report-1", NOW + timedelta(minutes=1))
    case.add_note(mod, b"sealed: asks for photos, suggests moving app", NOW + timedelta(minutes=2))
    case.escalate(
        sgl.account_id, "lead", "grooming pattern; adult", NOW + timedelta(minutes=3), by=mod
    )
    suspended = case.take_action(
        sgl,
        ActionKind.SUSPEND,
        "pattern of grooming",
        NOW + timedelta(minutes=4),
        accounts=[STRANGER],
    )
    case.take_action(
        sgl,
        ActionKind.REFER,
        "possible offence against a child",
        NOW + timedelta(minutes=5),
        accounts=[STRANGER],
        referral=Referral.CEOP,
    )
    assert case.first_action_at == NOW + timedelta(minutes=4)
    assert not case.is_overdue(NOW + timedelta(hours=2))
    case.record_outcome(sgl, Outcome.REFERRED, "referred to CEOP", NOW + timedelta(minutes=6))
    case.close(sgl, "referred; account suspended", NOW + timedelta(minutes=7))
    assert case.closed

    copy = rebuilt(case)
    assert copy.closed and copy.outcome is Outcome.REFERRED
    assert copy.severity is Severity.HIGH and copy.assigned_to == mod.account_id
    assert copy.escalated_to == sgl.account_id
    assert copy.actions[suspended].kind is ActionKind.SUSPEND
    assert copy.actions[suspended].by == sgl.account_id
    assert copy.actions[suspended].reason == "pattern of grooming"
    assert copy.notes[0][2] == b"sealed: asks for photos, suggests moving app"
    assert copy.reads == [(mod.account_id, "report-1", NOW + timedelta(minutes=1))]
    assert copy.involved == {STRANGER, CHILD, *case.involved}


def test_only_staff_on_the_case_act_on_it_or_read_it() -> None:
    case = opened()
    mod, other = moderator(), moderator()
    case.assign(mod.account_id, NOW)
    with pytest.raises(NotAssigned):
        case.add_note(other, b"sealed", NOW)
    with pytest.raises(NotAssigned):
        case.read_content(other, "report-1", NOW)
    with pytest.raises(NotAssigned):
        case.take_action(other, ActionKind.WARN, "why", NOW, accounts=[STRANGER])
    assert not case.reads and not case.notes
    case.read_content(lead(), "report-1", NOW)  # the lead may read any case
    with pytest.raises(InvalidReport):
        case.read_content(mod, "report-from-elsewhere", NOW)


def test_nobody_works_on_a_case_they_are_part_of() -> None:
    case = opened()
    with pytest.raises(ConflictOfInterest):
        case.assign(STRANGER, NOW)
    with pytest.raises(ConflictOfInterest):
        case.assign(CHILD, NOW)
    practitioner = account()
    with pytest.raises(ConflictOfInterest, match="works with"):
        case.assign(practitioner, NOW, works_with=[CHILD])
    with pytest.raises(ConflictOfInterest):  # not even a lead who is the subject
        case.read_content(Staff(STRANGER, StaffRole.SAFEGUARDING_LEAD), "report-1", NOW)
    assert case.assigned_to is None


def test_a_moderator_cannot_suspend_refer_or_close_a_serious_case() -> None:
    case = opened(Severity.HIGH)
    mod = moderator()
    case.assign(mod.account_id, NOW)
    with pytest.raises(NeedsLead):
        case.take_action(mod, ActionKind.SUSPEND, "why", NOW, accounts=[STRANGER])
    with pytest.raises(NeedsLead):
        case.take_action(
            mod, ActionKind.REFER, "why", NOW, accounts=[STRANGER], referral=Referral.POLICE
        )
    case.take_action(mod, ActionKind.WARN, "unkind words", NOW, accounts=[STRANGER])
    case.record_outcome(mod, Outcome.CONCERN_ADDRESSED, "warned", NOW)
    with pytest.raises(NeedsLead):
        case.close(mod, "done", NOW)
    with pytest.raises(NeedsLead):
        case.assign(moderator().account_id, NOW, by=mod)
    assert not case.closed


def test_a_moderator_closes_a_low_case_after_recording_its_outcome() -> None:
    case = opened(Severity.LOW)
    mod = moderator()
    case.assign(mod.account_id, NOW)
    with pytest.raises(OutcomeRequired):
        case.close(mod, "nothing to see", NOW)
    case.record_outcome(mod, Outcome.NO_CONCERN, "an isolated joke", NOW)
    with pytest.raises(InvalidReport, match="required"):
        case.close(mod, "  ", NOW)
    case.close(mod, "an isolated joke between friends", NOW)
    assert case.closed and case.closure_reason == "an isolated joke between friends"
    with pytest.raises(CaseClosed):
        case.add_note(mod, b"sealed", NOW)
    with pytest.raises(CaseClosed):
        case.join("report-9", [], Severity.LOW, NOW)


def test_a_closed_case_reopens_with_a_new_deadline_and_no_outcome() -> None:
    case = opened(Severity.LOW)
    mod = moderator()
    case.assign(mod.account_id, NOW)
    with pytest.raises(CaseOpen):
        case.reopen(mod, "why", NOW, NOW)
    case.record_outcome(mod, Outcome.NO_CONCERN, "isolated", NOW)
    case.close(mod, "isolated", NOW)
    with pytest.raises(NotAssigned):
        case.reopen(moderator(), "why", NOW, NOW)
    case.reopen(mod, "the child says it happened again", NOW + timedelta(days=2), NOW)
    copy = rebuilt(case)
    assert not copy.closed and copy.outcome is None
    assert copy.deadline == NOW + timedelta(days=2)


@pytest.mark.parametrize(
    ("kind", "accounts", "conversation", "referral", "says"),
    [
        (ActionKind.BLOCK, [STRANGER], "", None, "names 2 accounts"),
        (ActionKind.WARN, [STRANGER, CHILD], "", None, "names 1 account"),
        (ActionKind.REMOVE, [STRANGER], "", None, "conversation"),
        (ActionKind.WARN, [STRANGER], "conv-1", None, "conversation"),
        (ActionKind.REFER, [STRANGER], "", None, "referral"),
        (ActionKind.WARN, [STRANGER], "", Referral.POLICE, "referral"),
    ],
)
def test_an_action_says_whom_it_is_against(
    kind: ActionKind,
    accounts: list[str],
    conversation: str,
    referral: Referral | None,
    says: str,
) -> None:
    case = opened()
    with pytest.raises(InvalidAction, match=says):
        case.take_action(
            lead(),
            kind,
            "why",
            NOW,
            accounts=accounts,
            conversation_id=conversation,
            referral=referral,
        )
    assert not case.actions


def test_block_and_remove_name_two_accounts_and_a_conversation() -> None:
    case = opened()
    sgl = lead()
    block = case.take_action(sgl, ActionKind.BLOCK, "no contact", NOW, accounts=[STRANGER, CHILD])
    case.take_action(
        sgl, ActionKind.REMOVE, "off the group", NOW, accounts=[STRANGER], conversation_id="conv-1"
    )
    copy = rebuilt(case)
    assert copy.actions[block].accounts == (STRANGER, CHILD)
    assert [a.conversation_id for a in copy.active_actions()] == ["", "conv-1"]


def test_lifting_an_action_ends_it_and_only_some_actions_lift() -> None:
    case = opened()
    sgl, mod = lead(), moderator()
    case.assign(mod.account_id, NOW)
    suspended = case.take_action(
        sgl, ActionKind.SUSPEND, "pending review", NOW, accounts=[STRANGER]
    )
    warned = case.take_action(mod, ActionKind.WARN, "language", NOW, accounts=[STRANGER])
    with pytest.raises(NeedsLead):
        case.lift_action(mod, suspended, "reviewed", NOW)
    with pytest.raises(InvalidAction):
        case.lift_action(sgl, warned, "reviewed", NOW)
    with pytest.raises(UnknownAction):
        case.lift_action(sgl, "no-such-action", "reviewed", NOW)
    case.lift_action(sgl, suspended, "reviewed: no further risk", NOW + timedelta(hours=1))
    copy = rebuilt(case)
    assert copy.actions[suspended].lifted_at == NOW + timedelta(hours=1)
    assert [a.action_id for a in copy.active_actions()] == [warned]


def test_an_overdue_case_escalates_by_itself_and_the_cover_acts_as_lead() -> None:
    case = opened(Severity.HIGH)
    assert not case.is_overdue(NOW + timedelta(minutes=59))
    assert case.is_overdue(NOW + timedelta(hours=1))
    cover = moderator()  # the lead's named cover may be a senior moderator
    case.escalate(cover.account_id, "cover", "deadline passed", NOW + timedelta(hours=1))
    assert case.escalations[0]["by"] == "deadline"
    case.take_action(cover, ActionKind.SUSPEND, "immediate risk", NOW, accounts=[STRANGER])
    case.record_outcome(cover, Outcome.SUBSTANTIATED, "confirmed", NOW)
    case.close(cover, "handled by cover", NOW)
    assert rebuilt(case).closed
    with pytest.raises(ConflictOfInterest):
        opened().escalate(CHILD, "lead", "why", NOW)
