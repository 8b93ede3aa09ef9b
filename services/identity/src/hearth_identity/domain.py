"""Accounts: who is on the platform, in what role, with which device keys. Pure domain."""

from __future__ import annotations

import enum
import uuid

from eventsourcing.domain import Aggregate, event

from hearth_eventlog.published import published
from hearth_proto.hearth.identity.v1 import events_pb2


class Role(enum.IntEnum):
    """Mirrors `hearth.identity.v1.Role`."""

    CHILD = 1
    YOUNG_PERSON = 2
    GUARDIAN = 3
    PRACTITIONER = 4
    MODERATOR = 5
    SAFEGUARDING_LEAD = 6
    AUDITOR = 7
    ORG_ADMIN = 8

    @property
    def label(self) -> str:
        return self.name.lower()


REQUEST_NAMESPACE = uuid.UUID("6f0e3c52-58a4-4b43-8a8f-0b8f7ad5f4a1")


class Account(Aggregate):
    """An account and the device keys it logs in with."""

    @staticmethod
    def create_id(request_id: str) -> uuid.UUID:
        """Derived from the client's request id, so a retried registration finds its account."""
        return uuid.uuid5(REQUEST_NAMESPACE, request_id)

    @published(events_pb2.AccountRegistered)
    class Registered(Aggregate.Created):
        role: Role
        device_public_key: bytes
        request_id: str

    @event(Registered)
    def __init__(self, role: Role, device_public_key: bytes, request_id: str) -> None:
        self.role = role
        self.device_keys = [device_public_key]
        self.request_id = request_id
