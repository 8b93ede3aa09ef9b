"""Case work: what staff on a case see and do, escalation (by hand and when overdue), the queue."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import UUID

from hearth_runtime.application import retrying
from hearth_runtime.errors import Conflict, NotFound, Refused
from hearth_runtime.sessions import Session

from .board import ActiveAction, Entry
from .case import SafeguardingCase
from .domain import (
    ActionKind,
    NotAssigned,
    Outcome,
    Referral,
    SubjectFile,
)
from .facts import KnownAccount
from .follow import staff_of
from .organisations import Organisations
from .report import Report
from .risk import cumulative_risk, history_of


class CaseWork(Organisations):
    """What staff on a case see and do; the queue; overdue cases escalating on their own."""

    def case(self, session: Session, case_id: str) -> SafeguardingCase:
        """A case the caller may see: staff of its organisation, on the case or its lead."""
        case = self._case_by_id(case_id)
        if case.organisation_id not in session.organisations:
            raise NotFound(f"no case {case_id}", reason="CASE_NOT_FOUND")
        return case

    def view_case(self, session: Session, case_id: str) -> SafeguardingCase:
        case = self.case(session, case_id)
        staff = staff_of(session)
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
            case.read_content(staff_of(session), report_id, self.now())
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

    def add_note(self, session: Session, case_id: str, request_id: str, note: str) -> int:
        """Sealed under the case key, like what was reported; returns how many notes it has."""

        def command() -> int:
            case = self.case(session, case_id)
            sealed = self.case_keys.seal(case_id, note.encode())
            case.add_note(staff_of(session), sealed, self.now(), request_id)
            self.save(case)
            return len(case.notes)

        return retrying(command)

    def read_notes(self, session: Session, case_id: str) -> list[tuple[str, datetime, str]]:
        """The notes, opened, oldest first; the read is recorded first. An erased note (its
        case key gone) reads as empty."""

        def read() -> SafeguardingCase:
            case = self.case(session, case_id)
            case.read_notes(staff_of(session), self.now())
            self.save(case)
            return case

        case = retrying(read)
        return [
            (by, at, (self.case_keys.open(case_id, sealed) or b"").decode())
            for by, at, sealed in case.notes
        ]

    def assign(self, session: Session, case_id: str, moderator_id: str) -> str:
        def command() -> str:
            case = self.case(session, case_id)
            works_with = self.works_with([moderator_id])[moderator_id]
            case.assign(moderator_id, self.now(), by=staff_of(session), works_with=works_with)
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
            case.escalate(
                to, as_role, reason, self.now(), by=staff_of(session) if session else None
            )
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
                staff_of(session),
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
            case.lift_action(staff_of(session), action_id, reason, self.now())
            self.save(case)

        retrying(command)

    def record_outcome(self, session: Session, case_id: str, outcome: Outcome, reason: str) -> None:
        def command() -> None:
            case = self.case(session, case_id)
            case.record_outcome(staff_of(session), outcome, reason, self.now())
            self.save(case)

        retrying(command)

    def close_case(self, session: Session, case_id: str, reason: str) -> None:
        def command() -> None:
            case = self.case(session, case_id)
            case.close(staff_of(session), reason, self.now())
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
            case.reopen(staff_of(session), reason, deadline, now)
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

    def restrictions(self, session: Session, account_id: str) -> list[ActiveAction]:
        """Actions in force on an account of one of the caller's organisations, taken on
        cases of those organisations."""
        known = self._get(KnownAccount, KnownAccount.create_id(account_id))
        if known is None or not known.organisations & session.organisations:
            raise Refused(
                "that account is not of an organisation you are staff of",
                reason="NOT_IN_ORGANISATION",
            )
        board = self.current_board()
        return [
            a
            for a in board.restrictions(account_id)
            if (entry := board.entries.get(a.case_id)) is not None
            and entry.organisation_id in session.organisations
        ]
