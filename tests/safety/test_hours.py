"""Moderation hours: deadlines counted in an organisation's hours and time zone, and the
support status an app shows beside its report button."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hearth_safety.hours import CHILDLINE, EMERGENCY, InvalidHours, ModerationHours, support_status

LONDON = ZoneInfo("Europe/London")
OFFICE = ModerationHours.office_hours("Europe/London")  # Mon-Fri 09:00-17:00


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[arg-type, misc]


def test_an_hour_of_moderation_on_a_friday_afternoon_ends_on_monday_morning() -> None:
    reported = london(2026, 1, 9, 16, 30)  # Friday
    assert OFFICE.add(reported, timedelta(hours=1)) == london(2026, 1, 12, 9, 30)


def test_a_report_at_night_starts_counting_when_moderation_opens() -> None:
    reported = london(2026, 1, 13, 23, 0)  # Tuesday night
    assert OFFICE.add(reported, timedelta(hours=1)) == london(2026, 1, 14, 10, 0)


def test_a_report_on_saturday_is_due_in_the_week() -> None:
    reported = london(2026, 1, 10, 12, 0)  # Saturday
    # Monday, Tuesday and Wednesday of eight hours each.
    assert OFFICE.add(reported, timedelta(hours=24)) == london(2026, 1, 14, 17, 0)


def test_deadlines_across_the_clocks_going_forward_count_real_hours() -> None:
    """Clocks go forward on Sunday 29 March 2026: 24 moderation hours from Friday 16:00 are
    Friday's 1, Monday's 8, Tuesday's 8 and 7 on Wednesday, 16:00 in summer time."""
    due = OFFICE.add(london(2026, 3, 27, 16, 0), timedelta(hours=24))
    assert due == london(2026, 4, 1, 16, 0)
    assert due.astimezone(UTC) == datetime(2026, 4, 1, 15, 0, tzinfo=UTC)
    assert OFFICE.elapsed(london(2026, 3, 27, 16, 0), due) == timedelta(hours=24)


def test_another_time_zone_counts_in_its_own_hours() -> None:
    sydney = ModerationHours.parse("Australia/Sydney", {"mon": [["09:00", "17:00"]]})
    monday_9am_sydney = datetime(2026, 1, 11, 22, 0, tzinfo=UTC)  # AEDT is UTC+11
    assert sydney.is_open(monday_9am_sydney)
    assert not sydney.is_open(monday_9am_sydney - timedelta(minutes=1))
    assert sydney.add(monday_9am_sydney - timedelta(hours=5), timedelta(hours=8)) == (
        monday_9am_sydney + timedelta(hours=8)
    )


def test_several_periods_a_day_and_round_the_clock_weekends() -> None:
    hours = ModerationHours.parse(
        "Europe/London",
        {
            "mon": [["16:00", "20:00"], ["08:00", "10:00"]],
            "sat": [["00:00", "24:00"]],
            "sun": [["00:00", "24:00"]],
        },
    )
    assert hours.add(london(2026, 1, 12, 9, 0), timedelta(hours=2)) == london(2026, 1, 12, 17, 0)
    assert hours.add(london(2026, 1, 17, 23, 30), timedelta(hours=1)) == london(2026, 1, 18, 0, 30)
    assert hours.to_schedule()["mon"] == [["08:00", "10:00"], ["16:00", "20:00"]]
    assert hours.to_schedule()["sat"] == [["00:00", "24:00"]]
    assert ModerationHours.parse("Europe/London", hours.to_schedule()) == hours


def test_open_now_next_opening_and_closing() -> None:
    assert OFFICE.is_open(london(2026, 1, 12, 9, 0))
    assert not OFFICE.is_open(london(2026, 1, 12, 17, 0))  # periods end before their end
    assert OFFICE.next_opening(london(2026, 1, 9, 17, 30)) == london(2026, 1, 12, 9, 0)
    assert OFFICE.closes_at(london(2026, 1, 12, 12, 0)) == london(2026, 1, 12, 17, 0)
    assert OFFICE.closes_at(london(2026, 1, 12, 18, 0)) is None


@pytest.mark.parametrize(
    ("time_zone", "schedule", "says"),
    [
        ("Mars/Olympus", {"mon": [["09:00", "17:00"]]}, "unknown time zone"),
        ("Europe/London", {}, "at least one period"),
        ("Europe/London", {"funday": [["09:00", "17:00"]]}, "days are"),
        ("Europe/London", {"mon": [["17:00", "09:00"]]}, "does not start before"),
        ("Europe/London", {"mon": [["9am", "5pm"]]}, "HH:MM"),
        ("Europe/London", {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}, "overlap"),
    ],
)
def test_hours_that_cannot_be_are_refused(
    time_zone: str, schedule: dict[str, list[list[str]]], says: str
) -> None:
    with pytest.raises(InvalidHours, match=says):
        ModerationHours.parse(time_zone, schedule)


def test_naive_times_are_refused() -> None:
    with pytest.raises(InvalidHours, match="timezone-aware"):
        OFFICE.is_open(datetime(2026, 1, 12, 10, 0))


def test_in_hours_the_app_says_reports_are_read_and_by_when() -> None:
    status = support_status(OFFICE, london(2026, 1, 12, 10, 0), timedelta(hours=1))
    assert status.open_now and not status.signposts_prominent
    assert status.first_look_by == london(2026, 1, 12, 11, 0)
    assert "being read now" in status.message and "11:00 today" in status.message
    assert status.closes_at == london(2026, 1, 12, 17, 0)
    assert CHILDLINE in status.signposts and EMERGENCY in status.signposts


def test_outside_hours_the_app_shows_childline_and_999_prominently() -> None:
    status = support_status(OFFICE, london(2026, 1, 9, 20, 0), timedelta(hours=1))  # Friday
    assert not status.open_now and status.signposts_prominent
    assert status.reports_read_from == london(2026, 1, 12, 9, 0)
    assert status.first_look_by == london(2026, 1, 12, 10, 0)
    assert "Nobody is reading reports right now" in status.message
    assert "Monday 12 January at 09:00" in status.message
    assert "0800 1111" in status.message and "999" in status.message
    assert status.closes_at is None
    assert (CHILDLINE.phone, EMERGENCY.phone) == ("0800 1111", "999")
