"""Assignment rotates through the moderators on shift and never gives a case to someone in it
or to someone who works with a person in it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hearth_safety.assignment import Candidate, choose_moderator
from hearth_safety.domain import NoEligibleModerator
from tests.safety.support import NOW

CASE = {"stranger", "child"}


def test_the_moderator_assigned_longest_ago_goes_next_and_never_assigned_goes_first() -> None:
    on_shift = [
        Candidate("amy", last_assigned_at=NOW - timedelta(minutes=5)),
        Candidate("bea", last_assigned_at=NOW - timedelta(minutes=50)),
        Candidate("cal"),
    ]
    assert choose_moderator(on_shift, CASE, {}).account_id == "cal"
    on_shift[2] = Candidate("cal", last_assigned_at=NOW)
    assert choose_moderator(on_shift, CASE, {}).account_id == "bea"


def test_a_rotation_over_several_cases_takes_turns() -> None:
    last = {"amy": NOW, "bea": NOW, "cal": NOW}
    chosen = []
    for i in range(6):
        on_shift = [Candidate(m, last_assigned_at=at) for m, at in last.items()]
        pick = choose_moderator(on_shift, CASE, {}).account_id
        chosen.append(pick)
        last[pick] = NOW + timedelta(minutes=i + 1)
    assert chosen == ["amy", "bea", "cal", "amy", "bea", "cal"]


def test_equal_turns_go_to_whoever_holds_fewer_open_cases() -> None:
    on_shift = [Candidate("amy", open_cases=4), Candidate("bea", open_cases=1)]
    assert choose_moderator(on_shift, CASE, {}).account_id == "bea"


def test_nobody_is_given_a_case_about_themselves_or_someone_they_work_with() -> None:
    on_shift = [
        Candidate("stranger"),
        Candidate("youth-worker"),
        Candidate("dan", last_assigned_at=NOW),
    ]
    choice = choose_moderator(on_shift, CASE, {"youth-worker": {"child"}})
    assert choice.account_id == "dan"
    assert choice.passed_over == {
        "stranger": "is part of the case",
        "youth-worker": "has a working relationship with someone in the case",
    }


def test_with_nobody_eligible_the_case_goes_to_the_lead() -> None:
    with pytest.raises(NoEligibleModerator):
        choose_moderator([Candidate("child")], CASE, {})
    with pytest.raises(NoEligibleModerator):
        choose_moderator([], CASE, {})
