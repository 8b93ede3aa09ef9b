"""A safeguarding case about one subject: severity and deadline, assignment, notes, reads,
escalation to the safeguarding lead or their cover, actions with who, when and why, outcome,
closure and reopening.

Pure domain (see `domain`). Who may act: the moderator assigned, whoever the case was
escalated to, and the safeguarding lead; nobody involved in the case. Suspending, referring
and closing a serious case need the lead.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from hearth_proto.hearth.safety.v1 import events_pb2

from .domain import (
    LEAD_ACTIONS,
    ActionKind,
    CaseClosed,
    CaseOpen,
    ConflictOfInterest,
    InvalidAction,
    InvalidReport,
    InvalidSettings,
    NeedsLead,
    NotAssigned,
    Outcome,
    OutcomeRequired,
    Referral,
    Severity,
    Staff,
    StaffRole,
    UnknownAction,
    checked_text,
    derived_id,
    name_events,
)

# --- cases ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionRecord:
    """One action on a case: what, against whom, by whom, when and why."""

    action_id: str
    kind: ActionKind
    accounts: tuple[str, ...]
    conversation_id: str
    referral: Referral | None
    by: str
    at: datetime
    reason: str
    lifted_at: datetime | None = None


class SafeguardingCase(Aggregate):
    """Case work about one subject: severity, deadline, assignment, notes, escalation,
    actions, outcome, closure and reopening."""

    @staticmethod
    def id_for(organisation_id: str, subject_account_id: str, report_id: str) -> uuid.UUID:
        return derived_id("case", organisation_id, subject_account_id, report_id)

    @classmethod
    def open(
        cls,
        *,
        organisation_id: str,
        subject_account_id: str,
        report_id: str,
        involved: Iterable[str],
        severity: Severity,
        deadline: datetime,
        at: datetime,
        category: str = "",
        triage_reasons: Sequence[str] = (),
    ) -> SafeguardingCase:
        return cls._create(
            cls.Opened,
            id=cls.id_for(organisation_id, subject_account_id, report_id),
            organisation_id=organisation_id,
            subject_account_id=subject_account_id,
            report_id=report_id,
            involved=sorted({subject_account_id, *involved}),
            severity=Severity(severity).value,
            deadline=deadline,
            opened_at=at,
            category=category,
            triage_reasons=list(triage_reasons),
        )

    class Opened(Aggregate.Created):
        organisation_id: str
        subject_account_id: str
        report_id: str
        involved: list[str]
        severity: str
        deadline: datetime
        opened_at: datetime
        category: str
        triage_reasons: list[str]

    @event(Opened)
    def __init__(
        self,
        organisation_id: str,
        subject_account_id: str,
        report_id: str,
        involved: list[str],
        severity: str,
        deadline: datetime,
        opened_at: datetime,
        category: str = "",
        triage_reasons: list[str] | None = None,
    ) -> None:
        self.organisation_id = organisation_id
        self.subject_account_id = subject_account_id
        self.report_ids = [report_id]
        self.involved = set(involved)
        self.severity = Severity(severity)
        self.deadline = deadline
        self.opened_at = opened_at
        self.closed = False
        self.assigned_to: str | None = None
        self.assignments: list[tuple[str, datetime]] = []
        self.escalated_to: str | None = None
        self.escalations: list[dict[str, Any]] = []
        self.notes: list[tuple[str, datetime, bytes]] = []
        self.note_requests: set[str] = set()
        self.actions: dict[str, ActionRecord] = {}
        self.outcome: Outcome | None = None
        self.closure_reason = ""
        self.reads: list[tuple[str, str, datetime]] = []
        self.first_action_at: datetime | None = None

    # Who may do what.

    def _refuse_conflict(self, account_id: str) -> None:
        if account_id in self.involved:
            raise ConflictOfInterest("nobody works on a case they are part of")

    def acts_as_lead(self, staff: Staff) -> bool:
        return staff.role is StaffRole.SAFEGUARDING_LEAD or staff.account_id == self.escalated_to

    def _check_may_act(self, staff: Staff) -> None:
        self._refuse_conflict(staff.account_id)
        if self.closed:
            raise CaseClosed("the case is closed; reopen it first")
        if staff.account_id != self.assigned_to and not self.acts_as_lead(staff):
            raise NotAssigned("only the moderator assigned to this case, or its lead, may act")

    def _check_may_read(self, staff: Staff, refusal: str) -> None:
        self._refuse_conflict(staff.account_id)
        if staff.account_id != self.assigned_to and not self.acts_as_lead(staff):
            raise NotAssigned(refusal)

    @property
    def needs_lead(self) -> bool:
        """Closing needs the lead for an immediate or high case, one that was escalated, or
        one with a suspension or referral."""
        return (
            self.severity in (Severity.IMMEDIATE, Severity.HIGH)
            or bool(self.escalations)
            or any(a.kind in LEAD_ACTIONS for a in self.actions.values())
        )

    def is_overdue(self, now: datetime) -> bool:
        return not self.closed and self.first_action_at is None and now >= self.deadline

    # Reports joining.

    def join(
        self,
        report_id: str,
        involved: Iterable[str],
        severity: Severity,
        deadline: datetime,
        category: str = "",
        triage_reasons: Sequence[str] = (),
    ) -> None:
        """Another report about the subject: severity only rises, the deadline only nears."""
        if self.closed:
            raise CaseClosed("a closed case takes no new reports; open a new one")
        if report_id in self.report_ids:
            return
        severity = Severity(severity)
        self._join(
            report_id=report_id,
            involved=sorted(set(involved) - self.involved),
            severity=min(severity, self.severity, key=lambda s: s.rank).value,
            deadline=min(deadline, self.deadline),
            category=category,
            triage_reasons=list(triage_reasons),
        )

    @event("ReportJoined")
    def _join(
        self,
        report_id: str,
        involved: list[str],
        severity: str,
        deadline: datetime,
        category: str = "",
        triage_reasons: list[str] | None = None,
    ) -> None:
        self.report_ids.append(report_id)
        self.involved |= set(involved)
        self.severity = Severity(severity)
        self.deadline = deadline

    # Assignment.

    def assign(
        self,
        moderator_id: str,
        at: datetime,
        by: Staff | None = None,
        works_with: Collection[str] = (),
    ) -> None:
        """To a moderator (by the rotation when `by` is None, else by the lead), never to
        someone involved or with a working relationship with someone involved."""
        if self.closed:
            raise CaseClosed("the case is closed; reopen it first")
        self._refuse_conflict(moderator_id)
        if self.involved & set(works_with):
            raise ConflictOfInterest("the moderator works with someone this case is about")
        if by is not None and not self.acts_as_lead(by):
            raise NeedsLead("only the safeguarding lead reassigns a case")
        if moderator_id != self.assigned_to:
            self._assign(moderator_id=moderator_id, by=by.account_id if by else "", at=at)

    @event("Assigned")
    def _assign(self, moderator_id: str, by: str, at: datetime) -> None:
        self.assigned_to = moderator_id
        self.assignments.append((moderator_id, at))

    # Notes and reading.

    def add_note(self, by: Staff, sealed_note: bytes, at: datetime, request_id: str = "") -> None:
        """Once per request: the same request_id adds nothing again."""
        self._check_may_act(by)
        if not sealed_note:
            raise InvalidReport("a note cannot be empty")
        if request_id and request_id in self.note_requests:
            return
        self._note(by=by.account_id, sealed_note=sealed_note, at=at, request_id=request_id)

    @event("NoteAdded")
    def _note(self, by: str, sealed_note: bytes, at: datetime, request_id: str = "") -> None:
        self.notes.append((by, at, sealed_note))
        if request_id:
            self.note_requests.add(request_id)

    def read_notes(self, by: Staff, at: datetime) -> None:
        """Notes are read only by staff on the case, and every read is recorded."""
        self._check_may_read(by, "only staff on this case may read its notes")
        self._read_notes(by=by.account_id, at=at)

    @event("NotesRead")
    def _read_notes(self, by: str, at: datetime) -> None:
        self.reads.append((by, "notes", at))

    def read_content(self, by: Staff, report_id: str, at: datetime) -> None:
        """Reported content is read only by staff on the case, and every read is recorded."""
        self._check_may_read(by, "only staff on this case may read what was reported")
        if report_id not in self.report_ids:
            raise InvalidReport("that report is not part of this case")
        self._read(by=by.account_id, report_id=report_id, at=at)

    @event("ContentRead")
    def _read(self, by: str, report_id: str, at: datetime) -> None:
        self.reads.append((by, report_id, at))

    # Escalation.

    def escalate(
        self, to: str, as_role: str, reason: str, at: datetime, by: Staff | None = None
    ) -> None:
        """To the safeguarding lead, or their cover when the lead is off shift (`as_role` is
        "lead" or "cover"); with no `by`, the deadline passed and the service escalated."""
        if as_role not in ("lead", "cover"):
            raise InvalidSettings("a case escalates to the lead or their cover")
        if by is not None:
            self._check_may_act(by)
        elif self.closed:
            raise CaseClosed("the case is closed")
        self._refuse_conflict(to)
        reason = checked_text(reason, "the reason for escalating")
        self._escalate(to=to, as_role=as_role, reason=reason, by=by.account_id if by else "", at=at)

    @event("Escalated")
    def _escalate(self, to: str, as_role: str, reason: str, by: str, at: datetime) -> None:
        self.escalated_to = to
        self.escalations.append(
            {"to": to, "as": as_role, "reason": reason, "by": by or "deadline", "at": at}
        )

    # Actions.

    def take_action(
        self,
        by: Staff,
        kind: ActionKind,
        reason: str,
        at: datetime,
        *,
        accounts: Sequence[str],
        conversation_id: str = "",
        referral: Referral | None = None,
    ) -> str:
        """Warn, restrict, suspend, block, remove or refer, with who, when and why; returns
        the action's id. Suspending and referring need the lead."""
        self._check_may_act(by)
        kind = ActionKind(kind)
        if kind in LEAD_ACTIONS and not self.acts_as_lead(by):
            raise NeedsLead(f"only the safeguarding lead may {kind.value}")
        reason = checked_text(reason, "the reason for the action")
        wanted = 2 if kind is ActionKind.BLOCK else 1
        if len(set(accounts)) != wanted:
            raise InvalidAction(f"{kind.value} names {wanted} account{'s' * (wanted > 1)}")
        if (kind is ActionKind.REMOVE) != bool(conversation_id):
            raise InvalidAction("a conversation is named for a removal, and only for one")
        if (kind is ActionKind.REFER) != (referral is not None):
            raise InvalidAction("a referral names where to, and only a referral does")
        action_id = str(derived_id("action", str(self.id), str(len(self.actions))))
        first = self.first_action_at is None
        self._act(
            action_id=action_id,
            kind=kind.value,
            accounts=list(accounts),
            conversation_id=conversation_id,
            referral=Referral(referral).value if referral else "",
            by=by.account_id,
            at=at,
            reason=reason,
            first_action_after_ms=int((at - self.opened_at).total_seconds() * 1000) if first else 0,
        )
        return action_id

    @event("ActionTaken")
    def _act(
        self,
        action_id: str,
        kind: str,
        accounts: list[str],
        conversation_id: str,
        referral: str,
        by: str,
        at: datetime,
        reason: str,
        first_action_after_ms: int,
    ) -> None:
        self.actions[action_id] = ActionRecord(
            action_id,
            ActionKind(kind),
            tuple(accounts),
            conversation_id,
            Referral(referral) if referral else None,
            by,
            at,
            reason,
        )
        self.first_action_at = self.first_action_at or at

    def lift_action(self, by: Staff, action_id: str, reason: str, at: datetime) -> None:
        """End a restriction, suspension or block; what it stopped works again."""
        self._check_may_act(by)
        action = self.actions.get(action_id)
        if action is None:
            raise UnknownAction(f"no action {action_id} on this case")
        if action.kind in (ActionKind.WARN, ActionKind.REFER, ActionKind.REMOVE):
            raise InvalidAction(f"a {action.kind.value} cannot be lifted")
        if action.kind in LEAD_ACTIONS and not self.acts_as_lead(by):
            raise NeedsLead(f"only the safeguarding lead lifts a {action.kind.value}")
        if action.lifted_at is None:
            self._lift(
                action_id=action_id,
                by=by.account_id,
                reason=checked_text(reason, "the reason"),
                at=at,
                kind=action.kind.value,
                accounts=list(action.accounts),
            )

    @event("ActionLifted")
    def _lift(
        self, action_id: str, by: str, reason: str, at: datetime, kind: str, accounts: list[str]
    ) -> None:
        self.actions[action_id] = replace(self.actions[action_id], lifted_at=at)

    def active_actions(self) -> list[ActionRecord]:
        return [a for a in self.actions.values() if a.lifted_at is None]

    # Outcome, closure, reopening.

    def record_outcome(self, by: Staff, outcome: Outcome, reason: str, at: datetime) -> None:
        self._check_may_act(by)
        self._outcome(
            outcome=Outcome(outcome).value,
            by=by.account_id,
            reason=checked_text(reason, "the reason"),
            at=at,
        )

    @event("OutcomeRecorded")
    def _outcome(self, outcome: str, by: str, reason: str, at: datetime) -> None:
        self.outcome = Outcome(outcome)

    def close(self, by: Staff, reason: str, at: datetime) -> None:
        self._check_may_act(by)
        if self.outcome is None:
            raise OutcomeRequired("record the case's outcome before closing it")
        if self.needs_lead and not self.acts_as_lead(by):
            raise NeedsLead("this case is closed by the safeguarding lead")
        self._close(by=by.account_id, reason=checked_text(reason, "the reason for closing"), at=at)

    @event("Closed")
    def _close(self, by: str, reason: str, at: datetime) -> None:
        self.closed = True
        self.closure_reason = reason

    def reopen(self, by: Staff, reason: str, deadline: datetime, at: datetime) -> None:
        self._refuse_conflict(by.account_id)
        if not self.closed:
            raise CaseOpen("the case is open")
        if by.account_id != self.assigned_to and not self.acts_as_lead(by):
            raise NotAssigned("only the moderator who had this case, or its lead, reopens it")
        if self.needs_lead and not self.acts_as_lead(by):
            raise NeedsLead("this case is reopened by the safeguarding lead")
        self._reopen(
            by=by.account_id, reason=checked_text(reason, "the reason"), deadline=deadline, at=at
        )

    @event("Reopened")
    def _reopen(self, by: str, reason: str, deadline: datetime, at: datetime) -> None:
        self.opened_at = at  # time to first action counts again from here
        self.closed = False
        self.outcome = None
        self.deadline = deadline
        self.first_action_at = None


name_events(
    SafeguardingCase,
    "safety.SafeguardingCase",
    {
        "Opened": events_pb2.CaseOpened,
        "ReportJoined": events_pb2.CaseReportJoined,
        "Assigned": events_pb2.CaseAssigned,
        "NoteAdded": events_pb2.CaseNoteAdded,
        "ContentRead": events_pb2.CaseContentRead,
        "NotesRead": events_pb2.CaseNotesRead,
        "Escalated": events_pb2.CaseEscalated,
        "ActionTaken": events_pb2.CaseActionTaken,
        "ActionLifted": events_pb2.CaseActionLifted,
        "OutcomeRecorded": events_pb2.CaseOutcomeRecorded,
        "Closed": events_pb2.CaseClosed,
        "Reopened": events_pb2.CaseReopened,
    },
)
