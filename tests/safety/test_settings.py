"""An organisation's safety settings: its moderation hours and time zone, deadlines by
severity, and its safeguarding lead and their cover."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hearth_safety.domain import (
    DEFAULT_DEADLINES,
    InvalidSettings,
    OrganisationSettings,
    Severity,
)
from tests.safety.support import rebuilt

LONDON = ZoneInfo("Europe/London")
FRIDAY_4PM = datetime(2026, 1, 9, 16, 0, tzinfo=LONDON)


def test_default_deadlines_are_fifteen_minutes_an_hour_a_day_and_three_days() -> None:
    settings = OrganisationSettings("org-1")
    assert {
        Severity.IMMEDIATE: timedelta(minutes=15),
        Severity.HIGH: timedelta(hours=1),
        Severity.MEDIUM: timedelta(hours=24),
        Severity.LOW: timedelta(hours=72),
    } == DEFAULT_DEADLINES
    # Immediate counts in real time, even as moderation closes for the weekend...
    assert settings.deadline(Severity.IMMEDIATE, FRIDAY_4PM) == FRIDAY_4PM + timedelta(minutes=15)
    assert settings.deadline(Severity.IMMEDIATE, datetime(2026, 1, 10, 3, 0, tzinfo=LONDON)) == (
        datetime(2026, 1, 10, 3, 15, tzinfo=LONDON)
    )
    # ...the others in moderation hours (Monday to Friday, 9 to 5, by default).
    assert settings.deadline(Severity.HIGH, FRIDAY_4PM) == FRIDAY_4PM + timedelta(hours=1)
    assert settings.deadline(Severity.HIGH, FRIDAY_4PM + timedelta(minutes=30)) == datetime(
        2026, 1, 12, 9, 30, tzinfo=LONDON
    )
    # 72 hours: Friday's last one, eight days of eight, and seven on the Thursday after.
    assert settings.deadline(Severity.LOW, FRIDAY_4PM) == datetime(
        2026, 1, 22, 16, 0, tzinfo=LONDON
    )


def test_an_organisation_sets_its_own_hours_and_deadlines() -> None:
    settings = OrganisationSettings("org-1")
    settings.set_hours("Europe/London", {"sat": [["10:00", "14:00"]], "sun": [["10:00", "14:00"]]})
    settings.set_deadlines({Severity.HIGH: 30, Severity.IMMEDIATE: 5})
    copy = rebuilt(settings)
    assert copy.deadlines[Severity.HIGH] == timedelta(minutes=30)
    assert copy.deadlines[Severity.MEDIUM] == timedelta(hours=24)
    assert copy.deadline(Severity.HIGH, FRIDAY_4PM) == datetime(2026, 1, 10, 10, 30, tzinfo=LONDON)
    assert copy.deadline(Severity.IMMEDIATE, FRIDAY_4PM) == FRIDAY_4PM + timedelta(minutes=5)


def test_settings_that_cannot_be_are_refused() -> None:
    settings = OrganisationSettings("org-1")
    with pytest.raises(InvalidSettings, match="time zone"):
        settings.set_hours("Narnia/Lantern", {"mon": [["09:00", "17:00"]]})
    with pytest.raises(InvalidSettings):
        settings.set_deadlines({Severity.LOW: 0})
    with pytest.raises(InvalidSettings):
        settings.set_deadlines({Severity.LOW: 15 * 24 * 60})
    assert settings.deadlines == DEFAULT_DEADLINES


def test_escalation_goes_to_the_lead_on_shift_or_else_their_cover() -> None:
    settings = OrganisationSettings("org-1")
    with pytest.raises(InvalidSettings, match="lead"):
        settings.escalation_target(set())
    settings.name_lead("lead-1")
    assert settings.escalation_target(set()) == ("lead-1", "lead")  # no cover named
    settings.name_cover("cover-1")
    with pytest.raises(InvalidSettings):
        settings.name_cover("lead-1")
    copy = rebuilt(settings)
    assert copy.escalation_target({"lead-1", "mod-1"}) == ("lead-1", "lead")
    assert copy.escalation_target({"mod-1"}) == ("cover-1", "cover")


def test_the_guardian_notice_policy_and_signposting_replay_and_self_harm_never_notifies() -> None:
    settings = OrganisationSettings("org-1")
    assert settings.notice_bands == {"under_13": True, "13_15": False, "16_17": False}
    settings.set_guardian_notices({"13_15": True}, ["bullying", "grooming"])
    settings.set_signposting("  Our team reads reports 9 to 5.  ")
    copy = rebuilt(settings)
    assert copy.notice_bands == {"under_13": False, "13_15": True, "16_17": False}
    assert copy.notice_categories == ("bullying", "grooming")
    assert copy.signposting_text == "Our team reads reports 9 to 5."
    for bands, categories in (
        ({}, ["self_harm"]),
        ({"18_plus": True}, ["grooming"]),
        ({}, ["spam"]),
    ):
        with pytest.raises(InvalidSettings):
            settings.set_guardian_notices(bands, categories)
    with pytest.raises(InvalidSettings):
        settings.set_signposting("x" * 501)
    assert settings.notice_categories == ("bullying", "grooming")
    assert settings.collect_events() == []  # refusals record nothing
