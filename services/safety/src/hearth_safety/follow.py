"""Safety's base layer: what it learns from identity and messaging, its stores and clock.

It follows identity (accounts, roles, bands) and messaging (devices, relay keys) into its own
aggregates (`facts`), so a report is verified with the relay keys messaging's stream records
and nothing else. What was reported is sealed under the case's key in a bucket (as identity
seals personal data under an account's key). The layers above (`organisations`, `casework`,
`rota`, `reporting`, `publishing`) use the repository plumbing here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProcessingEvent
from eventsourcing.domain import Aggregate

from hearth_crypto.age_band import AgeBand
from hearth_eventlog import NatsFactory, TracedNotification
from hearth_eventlog.published import decode_published
from hearth_proto.hearth.identity.v1 import events_pb2 as identity_events
from hearth_proto.hearth.identity.v1 import identity_pb2
from hearth_proto.hearth.messaging.v1 import events_pb2 as messaging_events
from hearth_runtime.application import FollowingApplication
from hearth_runtime.errors import Conflict, NotFound, Refused
from hearth_runtime.revocation import REVOKING_TOPICS
from hearth_runtime.sessions import Session
from hearth_runtime.subject_keys import SubjectKeys

from .board import Board
from .case import SafeguardingCase
from .domain import (
    OrganisationSettings,
    Staff,
    StaffRole,
    SubjectFile,
)
from .facts import KnownAccount, KnownDevice, KnownRelayKey

A = TypeVar("A", bound=Aggregate)
FOLLOWED = frozenset(
    m.DESCRIPTOR.full_name
    for m in (
        identity_events.AccountRegistered,
        identity_events.AccountAgeBandSet,
        identity_events.OrganisationMemberAdded,
        identity_events.GuardianLinked,
        messaging_events.DeviceKeysPublished,
        messaging_events.RelayKeyPublished,
        messaging_events.ConversationStarted,
    )
)
# Whose working relationships assignment needs: those who may be given a case.
CASE_WORKERS = frozenset({"moderator", "safeguarding_lead"})
PARTICIPANT_ROLES = ("child", "young_person", "guardian", "practitioner")


class Following(FollowingApplication):
    name = "safety"
    # The platform's own moderation organisation: reads reports of people of no organisation.
    platform_organisation = ""
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
        elif isinstance(m, identity_events.OrganisationMemberAdded):
            known = self._get(KnownAccount, KnownAccount.create_id(m.account_id))
            if known is not None:
                known.note_organisation(m.organisation_id)
                processing.collect_events(known)
        elif isinstance(m, identity_events.GuardianLinked):
            self._note_working(
                [m.guardian_account_id, m.child_account_id], "guardian_link", processing
            )
        elif isinstance(m, messaging_events.ConversationStarted):
            self._note_working(list(m.member_account_ids), "conversation", processing)
        elif isinstance(m, identity_events.AccountAgeBandSet):
            known = self._get(KnownAccount, KnownAccount.create_id(m.account_id))
            known = known or KnownAccount(m.account_id, "")
            known.note_band(AgeBand.of(m.band).label)
            processing.collect_events(known)

    def _note_working(
        self, accounts: list[str], kind: str, processing: ProcessingEvent[UUID]
    ) -> None:
        """Each case worker among `accounts` works with each of the others."""
        for account in accounts:
            known = self._get(KnownAccount, KnownAccount.create_id(account))
            if known is None or known.role not in CASE_WORKERS:
                continue
            for other in accounts:
                known.note_relationship(other, kind)
            processing.collect_events(known)

    def works_with(self, account_ids: Iterable[str]) -> dict[str, set[str]]:
        """Each account's working relationships, as safety learnt them."""
        found = {}
        for account in account_ids:
            known = self._get(KnownAccount, KnownAccount.create_id(account))
            found[account] = set(known.works_with) if known else set()
        return found

    # --- plumbing -----------------------------------------------------------------------

    def _organisation_of(self, session: Session) -> str:
        """Whose safety team reads the caller's reports: their first organisation's, else the
        platform's own moderation organisation when one is configured; with neither nobody
        would read it, so it is refused with where to get help instead."""
        found = self.reading_organisation(session)
        if not found:
            raise Conflict(
                "you are not a member of an organisation whose safety team reads reports; "
                "call Childline free on 0800 1111, or 999 if you are in danger",
                reason="NO_ORGANISATION",
            )
        return found

    def reading_organisation(self, session: Session) -> str:
        if session.organisations:
            return sorted(session.organisations)[0]
        return self.platform_organisation

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


def first_role(session: Session) -> str:
    for role in (*PARTICIPANT_ROLES, "moderator", "safeguarding_lead", "org_admin"):
        if role in session.roles:
            return role
    return ""


def staff_of(session: Session) -> Staff:
    lead = "safeguarding_lead" in session.roles
    return Staff(session.account_id, StaffRole.SAFEGUARDING_LEAD if lead else StaffRole.MODERATOR)
