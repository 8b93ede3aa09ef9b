"""Following the age service: an attested band sets the account's band until its epoch ends.

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
from hearth_runtime.application import FollowingApplication

from .domain import Account

ATTESTED = age_events.AgeBandAttested.DESCRIPTOR.full_name


class AgeFollower(FollowingApplication):
    topics: ClassVar[frozenset[str] | None] = frozenset({ATTESTED})  # from age

    def policy(
        self, upstream: str, notification: TracedNotification, processing: ProcessingEvent[UUID]
    ) -> None:
        """An attested band sets the account's band until the attestation's epoch ends."""
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
