"""Following the age and safety services: an attested band sets the account's band until its
epoch ends; the safety team's restrictions, suspensions and blocks are noted on the accounts
they bind (and dropped when lifted), so staff see them with the account.

`AgeFollower` is the bottom layer of the `Identity` application.
"""

from __future__ import annotations

from datetime import UTC
from typing import ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProcessingEvent

from hearth_crypto.age_band import AgeBand
from hearth_eventlog import TracedNotification
from hearth_eventlog.published import decode_published
from hearth_proto.hearth.age.v1 import events_pb2 as age_events
from hearth_proto.hearth.safety.v1 import events_pb2 as safety_events
from hearth_runtime.application import FollowingApplication

from .domain import Account

ATTESTED = age_events.AgeBandAttested.DESCRIPTOR.full_name
TAKEN = safety_events.CaseActionTaken.DESCRIPTOR.full_name
LIFTED = safety_events.CaseActionLifted.DESCRIPTOR.full_name
RESTRICTING = frozenset({"restrict", "suspend", "block"})  # what stays in force on an account


class AgeFollower(FollowingApplication):
    topics: ClassVar[frozenset[str] | None] = frozenset({ATTESTED, TAKEN, LIFTED})

    def policy(
        self, upstream: str, notification: TracedNotification, processing: ProcessingEvent[UUID]
    ) -> None:
        """An attested band sets the account's band until the attestation's epoch ends."""
        if notification.topic in (TAKEN, LIFTED):
            self._restriction(notification, processing)
            return
        if notification.topic != ATTESTED:
            return
        attested = decode_published(notification.topic, notification.state)
        assert isinstance(attested, age_events.AgeBandAttested)
        try:
            account_id = UUID(attested.account_id)
            band = AgeBand(attested.band)
        except ValueError:
            return  # nothing of ours to set: the attestation names no account or band we know
        try:
            account: Account = self.repository.get(account_id)
        except AggregateNotFoundError:
            return
        if account.erased or band == AgeBand.UNSPECIFIED:
            return
        account.set_age_band(band, attested.expires_at.ToDatetime(tzinfo=UTC))
        processing.collect_events(account)

    def _restriction(
        self, notification: TracedNotification, processing: ProcessingEvent[UUID]
    ) -> None:
        """Note (or drop) a safety action on each account it binds."""
        m = decode_published(notification.topic, notification.state)
        if not isinstance(m, safety_events.CaseActionTaken | safety_events.CaseActionLifted):
            return
        if m.kind not in RESTRICTING:
            return
        for account_id in m.accounts:
            try:
                account: Account = self.repository.get(UUID(account_id))
            except (ValueError, AggregateNotFoundError):
                continue  # not an account of ours
            if isinstance(m, safety_events.CaseActionTaken):
                others = [a for a in m.accounts if a != account_id]
                account.note_restriction(
                    m.action_id,
                    m.kind,
                    str(notification.originator_id),
                    others[0] if others else "",
                    m.at.ToDatetime(tzinfo=UTC),
                )
            else:
                account.lift_restriction(m.action_id)
            processing.collect_events(account)
