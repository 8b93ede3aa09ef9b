"""Messaging's aggregates: device prekeys, conversations, relayed messages, contact facts.

Pure domain: no I/O. Prekeys are public keys (kept as hex); nothing here holds a private
key, a message or a franking key.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import replace

from eventsourcing.domain import Aggregate, event

from hearth_eventlog.published import aggregate_name, published, register_aliases
from hearth_proto.hearth.messaging.v1 import events_pb2

from .policy import AccountFacts

NAMESPACE = uuid.UUID("0b6f2b9e-2f43-4c57-9a53-5a0d6c3e51f4")
MAX_GROUP_MEMBERS = 50


@functools.lru_cache(maxsize=65_536)
def derived_id(kind: str, *parts: str) -> uuid.UUID:
    """An aggregate id derived from what names it, so a retry finds the same aggregate.

    Remembered: the relay derives an account's settings and facts ids on every message, and
    a SHA-1 each time was a measurable part of a send (py-spy)."""
    return uuid.uuid5(NAMESPACE, "\x1f".join((kind, *parts)))


@aggregate_name("messaging.DeviceKeys")
class DeviceKeys(Aggregate):
    """One device's entry in the prekey directory."""

    @staticmethod
    def create_id(device_id: str) -> uuid.UUID:
        return derived_id("device", device_id)

    @published(events_pb2.DeviceKeysPublished)
    class Published(Aggregate.Created):
        device_id: str
        account_id: str
        identity_key: str
        signed_prekey_id: int
        signed_prekey: str
        signature: str

    @event(Published)
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

    @published(events_pb2.SignedPrekeyRotated)
    class SignedPrekeyRotated(Aggregate.Event):
        signed_prekey_id: int
        signed_prekey: str
        signature: str

    @event(SignedPrekeyRotated)
    def rotate(self, signed_prekey_id: int, signed_prekey: str, signature: str) -> None:
        self.signed_prekey_id = signed_prekey_id
        self.signed_prekey = signed_prekey
        self.signature = signature

    def add_one_time(self, prekeys: dict[int, str]) -> None:
        fresh = {k: v for k, v in prekeys.items() if k not in self.one_time and k not in self.used}
        if fresh:
            self._add_one_time(prekeys=fresh)

    @published(events_pb2.OneTimePrekeysAdded)
    class OneTimePrekeysAdded(Aggregate.Event):
        prekeys: dict[int, str]

    @event(OneTimePrekeysAdded)
    def _add_one_time(self, prekeys: dict[int, str]) -> None:
        self.one_time.update(prekeys)

    def take_one_time(self) -> tuple[int, str] | None:
        """The next one-time prekey, now used up (None when none are left)."""
        if not self.one_time:
            return None
        prekey_id = min(self.one_time)
        key = self.one_time[prekey_id]
        self._consume(prekey_id=prekey_id)
        return prekey_id, key

    @published(events_pb2.OneTimePrekeyConsumed)
    class OneTimePrekeyConsumed(Aggregate.Event):
        prekey_id: int

    @event(OneTimePrekeyConsumed)
    def _consume(self, prekey_id: int) -> None:
        self.one_time.pop(prekey_id, None)
        self.used.add(prekey_id)


@aggregate_name("messaging.AccountDevices")
class AccountDevices(Aggregate):
    """The devices an account has published, for fan-out."""

    @staticmethod
    def create_id(account_id: str) -> uuid.UUID:
        return derived_id("devices", account_id)

    @published(events_pb2.AccountDevicesStarted)
    class Started(Aggregate.Created):
        account_id: str

    @event(Started)
    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.devices: list[str] = []

    @published(events_pb2.AccountDeviceAdded)
    class DeviceAdded(Aggregate.Event):
        device_id: str

    @event(DeviceAdded)
    def add(self, device_id: str) -> None:
        self.devices.append(device_id)


@aggregate_name("messaging.Conversation")
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


@aggregate_name("messaging.ContactDecision")
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


@aggregate_name("messaging.RelayedMessage")
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


@aggregate_name("messaging.AccountSettings")
class AccountSettings(Aggregate):
    """An account's own choices: whom it blocks, which conversations it muted."""

    @staticmethod
    def create_id(account_id: str) -> uuid.UUID:
        return derived_id("settings", account_id)

    @published(events_pb2.AccountSettingsStarted)
    class Started(Aggregate.Created):
        account_id: str

    @event(Started)
    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.blocked: set[str] = set()
        self.muted: set[str] = set()

    @published(events_pb2.AccountBlocked)
    class Blocked(Aggregate.Event):
        account_id: str

    @event(Blocked)
    def block(self, account_id: str) -> None:
        self.blocked.add(account_id)

    @published(events_pb2.AccountUnblocked)
    class Unblocked(Aggregate.Event):
        account_id: str

    @event(Unblocked)
    def unblock(self, account_id: str) -> None:
        self.blocked.discard(account_id)

    @published(events_pb2.ConversationMuted)
    class Muted(Aggregate.Event):
        conversation_id: str

    @event(Muted)
    def mute(self, conversation_id: str) -> None:
        self.muted.add(conversation_id)

    @published(events_pb2.ConversationUnmuted)
    class Unmuted(Aggregate.Event):
        conversation_id: str

    @event(Unmuted)
    def unmute(self, conversation_id: str) -> None:
        self.muted.discard(conversation_id)


@aggregate_name("messaging.ContactFacts")
class ContactFacts(Aggregate):
    """What identity has told messaging about one account, as the contact policy needs it."""

    @staticmethod
    def create_id(account_id: str) -> uuid.UUID:
        return derived_id("facts", account_id)

    @published(events_pb2.ContactFactsStarted)
    class Started(Aggregate.Created):
        account_id: str

    @event(Started)
    def __init__(self, account_id: str) -> None:
        self.facts = AccountFacts(account_id)

    @published(events_pb2.ContactFactNoted)
    class Noted(Aggregate.Event):
        fact: str
        value: str
        present: bool

    @event(Noted)
    def note(self, fact: str, value: str, present: bool = True) -> None:
        """One fact learned from an identity event: ("role", "child"), ("guardian", id),
        ("house_rules", "2")..., or from a safety action: ("suspended", action id)..."""
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
                "suspended": "suspended",
                "restricted": "restricted",
                "safety_block": "safety_blocks",
            }[fact]
            values: frozenset[str] = getattr(f, name)
            values = values | {value} if present else values - {value}
            self.facts = replace(f, **{name: values})  # type: ignore[arg-type]


@aggregate_name("messaging.RelayKeyRecord")
class RelayKeyRecord(Aggregate):
    """A relay signing key's public half, recorded so anyone can verify the stamps it made."""

    @staticmethod
    def create_id(key_id: str) -> uuid.UUID:
        return derived_id("relay-key", key_id)

    @published(events_pb2.RelayKeyPublished)
    class Published(Aggregate.Created):
        key_id: str
        algorithm: str
        public_key: bytes

    @event(Published)
    def __init__(self, key_id: str, algorithm: str, public_key: bytes) -> None:
        self.key_id = key_id
        self.public_key = public_key


# Topics these events were stored under before they had schemas (eventsourcing's module:Class).
register_aliases(
    {
        "hearth_messaging.domain:DeviceKeys.Published": events_pb2.DeviceKeysPublished,
        "hearth_messaging.domain:DeviceKeys.SignedPrekeyRotated": events_pb2.SignedPrekeyRotated,
        "hearth_messaging.domain:DeviceKeys.OneTimePrekeysAdded": events_pb2.OneTimePrekeysAdded,
        "hearth_messaging.domain:DeviceKeys.OneTimePrekeyConsumed": (
            events_pb2.OneTimePrekeyConsumed
        ),
        "hearth_messaging.domain:AccountDevices.Started": events_pb2.AccountDevicesStarted,
        "hearth_messaging.domain:AccountDevices.DeviceAdded": events_pb2.AccountDeviceAdded,
        "hearth_messaging.domain:AccountSettings.Started": events_pb2.AccountSettingsStarted,
        "hearth_messaging.domain:AccountSettings.Blocked": events_pb2.AccountBlocked,
        "hearth_messaging.domain:AccountSettings.Unblocked": events_pb2.AccountUnblocked,
        "hearth_messaging.domain:AccountSettings.Muted": events_pb2.ConversationMuted,
        "hearth_messaging.domain:AccountSettings.Unmuted": events_pb2.ConversationUnmuted,
        "hearth_messaging.domain:ContactFacts.Started": events_pb2.ContactFactsStarted,
        "hearth_messaging.domain:ContactFacts.Noted": events_pb2.ContactFactNoted,
    }
)
