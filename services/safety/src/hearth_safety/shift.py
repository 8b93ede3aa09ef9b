"""A moderator's shift: concerns found on it, and the handover that ends it.

Pure domain (see `domain`). Moderation guidance: hand over at the end of each shift, but
never hand over the duty to report a concern; so a shift with an unreported concern does not
end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from eventsourcing.domain import Aggregate, event

from hearth_proto.hearth.safety.v1 import events_pb2

from .domain import InvalidReport, ShiftEnded, UnreportedConcern, checked_text, name_events

# --- shifts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Handover:
    """What the next moderator needs: when the messages were, keywords, risks seen, and
    whether they looked isolated or part of a pattern."""

    message_times: tuple[str, ...]
    keywords: tuple[str, ...]
    risks: str
    pattern: str  # "isolated" or "cumulative"
    open_case_ids: tuple[str, ...] = ()


class Shift(Aggregate):
    """One moderator's shift; it ends with a handover, never with an unreported concern."""

    @event("Started")
    def __init__(self, organisation_id: str, moderator_id: str, started_at: datetime) -> None:
        self.organisation_id = organisation_id
        self.moderator_id = moderator_id
        self.started_at = started_at
        self.ended_at: datetime | None = None
        self.concerns: dict[str, str | None] = {}  # concern id -> the lead it was reported to
        self.handover: Handover | None = None

    def _check_on(self) -> None:
        if self.ended_at is not None:
            raise ShiftEnded("this shift has ended")

    def hold_concern(self, concern_id: str, case_id: str, at: datetime) -> None:
        """A concern the moderator found on this shift; they report it to the lead."""
        self._check_on()
        if concern_id not in self.concerns:
            self._hold(concern_id=concern_id, case_id=case_id, at=at)

    @event("ConcernHeld")
    def _hold(self, concern_id: str, case_id: str, at: datetime) -> None:
        self.concerns[concern_id] = None

    def report_concern(self, concern_id: str, to_lead: str, at: datetime) -> None:
        if concern_id not in self.concerns:
            raise InvalidReport(f"no concern {concern_id} on this shift")
        if self.concerns[concern_id] is None:
            self._report(concern_id=concern_id, to_lead=to_lead, at=at)

    @event("ConcernReported")
    def _report(self, concern_id: str, to_lead: str, at: datetime) -> None:
        self.concerns[concern_id] = to_lead

    @property
    def unreported(self) -> list[str]:
        return [c for c, lead in self.concerns.items() if lead is None]

    def end(self, handover: Handover, at: datetime) -> None:
        self._check_on()
        if self.unreported:
            raise UnreportedConcern(
                f"report your {len(self.unreported)} concern(s) to the safeguarding lead "
                "before ending the shift: a concern is reported by whoever found it, not "
                "handed over"
            )
        if handover.pattern not in ("isolated", "cumulative"):
            raise InvalidReport("a handover says whether the risk looked isolated or cumulative")
        checked_text(handover.risks, "the handover's risks", required=False)
        self._end(
            message_times=list(handover.message_times),
            keywords=list(handover.keywords),
            risks=handover.risks,
            pattern=handover.pattern,
            open_case_ids=list(handover.open_case_ids),
            at=at,
        )

    @event("Ended")
    def _end(
        self,
        message_times: list[str],
        keywords: list[str],
        risks: str,
        pattern: str,
        open_case_ids: list[str],
        at: datetime,
    ) -> None:
        self.ended_at = at
        self.handover = Handover(
            tuple(message_times), tuple(keywords), risks, pattern, tuple(open_case_ids)
        )


name_events(
    Shift,
    "safety.Shift",
    {
        "Started": events_pb2.ShiftStarted,
        "ConcernHeld": events_pb2.ShiftConcernHeld,
        "ConcernReported": events_pb2.ShiftConcernReported,
        "Ended": events_pb2.ShiftEnded,
    },
)
