"""Moderation hours: when an organisation's reports are read, and time counted in those hours.

Moderation guidance asks a service to moderate at stated hours and to signpost help outside
them. An organisation states its weekly hours in its own time zone; a deadline of N hours
for a high, medium or low case is N hours of moderation time after the report (so a report
on Friday evening is due on Monday morning), computed with `zoneinfo` across days, weekends
and clock changes. Immediate cases are counted in real time (see `OrganisationSettings`).
`support_status` tells an app whether reports are being read now, when they will be, and
where to get help meanwhile: Childline 0800 1111, and 999 in danger. Pure: no I/O, no clock.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])|24:00")
_SEARCH_DAYS = 400  # far enough for any deadline over any schedule with at least one period

Period = tuple[time, time | None]  # an end of None is midnight at the end of the day


class InvalidHours(ValueError):
    """A time zone or weekly schedule that cannot be moderation hours."""


@dataclass(frozen=True)
class ModerationHours:
    """Weekly periods in a time zone, Monday first; each period is [start, end)."""

    time_zone: str
    weekly: tuple[tuple[Period, ...], ...]

    @classmethod
    def parse(
        cls, time_zone: str, schedule: Mapping[str, Iterable[Sequence[str]]]
    ) -> ModerationHours:
        """From ``{"mon": [["09:00", "17:00"]], ...}``: days not named are closed."""
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidHours(f"unknown time zone {time_zone!r}") from None
        unknown = set(schedule) - set(WEEKDAYS)
        if unknown:
            raise InvalidHours(f"days are {', '.join(WEEKDAYS)}; not {sorted(unknown)}")
        weekly = []
        for day in WEEKDAYS:
            periods = sorted(_period(day, p) for p in schedule.get(day, ()))
            for (_, end), (start, _) in itertools.pairwise(periods):
                if end is None or end > start:
                    raise InvalidHours(f"{day}: periods overlap")
            weekly.append(tuple(periods))
        if not any(weekly):
            raise InvalidHours("moderation hours need at least one period in the week")
        return cls(time_zone, tuple(weekly))

    @classmethod
    def office_hours(cls, time_zone: str = "Europe/London") -> ModerationHours:
        """The default: Monday to Friday, 09:00 to 17:00."""
        return cls.parse(time_zone, {day: [["09:00", "17:00"]] for day in WEEKDAYS[:5]})

    def to_schedule(self) -> dict[str, list[list[str]]]:
        return {
            day: [[start.strftime("%H:%M"), end.strftime("%H:%M") if end else "24:00"]
                  for start, end in periods]
            for day, periods in zip(WEEKDAYS, self.weekly, strict=True)
            if periods
        }  # fmt: skip

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def periods_from(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open periods (UTC) that end after `at`, in order; the first may have begun."""
        at = _utc(at)
        day = at.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(_SEARCH_DAYS):
            for start, end in self.weekly[day.weekday()]:
                opens = _instant(day, start, self.zone)
                closes = _instant(day, end, self.zone)
                if closes > at:
                    yield opens, closes
            day += timedelta(days=1)

    def is_open(self, at: datetime) -> bool:
        opens, _ = next(self.periods_from(at))
        return opens <= _utc(at)

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself when open now, else when moderation next begins."""
        opens, _ = next(self.periods_from(at))
        return max(opens, _utc(at))

    def closes_at(self, at: datetime) -> datetime | None:
        """When the period open at `at` ends (None when closed)."""
        opens, closes = next(self.periods_from(at))
        return closes if opens <= _utc(at) else None

    def weekly_time(self) -> timedelta:
        """Moderation time in a week (a period open to midnight counts to 24:00)."""
        total = timedelta(0)
        for periods in self.weekly:
            for start, end in periods:
                finish = (
                    timedelta(hours=24)
                    if end is None
                    else timedelta(hours=end.hour, minutes=end.minute)
                )
                total += finish - timedelta(hours=start.hour, minutes=start.minute)
        return total

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of moderation time has passed after `start`."""
        if duration < timedelta(0):
            raise InvalidHours("a duration of moderation time cannot be negative")
        left = duration
        cursor = _utc(start)
        for opens, closes in self.periods_from(cursor):
            begin = max(opens, cursor)
            if begin + left <= closes:
                return begin + left
            left -= closes - begin
        raise InvalidHours("no moderation hours in the coming year")  # unreachable when parsed

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """How much moderation time lies between `start` and `end`."""
        total = timedelta(0)
        start, end = _utc(start), _utc(end)
        for opens, closes in self.periods_from(start):
            if opens >= end:
                break
            total += min(closes, end) - max(opens, start)
        return max(total, timedelta(0))


def _period(day: str, period: Sequence[str]) -> Period:
    if len(period) != 2 or not all(isinstance(p, str) and _CLOCK.fullmatch(p) for p in period):
        raise InvalidHours(f"{day}: a period is [start, end] as HH:MM, got {list(period)!r}")
    start = time.fromisoformat(period[0]) if period[0] != "24:00" else None
    end = time.fromisoformat(period[1]) if period[1] != "24:00" else None
    if start is None or (end is not None and end <= start):
        raise InvalidHours(f"{day}: {period[0]}-{period[1]} does not start before it ends")
    return start, end


def _instant(day: date, clock: time | None, zone: ZoneInfo) -> datetime:
    if clock is None:
        return _instant(day + timedelta(days=1), time(0), zone)
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise InvalidHours("times must be timezone-aware")
    return at.astimezone(UTC)


# --- signposting ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Signpost:
    """Help outside the platform, always shown, prominently when nobody is reading reports."""

    name: str
    phone: str
    when: str


CHILDLINE = Signpost("Childline", "0800 1111", "free and confidential, any time, childline.org.uk")
EMERGENCY = Signpost("Emergency services", "999", "if you or someone else is in danger right now")
SIGNPOSTS = (EMERGENCY, CHILDLINE)


@dataclass(frozen=True)
class SupportStatus:
    """What an app shows beside its report button."""

    open_now: bool
    reports_read_from: datetime
    closes_at: datetime | None
    first_look_by: datetime
    message: str
    signposts: tuple[Signpost, ...]
    signposts_prominent: bool


def support_status(
    hours: ModerationHours, at: datetime, first_look_within: timedelta
) -> SupportStatus:
    """Whether reports are read now, when one made now will be looked at (within
    `first_look_within` of moderation time, the organisation's deadline for a high case),
    and where to get help meanwhile, in plain words."""
    open_now = hours.is_open(at)
    read_from = hours.next_opening(at)
    look_by = hours.add(at, first_look_within)
    if open_now:
        message = (
            "Reports are being read now. If you report something, someone from the safety "
            f"team will look at it by {_when(look_by, at, hours.zone)}."
        )
    else:
        message = (
            "Nobody is reading reports right now. You can still report: reports are read "
            f"from {_when(read_from, at, hours.zone)}. If you need to talk to someone now, "
            "call Childline free on 0800 1111, any time, day or night. If you are in danger "
            "right now, call 999."
        )
    return SupportStatus(
        open_now=open_now,
        reports_read_from=read_from,
        closes_at=hours.closes_at(at),
        first_look_by=look_by,
        message=message,
        signposts=SIGNPOSTS,
        signposts_prominent=not open_now,
    )


def _when(moment: datetime, now: datetime, zone: ZoneInfo) -> str:
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    if local.date() == today:
        return f"{local:%H:%M} today"
    if local.date() == today + timedelta(days=1):
        return f"{local:%H:%M} tomorrow"
    return f"{local:%A} {local.day} {local:%B} at {local:%H:%M}"
