"""Safety's domain: its refusals, its words, and the aggregates of subjects and organisations.

Pure domain: no I/O, no clock (every time is passed in). The aggregates live beside this
module, one a module: `report.Report` (a verified report or a concern),
`case.SafeguardingCase` (case work), `shift.Shift` (shifts and handover), and here
`SubjectFile` (one person's history across cases) and `OrganisationSettings` (moderation
hours, deadlines, the safeguarding lead and cover). Reported content and staff notes reach
them already sealed under the case's key by the application, so no event holds a message or
a note in the clear. Each command checks before it records: a refusal is one of the runtime's
error family (`hearth_runtime.errors`) with a stable `reason`, so the interceptor answers it
with its status and ErrorInfo. Public commands validate, then call an `@event` method whose body
only applies what was recorded, so replaying the log never refuses.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.domain import Aggregate, event

from hearth_eventlog.published import aggregate_name, published
from hearth_proto.hearth.safety.v1 import events_pb2
from hearth_runtime.errors import (
    Conflict,
    Exhausted,
    HearthError,
    Invalid,
    NotFound,
    Refused,
)

from .hours import InvalidHours, ModerationHours

NAMESPACE = uuid.UUID("5a4e7c1d-93b2-4f0e-8a61-2c7d0b9e4f13")
MAX_CONTEXT = 20
MAX_NOTE_CHARS = 2000


def derived_id(kind: str, *parts: str) -> uuid.UUID:
    """An aggregate id derived from what names it, so a retry finds the same aggregate."""
    return uuid.uuid5(NAMESPACE, "\x1f".join((kind, *parts)))


# --- refusals -------------------------------------------------------------------------------


class InvalidReport(Invalid):
    reason = "INVALID_REPORT"


class ReportNotVerified(Invalid):
    """A franked message of a report failed a check; `check` names it, `index` the message
    (None for the reported message, 0.. for the context, oldest first). Both are in the
    ErrorInfo's metadata."""

    reason = "REPORT_NOT_VERIFIED"

    def __init__(self, check: str, message: str, index: int | None = None) -> None:
        where = "the reported message" if index is None else f"context message {index}"
        metadata = {"check": check, "message": "reported" if index is None else str(index)}
        super().__init__(f"{where}: {message} (check: {check})", metadata=metadata)
        self.check = check
        self.index = index


class NotReceived(Refused):
    """The reporter's device neither received nor sent the reported message."""

    reason = "REPORT_NOT_RECEIVED"

    def __init__(self, message: str, index: int | None = None) -> None:
        where = "the reported message" if index is None else f"context message {index}"
        metadata = {"check": "recipient", "message": "reported" if index is None else str(index)}
        super().__init__(f"{where}: {message} (check: recipient)", metadata=metadata)
        self.check = "recipient"
        self.index = index


class ContextTooLarge(Exhausted):
    reason = "CONTEXT_TOO_LARGE"


class NotAssigned(Refused):
    """Acting on a case one is neither assigned to nor escalated to, nor its lead."""

    reason = "NOT_ASSIGNED"


class NeedsLead(Refused):
    """Only the safeguarding lead (or the cover the case was escalated to) may do this."""

    reason = "NEEDS_SAFEGUARDING_LEAD"


class ConflictOfInterest(Refused):
    reason = "CONFLICT_OF_INTEREST"


class NoEligibleModerator(LookupError):
    """No moderator on shift may take a case; never answered to a client: the case waits
    for the safeguarding lead."""


class CaseClosed(Conflict):
    reason = "CASE_CLOSED"


class CaseOpen(Conflict):
    reason = "CASE_OPEN"


class OutcomeRequired(Conflict):
    reason = "OUTCOME_REQUIRED"


class InvalidAction(Invalid):
    reason = "INVALID_ACTION"


class UnknownAction(NotFound):
    reason = "UNKNOWN_ACTION"


class ShiftEnded(Conflict):
    reason = "SHIFT_ENDED"


class UnreportedConcern(Conflict):
    """Concerns are reported to the lead by whoever found them; they are never handed over."""

    reason = "UNREPORTED_CONCERN"


class InvalidSettings(Invalid):
    reason = "INVALID_SETTINGS"


SafetyError = HearthError  # every refusal above is one of the runtime's family


# --- the words of the domain ----------------------------------------------------------------


class Severity(enum.StrEnum):
    IMMEDIATE = "immediate"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for immediate, 3 for low: a queue sorts by it."""
        return list(Severity).index(self)


class Category(enum.StrEnum):
    IMMEDIATE_DANGER = "immediate_danger"
    CHILD_SEXUAL_ABUSE = "child_sexual_abuse"
    GROOMING = "grooming"
    SELF_HARM = "self_harm"
    THREAT = "threat"
    BULLYING = "bullying"
    HATE = "hate"
    SEXUAL_CONTENT = "sexual_content"
    PERSONAL_INFO = "personal_info"
    SPAM = "spam"
    OTHER = "other"


class ActionKind(enum.StrEnum):
    WARN = "warn"
    RESTRICT = "restrict"  # no new conversations or members
    SUSPEND = "suspend"  # no sending
    BLOCK = "block"  # no contact between two accounts
    REMOVE = "remove"  # from a conversation
    REFER = "refer"


class Referral(enum.StrEnum):
    POLICE = "police"
    CEOP = "ceop"
    CHILDRENS_SERVICES = "childrens_services"  # the local authority's
    NSPCC_HELPLINE = "nspcc_helpline"  # 0808 800 5000


class Outcome(enum.StrEnum):
    NO_CONCERN = "no_concern"
    CONCERN_ADDRESSED = "concern_addressed"
    SUBSTANTIATED = "substantiated"
    REFERRED = "referred"
    UNFOUNDED = "unfounded"


class StaffRole(enum.StrEnum):
    MODERATOR = "moderator"
    SAFEGUARDING_LEAD = "safeguarding_lead"


@dataclass(frozen=True)
class Staff:
    """Who acts: their account and the role their session carries."""

    account_id: str
    role: StaffRole


LEAD_ACTIONS = frozenset({ActionKind.SUSPEND, ActionKind.REFER})
WHO_SEES_A_CONCERN = (
    "The safety team of your organisation will read this: the moderators on duty and the "
    "safeguarding lead. We cannot promise to keep it secret: if you or someone else may be in "
    "danger, we will share it with the people who can help keep you safe, such as the police "
    "or children's services. If you are in danger right now, call 999. To talk to someone "
    "now, call Childline free on 0800 1111."
)


def checked_text(value: str, what: str, *, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidReport(f"{what} is required")
    if len(value) > MAX_NOTE_CHARS:
        raise InvalidReport(f"{what} is at most {MAX_NOTE_CHARS} characters")
    return value


# --- a subject's file -----------------------------------------------------------------------


class SubjectFile(Aggregate):
    """Everything safety knows about one person of one organisation across cases: their open
    case, every report about them and each case's outcome, and guardian notices."""

    @staticmethod
    def create_id(organisation_id: str, subject_account_id: str) -> uuid.UUID:
        return derived_id("subject", organisation_id, subject_account_id)

    @event("Started")
    def __init__(self, organisation_id: str, subject_account_id: str) -> None:
        self.organisation_id = organisation_id
        self.subject_account_id = subject_account_id
        self.open_case_id: str | None = None
        self.reports: list[dict[str, Any]] = []
        self.outcomes: dict[str, str] = {}  # case id -> outcome
        self.guardian_notices = 0

    @event("ReportNoted")
    def note_report(
        self,
        report_id: str,
        case_id: str,
        category: str,
        severity: str,
        reporter: str,
        at: datetime,
    ) -> None:
        self.reports.append(
            {
                "report_id": report_id,
                "case_id": case_id,
                "category": category,
                "severity": severity,
                "reporter": reporter,
                "at": at,
            }
        )
        self.open_case_id = case_id

    @event("CaseClosed")
    def note_closed(self, case_id: str, outcome: str) -> None:
        self.outcomes[case_id] = outcome
        if self.open_case_id == case_id:
            self.open_case_id = None

    @event("CaseReopened")
    def note_reopened(self, case_id: str) -> None:
        self.outcomes.pop(case_id, None)
        self.open_case_id = case_id

    @event("GuardianNoticesNoted")
    def note_guardian_notices(self, count: int) -> None:
        self.guardian_notices += count


# --- an organisation's safety settings ------------------------------------------------------

# Guardian notices (a category, never words, sent by the child's device): by default on for
# under-13s only, for grooming and bullying. Self-harm and disclosures never notify a
# guardian: the family may be the source of harm.
NOTICE_BANDS = ("under_13", "13_15", "16_17")
NOTICE_CATEGORIES = ("grooming", "bullying", "personal_info")
NEVER_NOTICE = frozenset({"self_harm", "disclosure"})
DEFAULT_NOTICE_BANDS = {"under_13": True, "13_15": False, "16_17": False}
DEFAULT_NOTICE_CATEGORIES = ("grooming", "bullying")
MAX_SIGNPOSTING_CHARS = 500

DEFAULT_DEADLINES = {
    Severity.IMMEDIATE: timedelta(minutes=15),  # real time, whatever the hours
    Severity.HIGH: timedelta(hours=1),
    Severity.MEDIUM: timedelta(hours=24),
    Severity.LOW: timedelta(hours=72),
}


class OrganisationSettings(Aggregate):
    """Moderation hours and time zone, deadlines by severity, the safeguarding lead and cover,
    the guardian-notice policy and the organisation's own signposting text."""

    @staticmethod
    def create_id(organisation_id: str) -> uuid.UUID:
        return derived_id("settings", organisation_id)

    @event("Started")
    def __init__(self, organisation_id: str) -> None:
        self.organisation_id = organisation_id
        self.hours = ModerationHours.office_hours()
        self.deadlines = dict(DEFAULT_DEADLINES)
        self.lead: str | None = None
        self.cover: str | None = None
        self.notice_bands = dict(DEFAULT_NOTICE_BANDS)
        self.notice_categories: tuple[str, ...] = DEFAULT_NOTICE_CATEGORIES
        self.signposting_text = ""

    def set_hours(self, time_zone: str, schedule: Mapping[str, Iterable[Sequence[str]]]) -> None:
        try:
            hours = ModerationHours.parse(time_zone, schedule)
        except InvalidHours as e:
            raise InvalidSettings(str(e)) from None
        self._check_fits(hours, self.deadlines)
        periods = hours.to_schedule()
        self._hours(
            time_zone=hours.time_zone,
            schedule={d: ",".join(f"{a}-{b}" for a, b in p) for d, p in periods.items() if p},
        )

    @event("HoursSet")
    def _hours(self, time_zone: str, schedule: dict[str, str]) -> None:
        # Stored as {"mon": "09:00-17:00,18:00-20:00"}: the schema's map of strings.
        periods = {d: [p.split("-") for p in text.split(",")] for d, text in schedule.items()}
        self.hours = ModerationHours.parse(time_zone, periods)

    def set_deadlines(self, minutes: Mapping[Severity, int]) -> None:
        for severity, value in minutes.items():
            if not 1 <= value <= 14 * 24 * 60:
                raise InvalidSettings(f"the {Severity(severity)} deadline is 1 minute to 14 days")
        wanted = {
            **self.deadlines,
            **{Severity(s): timedelta(minutes=m) for s, m in minutes.items()},
        }
        self._check_fits(self.hours, wanted)
        self._deadlines(minutes={Severity(s).value: int(m) for s, m in minutes.items()})

    @event("DeadlinesSet")
    def _deadlines(self, minutes: dict[str, int]) -> None:
        for severity, value in minutes.items():
            self.deadlines[Severity(severity)] = timedelta(minutes=value)

    @staticmethod
    def _check_fits(hours: ModerationHours, deadlines: Mapping[Severity, timedelta]) -> None:
        """Every deadline counted in moderation time falls within half a year."""
        weekly = hours.weekly_time()
        for severity, allowed in deadlines.items():
            if severity is not Severity.IMMEDIATE and allowed > weekly * 26:
                raise InvalidSettings(
                    f"with {weekly} of moderation a week, the {severity.value} deadline of "
                    f"{allowed} would take over half a year: widen the hours or shorten it"
                )

    def deadline(self, severity: Severity, at: datetime) -> datetime:
        """When a case of `severity` raised at `at` is due: immediate in real time, the
        others in moderation hours."""
        allowed = self.deadlines[Severity(severity)]
        if severity is Severity.IMMEDIATE:
            return at + allowed
        return self.hours.add(at, allowed)

    def name_lead(self, account_id: str) -> None:
        if account_id == self.cover:
            raise InvalidSettings("the lead and their cover are two people")
        self._lead(account_id=account_id)

    @event("LeadNamed")
    def _lead(self, account_id: str) -> None:
        self.lead = account_id

    def name_cover(self, account_id: str) -> None:
        if account_id == self.lead:
            raise InvalidSettings("the lead and their cover are two people")
        self._cover(account_id=account_id)

    @event("CoverNamed")
    def _cover(self, account_id: str) -> None:
        self.cover = account_id

    def set_guardian_notices(self, bands: Mapping[str, bool], categories: Sequence[str]) -> None:
        """Which age bands' guardians may be told, and of which categories; bands not named
        are off."""
        unknown = set(bands) - set(NOTICE_BANDS)
        if unknown:
            raise InvalidSettings(f"guardian notices are by band: {', '.join(NOTICE_BANDS)}")
        never = set(categories) & NEVER_NOTICE
        if never:
            raise InvalidSettings(
                f"{', '.join(sorted(never))} never notifies a guardian: the family may be the "
                "source of harm"
            )
        if set(categories) - set(NOTICE_CATEGORIES):
            raise InvalidSettings(f"guardian notices are for {', '.join(NOTICE_CATEGORIES)} only")
        self._notices(
            bands={b: bool(bands.get(b, False)) for b in NOTICE_BANDS},
            categories=sorted(set(categories)),
        )

    @event("GuardianNoticePolicySet")
    def _notices(self, bands: dict[str, bool], categories: list[str]) -> None:
        self.notice_bands = dict(bands)
        self.notice_categories = tuple(categories)

    def set_signposting(self, text: str) -> None:
        """The organisation's own words beside Childline and 999 (empty: none)."""
        text = text.strip()
        if len(text) > MAX_SIGNPOSTING_CHARS:
            raise InvalidSettings(
                f"the signposting text is at most {MAX_SIGNPOSTING_CHARS} characters"
            )
        if text != self.signposting_text:
            self._signposting(text=text)

    @event("SignpostingTextSet")
    def _signposting(self, text: str) -> None:
        self.signposting_text = text

    def escalation_target(self, on_shift: Collection[str]) -> tuple[str, str]:
        """The lead when on shift, else their named cover; (account, "lead" or "cover")."""
        if self.lead is None:
            raise InvalidSettings("name the organisation's safeguarding lead first")
        if self.lead in on_shift or self.cover is None:
            return self.lead, "lead"
        return self.cover, "cover"


# Stored names and schemas (the events above are declared by `@event("Name")`).
def name_events(aggregate: type[Aggregate], name: str, schemas: Mapping[str, type[Any]]) -> None:
    """Give each of `aggregate`'s events its schema, then the aggregate its stable name."""
    for attr, schema in schemas.items():
        published(schema)(getattr(aggregate, attr))
    aggregate_name(name)(aggregate)


name_events(
    SubjectFile,
    "safety.SubjectFile",
    {
        "Started": events_pb2.SubjectFileStarted,
        "ReportNoted": events_pb2.SubjectReportNoted,
        "CaseClosed": events_pb2.SubjectCaseClosed,
        "CaseReopened": events_pb2.SubjectCaseReopened,
        "GuardianNoticesNoted": events_pb2.SubjectGuardianNoticesNoted,
    },
)
name_events(
    OrganisationSettings,
    "safety.OrganisationSettings",
    {
        "Started": events_pb2.OrganisationSettingsStarted,
        "HoursSet": events_pb2.ModerationHoursSet,
        "DeadlinesSet": events_pb2.DeadlinesSet,
        "LeadNamed": events_pb2.SafeguardingLeadNamed,
        "CoverNamed": events_pb2.SafeguardingCoverNamed,
        "GuardianNoticePolicySet": events_pb2.GuardianNoticePolicySet,
        "SignpostingTextSet": events_pb2.SignpostingTextSet,
    },
)
