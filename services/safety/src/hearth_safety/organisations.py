"""An organisation's safety settings and the support status its apps show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hearth_runtime.application import retrying
from hearth_runtime.sessions import Session

from .domain import (
    OrganisationSettings,
    Severity,
)
from .follow import Following
from .hours import SupportStatus, support_status


class Organisations(Following):
    """Settings: the lead and cover, hours, deadlines, guardian notices, signposting."""

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
