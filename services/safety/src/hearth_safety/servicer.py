"""gRPC face of the safety service: proto <-> domain; fields checked by `hearth_runtime.fields`.

Domain errors are the runtime's family; its `ErrorInterceptor` answers them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from hearth_crypto.franking import FrankingReport, MessageMetadata, RelayStamp
from hearth_proto.hearth.safety.v1 import safety_pb2 as pb
from hearth_proto.hearth.safety.v1 import safety_pb2_grpc
from hearth_runtime import fields
from hearth_runtime.access import current_session
from hearth_runtime.errors import Invalid, NotFound, Refused

from .application import Safety
from .board import HANDOVERS_KEPT, ActiveAction
from .case import ActionRecord, SafeguardingCase
from .domain import (
    MAX_CONTEXT,
    MAX_NOTE_CHARS,
    MAX_SIGNPOSTING_CHARS,
    WHO_SEES_A_CONCERN,
    ActionKind,
    Category,
    Outcome,
    Referral,
    Severity,
)
from .packs import DEFAULT_VALID_DAYS, MAX_MANIFEST_BYTES, MAX_VALID_DAYS, PackTooLarge
from .shift import Handover

E = TypeVar("E", bound=StrEnum)
MAX_ID = 128
MAX_BODY = 64 * 1024
MAX_LIST = 50
PERIODS = re.compile(r"\d\d:\d\d-\d\d:\d\d(,\d\d:\d\d-\d\d:\d\d)*")


def word(value: str, field: str, kind: type[E], default: E | None = None) -> E:
    """A value of one of the domain's words, e.g. a category."""
    if not value and default is not None:
        return default
    try:
        return kind(value)
    except ValueError:
        raise Invalid.field(field, f"must be one of {', '.join(k.value for k in kind)}") from None


def ident(value: str, field: str, *, required: bool = True) -> str:
    return fields.text(value, field, max_chars=MAX_ID, required=required)


def franked(m: pb.FrankedMessage, field: str) -> FrankingReport:
    """The proto of a franked message as verification takes it; shape only, no crypto."""
    fields.bounded_bytes(m.body, f"{field}.body", max_bytes=MAX_BODY)
    for name in ("message_id", "conversation_id", "sender_account_id", "sender_device_id"):
        ident(getattr(m, name), f"{field}.{name}")
    fields.count(m.recipient_device_ids, f"{field}.recipient_device_ids", at_most=256)
    return FrankingReport(
        body=m.body,
        franking_key=m.franking_key,
        metadata=MessageMetadata(m.conversation_id, m.sender_device_id, m.message_id),
        relay_stamp=RelayStamp(
            key_id=m.franking_key_id,
            commitment=m.franking_commitment,
            sender_account_id=m.sender_account_id,
            sender_device_id=m.sender_device_id,
            conversation_id=m.conversation_id,
            message_id=m.message_id,
            recipient_devices=tuple(m.recipient_device_ids),
            timestamp_ms=m.relayed_at_ms,
            signature=m.franking_stamp,
        ),
    )


def timestamp(at: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(at)
    return ts


def action_proto(a: ActionRecord | ActiveAction, lifted: bool = False) -> pb.CaseAction:
    return pb.CaseAction(
        action_id=a.action_id,
        kind=str(a.kind),
        accounts=list(a.accounts),
        conversation_id=a.conversation_id,
        referral=str(a.referral or ""),
        by=a.by,
        at=timestamp(a.at),
        reason=a.reason,
        lifted=lifted,
    )


class SafetyServicer(safety_pb2_grpc.SafetyServiceServicer):
    def __init__(self, app: Safety) -> None:
        self.app = app

    def ReportMessage(
        self, request: pb.ReportMessageRequest, context: grpc.ServicerContext
    ) -> pb.ReportMessageResponse:
        fields.request_id(request.request_id)
        if not request.HasField("reported"):
            raise Invalid.field("reported", "is required: the franked message reported")
        if len(request.context) > MAX_CONTEXT:
            from .domain import ContextTooLarge

            raise ContextTooLarge(f"a report carries at most {MAX_CONTEXT} messages of context")
        reported = franked(request.reported, "reported")
        earlier = [franked(m, f"context[{i}]") for i, m in enumerate(request.context)]
        category = word(request.category, "category", Category, Category.OTHER)
        note = fields.text(request.note, "note", max_chars=MAX_NOTE_CHARS)
        fields.count(request.scanner_assessment, "scanner_assessment", at_most=MAX_LIST)
        for key, score in request.scanner_assessment.items():
            if not 0.0 <= score <= 1.0:
                raise Invalid.field(f"scanner_assessment[{key[:32]}]", "must be 0..1")
        filed = self.app.report_message(
            current_session(),
            request.request_id,
            reported,
            earlier,
            category,
            note,
            dict(request.scanner_assessment),
        )
        return pb.ReportMessageResponse(
            report_id=str(filed.report.id),
            case_id=str(filed.case.id),
            severity=str(filed.report.severity or ""),
            deadline=timestamp(filed.case.deadline),
            who_will_see_it=WHO_SEES_A_CONCERN,
        )

    def RaiseConcern(
        self, request: pb.RaiseConcernRequest, context: grpc.ServicerContext
    ) -> pb.RaiseConcernResponse:
        fields.request_id(request.request_id)
        note = fields.text(request.note, "note", max_chars=MAX_NOTE_CHARS, required=True)
        category = word(request.category, "category", Category, Category.OTHER)
        subject = ident(request.subject_account_id, "subject_account_id", required=False)
        filed = self.app.raise_concern(
            current_session(), request.request_id, note, category, subject
        )
        return pb.RaiseConcernResponse(
            report_id=str(filed.report.id),
            case_id=str(filed.case.id),
            who_will_see_it=WHO_SEES_A_CONCERN,
        )

    def GetSupportStatus(
        self, request: pb.GetSupportStatusRequest, context: grpc.ServicerContext
    ) -> pb.GetSupportStatusResponse:
        session = current_session()
        organisation = ident(request.organisation_id, "organisation_id", required=False)
        organisation = organisation or self.app.reading_organisation(session)
        status, signposting = self.app.support_status(organisation)
        return pb.GetSupportStatusResponse(
            open_now=status.open_now,
            reports_read_from=timestamp(status.reports_read_from),
            message=status.message,
            signposts=[
                pb.Signpost(name=s.name, phone=s.phone, when=s.when) for s in status.signposts
            ],
            organisation_signposting=signposting,
        )

    def ListQueue(
        self, request: pb.ListQueueRequest, context: grpc.ServicerContext
    ) -> pb.ListQueueResponse:
        organisation = ident(request.organisation_id, "organisation_id")
        if organisation not in current_session().organisations:
            raise Refused("you are not staff of that organisation", reason="NOT_IN_ORGANISATION")
        limit = request.limit or 100
        if not 0 < limit <= 1000:
            raise Invalid.field("limit", "must be 1..1000")
        now = self.app.now()
        return pb.ListQueueResponse(
            cases=[
                pb.QueuedCase(
                    case_id=e.case_id,
                    severity=e.severity.value,
                    deadline=timestamp(e.deadline),
                    overdue=e.overdue(now),
                    assigned_to=e.assigned_to,
                    escalated_to=e.escalated_to,
                    reports=e.reports,
                    category=e.category,
                )
                for e in self.app.queue(organisation, limit)
            ]
        )

    def GetCase(
        self, request: pb.GetCaseRequest, context: grpc.ServicerContext
    ) -> pb.GetCaseResponse:
        case = self.app.view_case(current_session(), ident(request.case_id, "case_id"))
        return self._case(case)

    def _case(self, case: SafeguardingCase) -> pb.GetCaseResponse:
        return pb.GetCaseResponse(
            case_id=str(case.id),
            organisation_id=case.organisation_id,
            subject_account_id=case.subject_account_id,
            severity=case.severity.value,
            deadline=timestamp(case.deadline),
            report_ids=case.report_ids,
            assigned_to=case.assigned_to or "",
            escalated_to=case.escalated_to or "",
            actions=[action_proto(a, a.lifted_at is not None) for a in case.actions.values()],
            outcome=case.outcome.value if case.outcome else "",
            closed=case.closed,
            overdue=case.is_overdue(self.app.now()),
            subject_risk=self.app.subject_risk(case),
            notes=len(case.notes),
        )

    def ReadReportedContent(
        self, request: pb.ReadReportedContentRequest, context: grpc.ServicerContext
    ) -> pb.ReadReportedContentResponse:
        fields.request_id(request.request_id)
        case_id = ident(request.case_id, "case_id")
        report_id = str(fields.identifier(request.report_id, "report_id", "report"))
        content = self.app.read_content(current_session(), case_id, report_id)
        if content is None:
            raise NotFound("what was reported has been erased", reason="CONTENT_ERASED")
        messages = content.get("messages", [])
        assert isinstance(messages, list)
        return pb.ReadReportedContentResponse(
            messages=[
                pb.ReportedMessage(
                    message_id=m["message_id"],
                    sender_account_id=m["sender_account_id"],
                    sent_at_ms=m["sent_at_ms"],
                    body=m["body"].encode(),
                )
                for m in messages
            ],
            note=str(content.get("note", "")),
        )

    def AddCaseNote(
        self, request: pb.AddCaseNoteRequest, context: grpc.ServicerContext
    ) -> pb.AddCaseNoteResponse:
        fields.request_id(request.request_id)
        notes = self.app.add_note(
            current_session(),
            ident(request.case_id, "case_id"),
            request.request_id,
            fields.text(request.note, "note", max_chars=MAX_NOTE_CHARS, required=True),
        )
        return pb.AddCaseNoteResponse(notes=notes)

    def ReadCaseNotes(
        self, request: pb.ReadCaseNotesRequest, context: grpc.ServicerContext
    ) -> pb.ReadCaseNotesResponse:
        fields.request_id(request.request_id)
        notes = self.app.read_notes(current_session(), ident(request.case_id, "case_id"))
        return pb.ReadCaseNotesResponse(
            notes=[pb.CaseNote(by=by, at=timestamp(at), text=text) for by, at, text in notes]
        )

    def AssignCase(
        self, request: pb.AssignCaseRequest, context: grpc.ServicerContext
    ) -> pb.AssignCaseResponse:
        fields.request_id(request.request_id)
        assigned = self.app.assign(
            current_session(),
            ident(request.case_id, "case_id"),
            ident(request.moderator_account_id, "moderator_account_id"),
        )
        return pb.AssignCaseResponse(assigned_to=assigned)

    def EscalateCase(
        self, request: pb.EscalateCaseRequest, context: grpc.ServicerContext
    ) -> pb.EscalateCaseResponse:
        fields.request_id(request.request_id)
        reason = fields.text(request.reason, "reason", max_chars=MAX_NOTE_CHARS, required=True)
        to, as_role = self.app.escalate(
            current_session(), ident(request.case_id, "case_id"), reason
        )
        return pb.EscalateCaseResponse(escalated_to=to, as_role=as_role)

    def TakeAction(
        self, request: pb.TakeActionRequest, context: grpc.ServicerContext
    ) -> pb.TakeActionResponse:
        fields.request_id(request.request_id)
        kind = word(request.kind, "kind", ActionKind)
        fields.count(request.account_ids, "account_ids", at_most=2, at_least=1)
        accounts = [ident(a, "account_ids") for a in request.account_ids]
        referral = word(request.referral, "referral", Referral) if request.referral else None
        action_id = self.app.take_action(
            current_session(),
            ident(request.case_id, "case_id"),
            kind,
            accounts,
            ident(request.conversation_id, "conversation_id", required=False),
            referral,
            fields.text(request.reason, "reason", max_chars=MAX_NOTE_CHARS, required=True),
        )
        return pb.TakeActionResponse(action_id=action_id)

    def LiftAction(
        self, request: pb.LiftActionRequest, context: grpc.ServicerContext
    ) -> pb.LiftActionResponse:
        fields.request_id(request.request_id)
        self.app.lift_action(
            current_session(),
            ident(request.case_id, "case_id"),
            ident(request.action_id, "action_id"),
            fields.text(request.reason, "reason", max_chars=MAX_NOTE_CHARS, required=True),
        )
        return pb.LiftActionResponse()

    def RecordOutcome(
        self, request: pb.RecordOutcomeRequest, context: grpc.ServicerContext
    ) -> pb.RecordOutcomeResponse:
        fields.request_id(request.request_id)
        self.app.record_outcome(
            current_session(),
            ident(request.case_id, "case_id"),
            word(request.outcome, "outcome", Outcome),
            fields.text(request.reason, "reason", max_chars=MAX_NOTE_CHARS, required=True),
        )
        return pb.RecordOutcomeResponse()

    def CloseCase(
        self, request: pb.CloseCaseRequest, context: grpc.ServicerContext
    ) -> pb.CloseCaseResponse:
        fields.request_id(request.request_id)
        self.app.close_case(
            current_session(),
            ident(request.case_id, "case_id"),
            fields.text(request.reason, "reason", max_chars=MAX_NOTE_CHARS, required=True),
        )
        return pb.CloseCaseResponse()

    def ReopenCase(
        self, request: pb.ReopenCaseRequest, context: grpc.ServicerContext
    ) -> pb.ReopenCaseResponse:
        fields.request_id(request.request_id)
        deadline = self.app.reopen_case(
            current_session(),
            ident(request.case_id, "case_id"),
            fields.text(request.reason, "reason", max_chars=MAX_NOTE_CHARS, required=True),
        )
        return pb.ReopenCaseResponse(deadline=timestamp(deadline))

    def StartShift(
        self, request: pb.StartShiftRequest, context: grpc.ServicerContext
    ) -> pb.StartShiftResponse:
        fields.request_id(request.request_id)
        shift = self.app.start_shift(
            current_session(), ident(request.organisation_id, "organisation_id")
        )
        return pb.StartShiftResponse(shift_id=str(shift.id))

    def RecordShiftConcern(
        self, request: pb.RecordShiftConcernRequest, context: grpc.ServicerContext
    ) -> pb.RecordShiftConcernResponse:
        fields.request_id(request.request_id)
        shift_id = str(fields.identifier(request.shift_id, "shift_id", "shift"))
        concern_id = self.app.hold_concern(
            current_session(), shift_id, ident(request.case_id, "case_id"), request.request_id
        )
        return pb.RecordShiftConcernResponse(concern_id=concern_id)

    def ReportConcernToLead(
        self, request: pb.ReportConcernToLeadRequest, context: grpc.ServicerContext
    ) -> pb.ReportConcernToLeadResponse:
        fields.request_id(request.request_id)
        shift_id = str(fields.identifier(request.shift_id, "shift_id", "shift"))
        lead = self.app.report_concern(
            current_session(),
            shift_id,
            fields.text(request.concern_id, "concern_id", max_chars=300, required=True),
        )
        return pb.ReportConcernToLeadResponse(reported_to=lead)

    def EndShift(
        self, request: pb.EndShiftRequest, context: grpc.ServicerContext
    ) -> pb.EndShiftResponse:
        fields.request_id(request.request_id)
        shift_id = str(fields.identifier(request.shift_id, "shift_id", "shift"))
        fields.count(request.message_times, "message_times", at_most=MAX_LIST)
        fields.count(request.keywords, "keywords", at_most=MAX_LIST)
        self.app.end_shift(
            current_session(),
            shift_id,
            Handover(
                tuple(fields.text(t, "message_times", max_chars=64) for t in request.message_times),
                tuple(fields.text(k, "keywords", max_chars=64) for k in request.keywords),
                fields.text(request.risks, "risks", max_chars=MAX_NOTE_CHARS),
                request.pattern,
            ),
        )
        return pb.EndShiftResponse()

    def NameSafeguardingLead(
        self, request: pb.NameSafeguardingLeadRequest, context: grpc.ServicerContext
    ) -> pb.NameSafeguardingLeadResponse:
        fields.request_id(request.request_id)
        self.app.name_lead(
            current_session(),
            ident(request.organisation_id, "organisation_id"),
            ident(request.lead_account_id, "lead_account_id"),
            ident(request.cover_account_id, "cover_account_id", required=False),
        )
        return pb.NameSafeguardingLeadResponse()

    def UpdateOrganisationSettings(
        self, request: pb.UpdateOrganisationSettingsRequest, context: grpc.ServicerContext
    ) -> pb.UpdateOrganisationSettingsResponse:
        fields.request_id(request.request_id)
        schedule: dict[str, Sequence[Sequence[str]]] = {}
        for day, periods in request.schedule.items():
            fields.matching(
                periods, f"schedule[{day[:8]}]", PERIODS, "like 09:00-17:00,18:00-20:00"
            )
            schedule[day] = [p.split("-") for p in periods.split(",")]
        deadlines: Mapping[Severity, int] = {
            word(k, "deadline_minutes", Severity): v for k, v in request.deadline_minutes.items()
        }
        if request.schedule and not request.time_zone:
            raise Invalid.field("time_zone", "is required with a schedule")
        notices = None
        if request.HasField("guardian_notice_policy"):
            policy = request.guardian_notice_policy
            fields.count(policy.bands, "guardian_notice_policy.bands", at_most=MAX_LIST)
            fields.count(policy.categories, "guardian_notice_policy.categories", at_most=MAX_LIST)
            notices = (
                dict(policy.bands),
                [ident(c, "guardian_notice_policy.categories") for c in policy.categories],
            )
        signposting = None
        if request.HasField("signposting_text"):
            signposting = fields.text(
                request.signposting_text, "signposting_text", max_chars=MAX_SIGNPOSTING_CHARS
            )
        self.app.update_settings(
            current_session(),
            ident(request.organisation_id, "organisation_id"),
            fields.text(request.time_zone, "time_zone", max_chars=64),
            schedule,
            deadlines,
            notices,
            signposting,
        )
        return pb.UpdateOrganisationSettingsResponse()

    def GetOrganisationSettings(
        self, request: pb.GetOrganisationSettingsRequest, context: grpc.ServicerContext
    ) -> pb.GetOrganisationSettingsResponse:
        organisation = ident(request.organisation_id, "organisation_id")
        settings = self.app.organisation_settings(current_session(), organisation)
        return pb.GetOrganisationSettingsResponse(
            organisation_id=organisation,
            time_zone=settings.hours.time_zone,
            schedule={
                day: ",".join(f"{a}-{b}" for a, b in periods)
                for day, periods in settings.hours.to_schedule().items()
            },
            deadline_minutes={
                str(s): int(d.total_seconds() // 60) for s, d in settings.deadlines.items()
            },
            lead_account_id=settings.lead or "",
            cover_account_id=settings.cover or "",
            guardian_notice_policy=pb.GuardianNoticePolicy(
                bands=settings.notice_bands, categories=list(settings.notice_categories)
            ),
            signposting_text=settings.signposting_text,
            open_now=settings.hours.is_open(self.app.now()),
        )

    def GetHandover(
        self, request: pb.GetHandoverRequest, context: grpc.ServicerContext
    ) -> pb.GetHandoverResponse:
        organisation = ident(request.organisation_id, "organisation_id")
        limit = request.limit or 5
        if not 0 < limit <= HANDOVERS_KEPT:
            raise Invalid.field("limit", f"must be 1..{HANDOVERS_KEPT}")
        return pb.GetHandoverResponse(
            handovers=[
                pb.ShiftHandover(
                    shift_id=h.shift_id,
                    moderator_account_id=h.moderator_id,
                    started_at=timestamp(h.started_at),
                    ended_at=timestamp(h.ended_at),
                    message_times=h.message_times,
                    keywords=h.keywords,
                    risks=h.risks,
                    pattern=h.pattern,
                    open_case_ids=h.open_case_ids,
                )
                for h in self.app.handovers(current_session(), organisation, limit)
            ]
        )

    def GetAccountRestrictions(
        self, request: pb.GetAccountRestrictionsRequest, context: grpc.ServicerContext
    ) -> pb.GetAccountRestrictionsResponse:
        account = ident(request.account_id, "account_id")
        return pb.GetAccountRestrictionsResponse(
            actions=[action_proto(a) for a in self.app.restrictions(current_session(), account)]
        )

    def PublishPack(
        self, request: pb.PublishPackRequest, context: grpc.ServicerContext
    ) -> pb.PublishPackResponse:
        fields.request_id(request.request_id)
        organisation = ident(request.organisation_id, "organisation_id")
        if len(request.manifest) > MAX_MANIFEST_BYTES:
            raise PackTooLarge(f"a pack's content is at most {MAX_MANIFEST_BYTES // 1024} KiB")
        fields.bounded_bytes(
            request.manifest, "manifest", max_bytes=MAX_MANIFEST_BYTES, required=True
        )
        valid_days = request.valid_days or DEFAULT_VALID_DAYS
        fields.bounded_int(valid_days, "valid_days", at_most=MAX_VALID_DAYS, at_least=1)
        published = self.app.publish_pack(
            current_session(), organisation, request.request_id, request.manifest, valid_days
        )
        return pb.PublishPackResponse(
            version=published.version,
            digest=published.digest,
            key_id=published.key_id,
            expires_at=timestamp(published.expires_at),
        )

    def GetPack(
        self, request: pb.GetPackRequest, context: grpc.ServicerContext
    ) -> pb.GetPackResponse:
        session = current_session()
        organisation = ident(request.organisation_id, "organisation_id", required=False)
        organisation = organisation or min(session.organisations, default="")
        fields.bounded_int(request.version, "version", at_most=2**53)
        found = self.app.pack(session, organisation, request.version)
        return pb.GetPackResponse(
            pack=found.pack, version=found.version, digest=found.digest, key_id=found.key_id
        )

    def GetPackKeys(
        self, request: pb.GetPackKeysRequest, context: grpc.ServicerContext
    ) -> pb.GetPackKeysResponse:
        return pb.GetPackKeysResponse(
            keys=[
                pb.PackKey(key_id=key_id, algorithm=algorithm, public_key=public_key)
                for key_id, (algorithm, public_key) in sorted(self.app.pack_keys().items())
            ]
        )
