"""Shifts: starting, concerns found on shift and reported to the lead, the handover."""

from __future__ import annotations

from uuid import UUID

from hearth_runtime.application import retrying
from hearth_runtime.errors import NotFound
from hearth_runtime.sessions import Session

from .board import HandoverRecord
from .casework import CaseWork
from .shift import Handover, Shift


class Rota(CaseWork):
    """Shifts and their handovers; a concern found on shift is reported by its finder."""

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
