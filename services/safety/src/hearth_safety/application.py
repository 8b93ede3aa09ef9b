"""The safety application: reports verified on arrival, case work, shifts, settings.

It follows identity (accounts, roles, bands) and messaging (devices, relay keys) into its own
aggregates (`facts`), so a report is verified with the relay keys messaging's stream records
and nothing else. What was reported is sealed under the case's key in a bucket (as identity
seals personal data under an account's key): staff on the case open it, and every read is an
event. Commands re-read what they change and are retried on a write conflict; refusals are
the runtime's error family (see `domain`). Fields arrive checked by the servicer.

Reason for the length: one command per case verb, each short; splitting would scatter the
one place that knows how a report, a case and a subject's file are saved together.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProcessingEvent
from eventsourcing.domain import Aggregate

from hearth_crypto.age_band import AgeBand
from hearth_crypto.franking import FrankingReport
from hearth_eventlog import NatsFactory, TracedNotification
from hearth_eventlog.published import decode_published
from hearth_proto.hearth.identity.v1 import events_pb2 as identity_events
from hearth_proto.hearth.identity.v1 import identity_pb2
from hearth_proto.hearth.messaging.v1 import events_pb2 as messaging_events
from hearth_runtime.application import FollowingApplication, retrying
from hearth_runtime.errors import Conflict, NotFound, Refused
from hearth_runtime.revocation import REVOKING_TOPICS
from hearth_runtime.sessions import Session
from hearth_runtime.subject_keys import SubjectKeys

from .assignment import Candidate, choose_moderator
from .board import ActiveAction, Board, Entry, HandoverRecord
from .case import SafeguardingCase
from .domain import (
    WHO_SEES_A_CONCERN,
    ActionKind,
    Category,
    NoEligibleModerator,
    NotAssigned,
    OrganisationSettings,
    Outcome,
    Referral,
    Severity,
    Staff,
    StaffRole,
    SubjectFile,
)
from .facts import KnownAccount, KnownDevice, KnownRelayKey
from .hours import SupportStatus, support_status
from .report import Report
from .risk import cumulative_risk, history_of
from .shift import Handover, Shift
from .triage import Party, ScannerAssessment, triage
from .verification import verify_report_messages

A = TypeVar("A", bound=Aggregate)
FOLLOWED = frozenset(
    m.DESCRIPTOR.full_name
    for m in (
        identity_events.AccountRegistered,
        identity_events.AccountAgeBandSet,
        messaging_events.DeviceKeysPublished,
        messaging_events.RelayKeyPublished,
    )
)
PARTICIPANT_ROLES = ("child", "young_person", "guardian", "practitioner")


@dataclass(frozen=True)
class Filed:
    """Where a report or concern went."""

    report: Report
    case: SafeguardingCase


class Safety(FollowingApplication):
    name = "safety"
    # What it acts on, and whose sessions to stop honouring (an erased account).
    topics: ClassVar[frozenset[str] | None] = FOLLOWED | REVOKING_TOPICS

    def __init__(
        self,
        env: Mapping[str, str] | None,
        *,
        case_key_wrapping: bytes | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(env)
        factory = self.factory
        assert isinstance(factory, NatsFactory)
        settings = factory.settings
        self.case_keys = SubjectKeys(
            factory.link,
            f"{settings.stream}_CASE_KEYS",
            settings,
            wrapping_key=case_key_wrapping,
        )
        self.clock = clock
        self.board = Board()
        self._sweep_lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def current_board(self) -> Board:
        self.board.catch_up(lambda start, limit: self.recorder.select_notifications(start, limit))
        return self.board

    # --- reports ------------------------------------------------------------------------

    def report_message(
        self,
        session: Session,
        request_id: str,
        reported: FrankingReport,
        context: Sequence[FrankingReport],
        category: Category,
        note: str,
        assessment: Mapping[str, float],
    ) -> Filed:
        """Verify, triage, and open or join the subject's case; the same message reported
        again by the same reporter answers the first report."""
        organisation = self._organisation_of(session)
        reporter = session.account_id
        messages = [*context, reported]
        keys = {
            m.relay_stamp.key_id: k.public_key
            for m in messages
            if (k := self._get(KnownRelayKey, KnownRelayKey.create_id(m.relay_stamp.key_id)))
        }
        devices = {
            d
            for m in messages
            for d in (m.relay_stamp.sender_device_id, *m.relay_stamp.recipient_devices)
            if (known := self._get(KnownDevice, KnownDevice.create_id(d)))
            and known.account_id == reporter
        }
        now = self.now()
        verified = verify_report_messages(
            keys, devices, reported, context, int(now.timestamp() * 1000)
        )
        # Verified first, so a repeat with altered content is refused, not answered.
        existing = self._get(Report, Report.id_for_message(reporter, reported.metadata.message_id))
        if existing is not None:
            return self._filed(existing)
        subject = verified.subject_account_id
        if subject == reporter:  # they reported what they sent: the case is about the others
            others = sorted(verified.senders - {reporter})
            subject = others[0] if others else reporter
        content = {
            "messages": [
                {
                    "message_id": m.metadata.message_id,
                    "sender_account_id": m.relay_stamp.sender_account_id,
                    "sent_at_ms": m.relay_stamp.timestamp_ms,
                    "body": m.body.decode("utf-8", "replace"),
                }
                for m in messages
            ],
            "note": note,
        }

        def file() -> Filed:
            found = self._get(Report, Report.id_for_message(reporter, reported.metadata.message_id))
            if found is not None:
                return self._filed(found)
            return self._file(
                session,
                organisation,
                subject,
                category,
                content,
                assessment,
                Report.id_for_message(reporter, reported.metadata.message_id),
                lambda sealed: Report.of_messages(
                    organisation_id=organisation,
                    reporter_account_id=reporter,
                    subject_account_id=subject,
                    conversation_id=verified.conversation_id,
                    message_ids=list(verified.message_ids),
                    sent_at_ms=list(verified.sent_at_ms),
                    category=category,
                    sealed_content=sealed,
                    received_at=now,
                    scanner_assessment=dict(assessment),
                ),
                now,
            )

        return retrying(file)

    def raise_concern(
        self, session: Session, request_id: str, note: str, category: Category, subject: str
    ) -> Filed:
        organisation = self._organisation_of(session)
        reporter = session.account_id
        if subject and self._get(KnownAccount, KnownAccount.create_id(subject)) is None:
            raise NotFound(f"no account {subject}", reason="UNKNOWN_ACCOUNT")
        about = subject or reporter
        now = self.now()

        def file() -> Filed:
            found = self._get(Report, Report.id_for_concern(reporter, request_id))
            if found is not None:
                return self._filed(found)
            return self._file(
                session,
                organisation,
                about,
                category,
                {"messages": [], "note": note},
                {},
                Report.id_for_concern(reporter, request_id),
                lambda sealed: Report.concern(
                    organisation_id=organisation,
                    reporter_account_id=reporter,
                    request_id=request_id,
                    note=note,
                    sealed_content=sealed,
                    received_at=now,
                    category=category,
                    subject_account_id=about,
                ),
                now,
            )

        return retrying(file)

    def _file(
        self,
        session: Session,
        organisation: str,
        subject: str,
        category: Category,
        content: Mapping[str, object],
        assessment: Mapping[str, float],
        report_id: UUID,
        make_report: Callable[[bytes], Report],
        now: datetime,
    ) -> Filed:
        reporter = session.account_id
        subject_file = self._get(
            SubjectFile, SubjectFile.create_id(organisation, subject)
        ) or SubjectFile(organisation, subject)
        settings = self._settings(organisation)
        case = (
            self._get(SafeguardingCase, UUID(subject_file.open_case_id))
            if (subject_file.open_case_id)
            else None
        )
        known = self._get(KnownAccount, KnownAccount.create_id(subject))
        verdict = triage(
            category,
            Party(_first_role(session), session.age_band),
            Party(known.role, known.band) if known else None,
            ScannerAssessment.from_scores(assessment) if assessment else None,
            cumulative_risk(history_of(subject_file), now) if subject_file.reports else None,
        )
        deadline = settings.deadline(verdict.severity, now)
        # The case id is known before the report exists: its key seals what was reported.
        case_id = (
            case.id if case else SafeguardingCase.id_for(organisation, subject, str(report_id))
        )
        sealed = self.case_keys.seal(str(case_id), json.dumps(content).encode())
        report = make_report(sealed)
        report.triage(verdict.severity.value, list(verdict.reasons))
        report.join_case(str(case_id))
        involved = {subject, reporter}
        if case is None:
            case = SafeguardingCase.open(
                organisation_id=organisation,
                subject_account_id=subject,
                report_id=str(report.id),
                involved=involved,
                severity=verdict.severity,
                deadline=deadline,
                at=now,
            )
        else:
            case.join(str(report.id), involved, verdict.severity, deadline)
        subject_file.note_report(
            str(report.id), str(case.id), category.value, verdict.severity.value, reporter, now
        )
        self._auto_assign(case, now)
        self.save(report, case, subject_file, settings)  # settings: new ones start
        return Filed(report, case)

    def _auto_assign(self, case: SafeguardingCase, now: datetime) -> None:
        """The rotation's next moderator on shift; none eligible: it waits for the lead."""
        if case.assigned_to is not None:
            return
        board = self.current_board()
        lead = self._settings(case.organisation_id).lead
        on_shift = [
            Candidate(m, board.open_cases_of(m), board.last_assigned.get(m))
            for m in sorted(board.on_shift(case.organisation_id))
            if m != lead
        ]
        try:
            choice = choose_moderator(on_shift, case.involved, {})
        except NoEligibleModerator:
            return
        case.assign(choice.account_id, now)

    def _filed(self, report: Report) -> Filed:
        assert report.case_id is not None
        return Filed(report, self._case_by_id(report.case_id))

    # --- case work ----------------------------------------------------------------------

    def case(self, session: Session, case_id: str) -> SafeguardingCase:
        """A case the caller may see: staff of its organisation, on the case or its lead."""
        case = self._case_by_id(case_id)
        if case.organisation_id not in session.organisations:
            raise NotFound(f"no case {case_id}", reason="CASE_NOT_FOUND")
        return case

    def view_case(self, session: Session, case_id: str) -> SafeguardingCase:
        case = self.case(session, case_id)
        staff = _staff(session)
        case._refuse_conflict(staff.account_id)
        if staff.account_id != case.assigned_to and not case.acts_as_lead(staff):
            raise NotAssigned("only the moderator assigned to this case, or its lead, may see it")
        return case

    def subject_risk(self, case: SafeguardingCase) -> str:
        file = self._get(
            SubjectFile, SubjectFile.create_id(case.organisation_id, case.subject_account_id)
        )
        if file is None:
            return "none"
        return cumulative_risk(history_of(file), self.now()).level.value

    def read_content(
        self, session: Session, case_id: str, report_id: str
    ) -> Mapping[str, object] | None:
        """What the report carried, opened; the read is recorded first. None once erased."""

        def read() -> SafeguardingCase:
            case = self.case(session, case_id)
            case.read_content(_staff(session), report_id, self.now())
            self.save(case)
            return case

        retrying(read)
        report = self._get(Report, UUID(report_id))
        if report is None:
            raise NotFound(f"no report {report_id}", reason="REPORT_NOT_FOUND")
        opened = self.case_keys.open(case_id, report.sealed_content)
        if opened is None:
            return None
        content: Mapping[str, object] = json.loads(opened)
        return content

    def add_note(self, session: Session, case_id: str, note: str) -> None:
        def command() -> None:
            case = self.case(session, case_id)
            sealed = self.case_keys.seal(case_id, note.encode())
            case.add_note(_staff(session), sealed, self.now())
            self.save(case)

        retrying(command)

    def assign(self, session: Session, case_id: str, moderator_id: str) -> str:
        def command() -> str:
            case = self.case(session, case_id)
            case.assign(moderator_id, self.now(), by=_staff(session))
            self.save(case)
            return moderator_id

        return retrying(command)

    def escalate(self, session: Session | None, case_id: str, reason: str) -> tuple[str, str]:
        """To the lead, or their cover when the lead is off shift; with no session the
        deadline passed and the service escalates."""

        def command() -> tuple[str, str]:
            case = self.case(session, case_id) if session else self._case_by_id(case_id)
            settings = self._settings(case.organisation_id)
            board = self.current_board()
            to, as_role = settings.escalation_target(board.on_shift(case.organisation_id))
            case.escalate(to, as_role, reason, self.now(), by=_staff(session) if session else None)
            self.save(case)
            return to, as_role

        return retrying(command)

    def escalate_overdue(self) -> list[str]:
        """Every open case past its deadline with no action and not yet escalated."""
        with self._sweep_lock:
            now = self.now()
            due = [
                e.case_id
                for e in list(self.current_board().entries.values())
                if e.overdue(now) and not e.escalated_to
            ]
            escalated = []
            for case_id in due:
                try:
                    self.escalate(None, case_id, "the deadline passed with no action")
                except (Conflict, Refused, ValueError):
                    continue  # no lead named yet, closed meanwhile: the next sweep retries
                escalated.append(case_id)
            return escalated

    def take_action(
        self,
        session: Session,
        case_id: str,
        kind: ActionKind,
        accounts: Sequence[str],
        conversation_id: str,
        referral: Referral | None,
        reason: str,
    ) -> str:
        for account in accounts:
            if self._get(KnownAccount, KnownAccount.create_id(account)) is None:
                raise NotFound(f"no account {account}", reason="UNKNOWN_ACCOUNT")

        def command() -> str:
            case = self.case(session, case_id)
            action_id = case.take_action(
                _staff(session),
                kind,
                reason,
                self.now(),
                accounts=accounts,
                conversation_id=conversation_id,
                referral=referral,
            )
            self.save(case)
            return action_id

        return retrying(command)

    def lift_action(self, session: Session, case_id: str, action_id: str, reason: str) -> None:
        def command() -> None:
            case = self.case(session, case_id)
            case.lift_action(_staff(session), action_id, reason, self.now())
            self.save(case)

        retrying(command)

    def record_outcome(self, session: Session, case_id: str, outcome: Outcome, reason: str) -> None:
        def command() -> None:
            case = self.case(session, case_id)
            case.record_outcome(_staff(session), outcome, reason, self.now())
            self.save(case)

        retrying(command)

    def close_case(self, session: Session, case_id: str, reason: str) -> None:
        def command() -> None:
            case = self.case(session, case_id)
            case.close(_staff(session), reason, self.now())
            assert case.outcome is not None
            file = self._subject_file(case)
            file.note_closed(str(case.id), case.outcome.value)
            self.save(case, file)

        retrying(command)

    def reopen_case(self, session: Session, case_id: str, reason: str) -> datetime:
        def command() -> datetime:
            case = self.case(session, case_id)
            now = self.now()
            deadline = self._settings(case.organisation_id).deadline(case.severity, now)
            case.reopen(_staff(session), reason, deadline, now)
            file = self._subject_file(case)
            file.note_reopened(str(case.id))
            self.save(case, file)
            return deadline

        return retrying(command)

    def queue(self, organisation_id: str, limit: int) -> list[Entry]:
        entries = []
        for entry in self.current_board().queue(organisation_id):
            entries.append(entry)
            if len(entries) >= limit:
                break
        return entries

    def restrictions(self, account_id: str) -> list[ActiveAction]:
        return self.current_board().restrictions(account_id)

    # --- shifts -------------------------------------------------------------------------

    def start_shift(self, session: Session, organisation_id: str) -> Shift:
        self._member(session, organisation_id)
        shift = Shift(organisation_id, session.account_id, self.now())
        self.save(shift)
        return shift

    def _shift(self, session: Session, shift_id: str) -> Shift:
        shift = self._get(Shift, UUID(shift_id))
        if shift is None or shift.moderator_id != session.account_id:
            raise NotFound(f"no shift {shift_id} of yours", reason="SHIFT_NOT_FOUND")
        return shift

    def hold_concern(self, session: Session, shift_id: str, case_id: str, request_id: str) -> str:
        concern_id = f"{case_id}:{request_id}"

        def command() -> str:
            shift = self._shift(session, shift_id)
            self.case(session, case_id)
            shift.hold_concern(concern_id, case_id, self.now())
            self.save(shift)
            return concern_id

        return retrying(command)

    def report_concern(self, session: Session, shift_id: str, concern_id: str) -> str:
        def command() -> str:
            shift = self._shift(session, shift_id)
            settings = self._settings(shift.organisation_id)
            lead, _ = settings.escalation_target(
                self.current_board().on_shift(shift.organisation_id)
            )
            shift.report_concern(concern_id, lead, self.now())
            self.save(shift)
            return lead

        return retrying(command)

    def end_shift(self, session: Session, shift_id: str, handover: Handover) -> None:
        def command() -> None:
            shift = self._shift(session, shift_id)
            board = self.current_board()
            open_cases = tuple(
                e.case_id
                for e in board.queue(shift.organisation_id)
                if e.assigned_to == session.account_id
            )
            shift.end(
                Handover(
                    handover.message_times,
                    handover.keywords,
                    handover.risks,
                    handover.pattern,
                    open_cases,
                ),
                self.now(),
            )
            self.save(shift)

        retrying(command)

    def handovers(self, session: Session, organisation_id: str, limit: int) -> list[HandoverRecord]:
        """The latest ended shifts' handovers of the organisation, most recent first."""
        self._member(session, organisation_id)
        return self.current_board().latest_handovers(organisation_id, limit)

    # --- organisation settings and support status --------------------------------------

    def name_lead(self, session: Session, organisation_id: str, lead: str, cover: str) -> None:
        self._member(session, organisation_id)

        def command() -> None:
            settings = self._settings(organisation_id)
            if cover and settings.cover == lead:
                settings.name_cover(cover)
                settings.name_lead(lead)
            else:
                settings.name_lead(lead)
                if cover:
                    settings.name_cover(cover)
            self.save(settings)

        retrying(command)

    def update_settings(
        self,
        session: Session,
        organisation_id: str,
        time_zone: str,
        schedule: Mapping[str, Sequence[Sequence[str]]],
        deadlines: Mapping[Severity, int],
        notices: tuple[Mapping[str, bool], Sequence[str]] | None = None,
        signposting: str | None = None,
    ) -> None:
        """Only what is given changes: hours with a time zone, deadlines named, the
        guardian-notice policy (bands, categories) and the signposting text when given."""
        self._member(session, organisation_id)

        def command() -> None:
            settings = self._settings(organisation_id)
            if time_zone:
                settings.set_hours(time_zone, schedule)
            if deadlines:
                settings.set_deadlines(deadlines)
            if notices is not None:
                settings.set_guardian_notices(*notices)
            if signposting is not None:
                settings.set_signposting(signposting)
            self.save(settings)

        retrying(command)

    def organisation_settings(self, session: Session, organisation_id: str) -> OrganisationSettings:
        """As they stand (the defaults until an admin changes them); staff of it only."""
        self._member(session, organisation_id)
        return self._settings(organisation_id)

    def support_status(self, organisation_id: str) -> tuple[SupportStatus, str]:
        """The status by the organisation's hours, and its own signposting text."""
        settings = self._settings(organisation_id)
        status = support_status(settings.hours, self.now(), settings.deadlines[Severity.HIGH])
        return status, settings.signposting_text

    # --- following identity and messaging ----------------------------------------------

    def policy(
        self, upstream: str, notification: TracedNotification, processing: ProcessingEvent[UUID]
    ) -> None:
        m = decode_published(notification.topic, notification.state)
        if isinstance(m, messaging_events.RelayKeyPublished):
            if self._get(KnownRelayKey, KnownRelayKey.create_id(m.key_id)) is None:
                processing.collect_events(KnownRelayKey(m.key_id, m.public_key))
        elif isinstance(m, messaging_events.DeviceKeysPublished):
            if self._get(KnownDevice, KnownDevice.create_id(m.device_id)) is None:
                processing.collect_events(KnownDevice(m.device_id, m.account_id))
        elif isinstance(m, identity_events.AccountRegistered):
            account = str(notification.originator_id)
            if self._get(KnownAccount, KnownAccount.create_id(account)) is None:
                role = identity_pb2.Role.Name(m.role).removeprefix("ROLE_").lower()
                processing.collect_events(KnownAccount(account, role))
        elif isinstance(m, identity_events.AccountAgeBandSet):
            known = self._get(KnownAccount, KnownAccount.create_id(m.account_id))
            known = known or KnownAccount(m.account_id, "")
            known.note_band(AgeBand.of(m.band).label)
            processing.collect_events(known)

    # --- plumbing -----------------------------------------------------------------------

    def _organisation_of(self, session: Session) -> str:
        if not session.organisations:
            raise Conflict(
                "you are not a member of an organisation whose safety team reads reports; "
                "call Childline free on 0800 1111, or 999 if you are in danger",
                reason="NO_ORGANISATION",
            )
        return sorted(session.organisations)[0]

    @staticmethod
    def _member(session: Session, organisation_id: str) -> None:
        if organisation_id not in session.organisations:
            raise Refused("you are not staff of that organisation", reason="NOT_IN_ORGANISATION")

    def _settings(self, organisation_id: str) -> OrganisationSettings:
        found = self._get(OrganisationSettings, OrganisationSettings.create_id(organisation_id))
        return found or OrganisationSettings(organisation_id)

    def _subject_file(self, case: SafeguardingCase) -> SubjectFile:
        file = self._get(
            SubjectFile, SubjectFile.create_id(case.organisation_id, case.subject_account_id)
        )
        return file or SubjectFile(case.organisation_id, case.subject_account_id)

    def _case_by_id(self, case_id: str) -> SafeguardingCase:
        try:
            found = self._get(SafeguardingCase, UUID(case_id))
        except ValueError:
            found = None
        if found is None:
            raise NotFound(f"no case {case_id}", reason="CASE_NOT_FOUND")
        return found

    def _get(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            found: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, cls) else None


def _first_role(session: Session) -> str:
    for role in (*PARTICIPANT_ROLES, "moderator", "safeguarding_lead", "org_admin"):
        if role in session.roles:
            return role
    return ""


def _staff(session: Session) -> Staff:
    lead = "safeguarding_lead" in session.roles
    return Staff(session.account_id, StaffRole.SAFEGUARDING_LEAD if lead else StaffRole.MODERATOR)


__all__ = ["FOLLOWED", "WHO_SEES_A_CONCERN", "Filed", "Safety"]
