"""Messaging's aggregates: device prekeys, conversations, relayed messages, contact facts.

Pure domain: no I/O. Prekeys are public keys (kept as hex); nothing here holds a private
key, a message or a franking key.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from eventsourcing.domain import Aggregate, event

from hearth_eventlog.published import published
from hearth_proto.hearth.messaging.v1 import events_pb2

from .policy import AccountFacts

NAMESPACE = uuid.UUID("0b6f2b9e-2f43-4c57-9a53-5a0d6c3e51f4")
MAX_GROUP_MEMBERS = 50


def derived_id(kind: str, *parts: str) -> uuid.UUID:
    """An aggregate id derived from what names it, so a retry finds the same aggregate."""
    return uuid.uuid5(NAMESPACE, "\x1f".join((kind, *parts)))


class DeviceKeys(Aggregate):
    """One device's entry in the prekey directory."""

    @staticmethod
    def create_id(device_id: str) -> uuid.UUID:
        return derived_id("device", device_id)

    @event("Published")
    def __init__(
        self,
        device_id: str,
        account_id: str,
        identity_key: str,
        signed_prekey_id: int,
        signed_prekey: str,
        signature: str,
    ) -> None:
        self.device_id = device_id
        self.account_id = account_id
        self.identity_key = identity_key
        self.signed_prekey_id = signed_prekey_id
        self.signed_prekey = signed_prekey
        self.signature = signature
        self.one_time: dict[int, str] = {}
        self.used: set[int] = set()

    @event("SignedPrekeyRotated")
    def rotate(self, signed_prekey_id: int, signed_prekey: str, signature: str) -> None:
        self.signed_prekey_id = signed_prekey_id
        self.signed_prekey = signed_prekey
        self.signature = signature

    def add_one_time(self, prekeys: dict[int, str]) -> None:
        fresh = {k: v for k, v in prekeys.items() if k not in self.one_time and k not in self.used}
        if fresh:
            self._add_one_time(prekeys=[[k, v] for k, v in fresh.items()])

    @event("OneTimePrekeysAdded")
    def _add_one_time(self, prekeys: list[list[object]]) -> None:
        for prekey_id, key in prekeys:
            self.one_time[int(str(prekey_id))] = str(key)

    def take_one_time(self) -> tuple[int, str] | None:
        """The next one-time prekey, now used up (None when none are left)."""
        if not self.one_time:
            return None
        prekey_id = min(self.one_time)
        key = self.one_time[prekey_id]
        self._consume(prekey_id=prekey_id)
        return prekey_id, key

    @event("OneTimePrekeyConsumed")
    def _consume(self, prekey_id: int) -> None:
        self.one_time.pop(prekey_id, None)
        self.used.add(prekey_id)


class AccountDevices(Aggregate):
    """The devices an account has published, for fan-out."""

    @staticmethod
    def create_id(account_id: str) -> uuid.UUID:
        return derived_id("devices", account_id)

    @event("Started")
    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.devices: list[str] = []

    @event("DeviceAdded")
    def add(self, device_id: str) -> None:
        self.devices.append(device_id)


class Conversation(Aggregate):
    """A direct or group conversation and its members."""

    @staticmethod
    def id_for(started_by: str, request_id: str) -> uuid.UUID:
        """Derived from the request, so a retried start finds its conversation."""
        return derived_id("conversation", started_by, request_id)

    @published(events_pb2.ConversationStarted)
    class Started(Aggregate.Created):
        kind: str
        member_account_ids: list[str]
        started_by: str

    @event(Started)
    def __init__(self, kind: str, member_account_ids: list[str], started_by: str) -> None:
        self.kind = kind
        self.members = list(member_account_ids)
        self.started_by = started_by

    @published(events_pb2.ConversationMemberAdded)
    class MemberAdded(Aggregate.Event):
        account_id: str
        added_by: str

    @event(MemberAdded)
    def add_member(self, account_id: str, added_by: str) -> None:
        self.members.append(account_id)

    @published(events_pb2.ConversationMemberLeft)
    class MemberLeft(Aggregate.Event):
        account_id: str

    @event(MemberLeft)
    def leave(self, account_id: str) -> None:
        self.members.remove(account_id)


class ContactDecision(Aggregate):
    """One decision of the contact policy, with its reason code."""

    @published(events_pb2.ContactDecisionRecorded)
    class Recorded(Aggregate.Created):
        requested_by: str
        account_ids: list[str]
        action: str
        allowed: bool
        reason_code: str
        policy_version: int

    @event(Recorded)
    def __init__(
        self,
        requested_by: str,
        account_ids: list[str],
        action: str,
        allowed: bool,
        reason_code: str,
        policy_version: int,
    ) -> None:
        self.allowed = allowed
        self.reason_code = reason_code


class RelayedMessage(Aggregate):
    """A message the relay accepted: metadata only. Its id makes a replay detectable."""

    @staticmethod
    def id_for(message_id: str) -> uuid.UUID:
        return derived_id("message", message_id)

    @published(events_pb2.MessageRelayed)
    class Relayed(Aggregate.Created):
        conversation_id: str
        sender_account_id: str
        sender_device_id: str
        recipient_devices: int
        ciphertext_bytes: int

    @event(Relayed)
    def __init__(
        self,
        conversation_id: str,
        sender_account_id: str,
        sender_device_id: str,
        recipient_devices: int,
        ciphertext_bytes: int,
    ) -> None:
        self.conversation_id = conversation_id


class AccountSettings(Aggregate):
    """An account's own choices: whom it blocks, which conversations it muted."""

    @staticmethod
    def create_id(account_id: str) -> uuid.UUID:
        return derived_id("settings", account_id)

    @event("Started")
    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.blocked: set[str] = set()
        self.muted: set[str] = set()

    @event("Blocked")
    def block(self, account_id: str) -> None:
        self.blocked.add(account_id)

    @event("Unblocked")
    def unblock(self, account_id: str) -> None:
        self.blocked.discard(account_id)

    @event("Muted")
    def mute(self, conversation_id: str) -> None:
        self.muted.add(conversation_id)

    @event("Unmuted")
    def unmute(self, conversation_id: str) -> None:
        self.muted.discard(conversation_id)


class ContactFacts(Aggregate):
    """What identity has told messaging about one account, as the contact policy needs it."""

    @staticmethod
    def create_id(account_id: str) -> uuid.UUID:
        return derived_id("facts", account_id)

    @event("Started")
    def __init__(self, account_id: str) -> None:
        self.facts = AccountFacts(account_id)

    @event("Noted")
    def note(self, fact: str, value: str, present: bool = True) -> None:
        """One fact learned from an identity event: ("role", "child"), ("guardian", id),
        ("house_rules", "2")..."""
        f = self.facts
        if fact == "band":
            self.facts = replace(f, band=value)
        elif fact == "erased":
            self.facts = replace(f, erased=True)
        elif fact == "house_rules":
            self.facts = replace(f, house_rules_version=int(value))
        else:
            name = {
                "role": "roles",
                "organisation": "organisations",
                "vetted_in": "vetted_in",
                "guardian": "guardians",
                "consent_from": "consent_from",
                "approved_contact": "approved_contacts",
            }[fact]
            values: frozenset[str] = getattr(f, name)
            values = values | {value} if present else values - {value}
            self.facts = replace(f, **{name: values})  # type: ignore[arg-type]
