"""What safety learns from the streams it follows: accounts (identity), devices and relay keys
(messaging). Safety holds no secret of another service: it verifies reports with the relay's
public keys as messaging's stream records them. A staff account's working relationships
(a conversation shared, a guardian link) come from the same streams: assignment reads them to
keep a moderator off a case about someone they work with."""

from __future__ import annotations

import uuid

from eventsourcing.domain import Aggregate, event

from hearth_eventlog.published import aggregate_name, published
from hearth_proto.hearth.safety.v1 import events_pb2

from .domain import derived_id


@aggregate_name("safety.KnownAccount")
class KnownAccount(Aggregate):
    """An account identity announced: its role and attested band."""

    @staticmethod
    def create_id(account_id: str) -> uuid.UUID:
        return derived_id("known-account", account_id)

    @published(events_pb2.KnownAccountStarted)
    class Started(Aggregate.Created):
        account_id: str
        role: str

    @event(Started)
    def __init__(self, account_id: str, role: str) -> None:
        self.account_id = account_id
        self.role = role
        self.band = ""
        self.organisations: set[str] = set()
        self.works_with: set[str] = set()

    @published(events_pb2.KnownAccountBandNoted)
    class BandNoted(Aggregate.Event):
        band: str

    @event(BandNoted)
    def note_band(self, band: str) -> None:
        self.band = band

    @published(events_pb2.KnownAccountOrganisationNoted)
    class OrganisationNoted(Aggregate.Event):
        organisation_id: str

    @event(OrganisationNoted)
    def _note_organisation(self, organisation_id: str) -> None:
        self.organisations.add(organisation_id)

    def note_organisation(self, organisation_id: str) -> None:
        if organisation_id not in self.organisations:
            self._note_organisation(organisation_id)

    @published(events_pb2.KnownAccountRelationshipNoted)
    class RelationshipNoted(Aggregate.Event):
        other_account_id: str
        kind: str

    @event(RelationshipNoted)
    def _note_relationship(self, other_account_id: str, kind: str) -> None:
        self.works_with.add(other_account_id)

    def note_relationship(self, other_account_id: str, kind: str) -> None:
        if other_account_id not in self.works_with and other_account_id != self.account_id:
            self._note_relationship(other_account_id, kind)


@aggregate_name("safety.KnownDevice")
class KnownDevice(Aggregate):
    """A device and the account it belongs to."""

    @staticmethod
    def create_id(device_id: str) -> uuid.UUID:
        return derived_id("known-device", device_id)

    @published(events_pb2.KnownDeviceNoted)
    class Noted(Aggregate.Created):
        device_id: str
        account_id: str

    @event(Noted)
    def __init__(self, device_id: str, account_id: str) -> None:
        self.device_id = device_id
        self.account_id = account_id


@aggregate_name("safety.KnownRelayKey")
class KnownRelayKey(Aggregate):
    """A relay key's public half."""

    @staticmethod
    def create_id(key_id: str) -> uuid.UUID:
        return derived_id("known-relay-key", key_id)

    @published(events_pb2.KnownRelayKeyNoted)
    class Noted(Aggregate.Created):
        key_id: str
        public_key: bytes

    @event(Noted)
    def __init__(self, key_id: str, public_key: bytes) -> None:
        self.key_id = key_id
        self.public_key = public_key
