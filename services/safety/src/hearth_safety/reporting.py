"""Reports and concerns: verified on arrival, triaged, opening or joining the subject's case."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from hearth_crypto.franking import FrankingReport
from hearth_runtime.application import retrying
from hearth_runtime.errors import NotFound
from hearth_runtime.sessions import Session

from .assignment import Candidate, choose_moderator
from .case import SafeguardingCase
from .domain import (
    Category,
    NoEligibleModerator,
    SubjectFile,
)
from .facts import KnownAccount, KnownDevice, KnownRelayKey
from .follow import first_role
from .report import Report
from .risk import cumulative_risk, history_of
from .rota import Rota
from .triage import Party, ScannerAssessment, triage
from .verification import verify_report_messages


@dataclass(frozen=True)
class Filed:
    """Where a report or concern went."""

    report: Report
    case: SafeguardingCase


class Reporting(Rota):
    """Reports of franked messages and concerns without one."""

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
            Party(first_role(session), session.age_band),
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
                category=category.value,
                triage_reasons=verdict.reasons,
            )
        else:
            case.join(
                str(report.id),
                involved,
                verdict.severity,
                deadline,
                category.value,
                verdict.reasons,
            )
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
            works_with = self.works_with(c.account_id for c in on_shift)
            choice = choose_moderator(on_shift, case.involved, works_with)
        except NoEligibleModerator:
            return
        case.assign(choice.account_id, now)

    def _filed(self, report: Report) -> Filed:
        assert report.case_id is not None
        return Filed(report, self._case_by_id(report.case_id))
