"""Shifts and handover: a moderator hands over what the next one needs, but a concern they
found is reported to the safeguarding lead by them, not handed over."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hearth_safety.domain import InvalidReport, ShiftEnded, UnreportedConcern
from hearth_safety.shift import Handover, Shift
from tests.safety.support import NOW, account, rebuilt

HANDOVER = Handover(
    message_times=("21:10", "21:40"),
    keywords=("secret", "snapchat"),
    risks="an adult asking a 13-year-old to move apps",
    pattern="cumulative",
    open_case_ids=("case-1",),
)


def test_a_shift_ends_with_a_handover_for_the_next_moderator() -> None:
    shift = Shift("org-1", account(), NOW)
    shift.end(HANDOVER, NOW + timedelta(hours=8))
    copy = rebuilt(shift)
    assert copy.ended_at == NOW + timedelta(hours=8)
    assert copy.handover == HANDOVER


def test_a_shift_with_an_unreported_concern_does_not_end() -> None:
    shift = Shift("org-1", account(), NOW)
    shift.hold_concern("concern-1", "case-1", NOW + timedelta(hours=1))
    with pytest.raises(UnreportedConcern, match="not handed over"):
        shift.end(HANDOVER, NOW + timedelta(hours=8))
    assert shift.ended_at is None
    shift.report_concern("concern-1", "lead-1", NOW + timedelta(hours=2))
    shift.end(HANDOVER, NOW + timedelta(hours=8))
    copy = rebuilt(shift)
    assert copy.concerns == {"concern-1": "lead-1"} and copy.unreported == []


def test_an_ended_shift_takes_nothing_more() -> None:
    shift = Shift("org-1", account(), NOW)
    shift.end(HANDOVER, NOW)
    with pytest.raises(ShiftEnded):
        shift.hold_concern("concern-2", "case-2", NOW)
    with pytest.raises(ShiftEnded):
        shift.end(HANDOVER, NOW)


def test_a_handover_says_whether_the_risk_was_isolated_or_cumulative() -> None:
    shift = Shift("org-1", account(), NOW)
    with pytest.raises(InvalidReport, match="isolated or cumulative"):
        shift.end(Handover((), (), "", "unsure"), NOW)
    with pytest.raises(InvalidReport):
        shift.report_concern("never-held", "lead-1", NOW)
