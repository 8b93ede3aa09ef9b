"""The messaging application: prekey directory, policy-checked conversations, the relay.

It also follows identity's published events into `ContactFacts`, the contact policy's view
of every account. Caches are per process: one messaging instance owns its aggregates (a
second instance would still be kept correct by the event log's concurrency checks, which
surface here as retries or ALREADY_EXISTS). The servicer has checked the shape of every
field (ids are UUIDs) before a method here sees it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from google.protobuf.message import Message

from hearth_crypto.age_band import AgeBand
from hearth_crypto.franking import stamp_commitment
from hearth_crypto.x3dh import InvalidPrekeySignature, InvalidPublicKey, PrekeyBundle, PublicPrekey
from hearth_eventlog import TracedNotification
from hearth_eventlog.published import decode_published
from hearth_proto.hearth.identity.v1 import events_pb2 as identity_events
from hearth_proto.hearth.identity.v1 import identity_pb2
from hearth_proto.hearth.messaging.v1 import messaging_pb2
from hearth_runtime.application import FollowingApplication, retrying
from hearth_runtime.errors import AlreadyDone, Conflict, Exhausted, Invalid, NotFound, Refused
from hearth_runtime.revocation import REVOKING_TOPICS

from .domain import (
    MAX_GROUP_MEMBERS,
    AccountDevices,
    AccountSettings,
    ContactDecision,
    ContactFacts,
    Conversation,
    DeviceKeys,
    RelayedMessage,
)
from .mailbox import Mailboxes
from .policy import AccountFacts, ContactPolicy, Decision

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")
# The identity events the contact policy's facts come from (`identity_notes`).
IDENTITY_FACTS = frozenset(
    m.DESCRIPTOR.full_name
    for m in (
        identity_events.AccountRegistered,
        identity_events.AccountAgeBandSet,
        identity_events.OrganisationMemberAdded,
        identity_events.PractitionerVetted,
        identity_events.GuardianLinked,
        identity_events.GuardianConsentRecorded,
        identity_events.ContactApproved,
        identity_events.HouseRulesAccepted,
        identity_events.AccountErased,
    )
)


class ContactRefused(Refused):
    """The contact policy refused: the reason is the policy's, e.g. NO_PARENTAL_CONSENT."""

    def __init__(self, decision: Decision, account_id: str) -> None:
        super().__init__(
            f"contact refused ({decision.reason_code}): {decision.reason}",
            reason=decision.reason_code.upper(),
            metadata={"policy_version": str(decision.version)},
        )
        self.decision = decision
        self.account_id = account_id


class HouseRulesNotAccepted(Conflict):
    reason = "HOUSE_RULES_NOT_ACCEPTED"


@dataclass(frozen=True)
class RelayLimits:
    max_ciphertext_bytes: int = 64 * 1024
    max_recipient_devices: int = 500
    rate_per_second: float = 20.0
    burst: int = 60


@dataclass(frozen=True)
class Relayed:
    relayed_at_ms: int
    stamp: bytes


class TokenBucket:
    """Per-device send rate: `rate` per second, bursts up to `burst`."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            return True


def _label(enum_name: str, prefix: str) -> str:
    return enum_name.removeprefix(prefix).lower()


class Messaging(FollowingApplication):
    name = "messaging"
    # From identity: the policy's facts, and whose sessions to stop honouring.
    topics: ClassVar[frozenset[str] | None] = IDENTITY_FACTS | REVOKING_TOPICS

    def __init__(
        self,
        env: Mapping[str, str] | None,
        *,
        mailboxes: Mailboxes,
        policy: ContactPolicy,
        franking_key: bytes,
        limits: RelayLimits,
        house_rules_version: int = 1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(env)
        self.mailboxes = mailboxes
        self.contact_policy = policy
        self._franking_key = franking_key
        self.limits = limits
        self.house_rules_version = house_rules_version
        self.rate = TokenBucket(limits.rate_per_second, limits.burst)
        self.clock = clock
        self._device_owner: dict[str, str] = {}
        self._conversations: dict[str, Conversation] = {}
        self._settings: dict[str, AccountSettings | None] = {}
        self._facts: dict[str, ContactFacts | None] = {}
        self._cache_lock = threading.RLock()
        self._sender_locks: dict[str, threading.Lock] = {}
        self._pending_facts: dict[str, ContactFacts] = {}

    # --- the prekey directory -------------------------------------------------------------

    def publish_prekeys(
        self,
        account_id: str,
        device_id: str,
        identity_key: bytes,
        signed_prekey: PublicPrekey,
        signature: bytes,
        one_time: Iterable[PublicPrekey],
    ) -> int:
        try:
            PrekeyBundle(identity_key, signed_prekey, signature).verify()
        except (InvalidPrekeySignature, InvalidPublicKey) as e:
            raise Invalid(f"signed prekey refused: {e}") from e
        fresh = {p.prekey_id: p.public_key.hex() for p in one_time}

        def attempt() -> int:
            keys = self._get(DeviceKeys, DeviceKeys.create_id(device_id))
            changed: list[Aggregate] = []
            if keys is None:
                keys = DeviceKeys(
                    device_id,
                    account_id,
                    identity_key.hex(),
                    signed_prekey.prekey_id,
                    signed_prekey.public_key.hex(),
                    signature.hex(),
                )
                devices = self._get(AccountDevices, AccountDevices.create_id(account_id))
                devices = devices or AccountDevices(account_id)
                devices.add(device_id)
                changed.append(devices)
            elif keys.account_id != account_id:
                raise Refused("this device belongs to another account")
            elif keys.identity_key != identity_key.hex():
                raise Conflict("a device's identity key cannot change; register a new device")
            elif keys.signed_prekey != signed_prekey.public_key.hex():
                keys.rotate(
                    signed_prekey.prekey_id, signed_prekey.public_key.hex(), signature.hex()
                )
            keys.add_one_time(fresh)
            self.save(keys, *changed)
            return len(keys.one_time)

        left = retrying(attempt)
        with self._cache_lock:
            self._device_owner[device_id] = account_id
        return left

    def count_prekeys(self, account_id: str, device_id: str) -> int:
        return len(self._own_device(account_id, device_id).one_time)

    def fetch_bundle(self, device_id: str) -> tuple[DeviceKeys, tuple[int, str] | None]:
        """The device's bundle; its one-time prekey is consumed here, once, even under races."""

        def attempt() -> tuple[DeviceKeys, tuple[int, str] | None]:
            keys = self._get(DeviceKeys, DeviceKeys.create_id(device_id))
            if keys is None:
                raise NotFound(f"no device {device_id}")
            taken = keys.take_one_time()
            if taken is not None:
                self.save(keys)  # a racing fetch of the same prekey fails its concurrency check
            return keys, taken

        return retrying(attempt)

    def list_devices(self, account_id: str) -> list[DeviceKeys]:
        devices = self._get(AccountDevices, AccountDevices.create_id(account_id))
        if devices is None:
            return []
        found = [self._get(DeviceKeys, DeviceKeys.create_id(d)) for d in devices.devices]
        return [k for k in found if k is not None]

    def device_owner(self, device_id: str) -> str | None:
        with self._cache_lock:
            owner = self._device_owner.get(device_id)
        if owner is None:
            keys = self._get(DeviceKeys, DeviceKeys.create_id(device_id))
            if keys is None:
                return None
            owner = keys.account_id
            with self._cache_lock:
                self._device_owner[device_id] = owner
        return owner

    def _own_device(self, account_id: str, device_id: str) -> DeviceKeys:
        keys = self._get(DeviceKeys, DeviceKeys.create_id(device_id))
        if keys is None:
            raise NotFound(f"no device {device_id}")
        if keys.account_id != account_id:
            raise Refused("this device belongs to another account")
        return keys

    def check_own_device(self, account_id: str, device_id: str) -> None:
        owner = self.device_owner(device_id)
        if owner is None:
            raise NotFound(f"no device {device_id}")
        if owner != account_id:
            raise Refused("this device belongs to another account")

    # --- the house rules -------------------------------------------------------------------

    def require_house_rules(self, account_id: str) -> None:
        """Only an account that accepted the house rules in force may talk (FAILED_PRECONDITION).

        Messaging learns acceptance from identity's HouseRulesAccepted, so an acceptance made a
        moment ago may not have arrived yet: the message says to retry.
        """
        accepted = self.facts(account_id).house_rules_version
        if accepted < self.house_rules_version:
            had = f"you accepted version {accepted}" if accepted else "you have not accepted them"
            raise HouseRulesNotAccepted(
                f"accept the house rules in force (version {self.house_rules_version}) with "
                f"identity's AcceptHouseRules before messaging; {had} (an acceptance made just "
                "now may take a moment to reach messaging: retry)"
            )

    # --- conversations and the contact policy ---------------------------------------------

    def facts(self, account_id: str, session: AccountFacts | None = None) -> AccountFacts:
        """The policy's view of an account: identity's events, its blocks, and its session.

        A session always names a band: the attested one while it lasts, else the youngest
        (identity's rule). So the session's band counts only once identity has published an
        attested band; before that the policy's own unattested rules apply (a vetted
        practitioner is an adult, a young person 13-15), not "under 13" for everyone.
        """
        known = self._contact_facts(account_id)
        facts = known.facts if known is not None else AccountFacts(account_id)
        settings = self._account_settings(account_id)
        if settings is not None:
            facts = replace(facts, blocked=frozenset(settings.blocked))
        if session is not None:
            facts = replace(
                facts,
                roles=facts.roles | session.roles,
                band=(session.band or facts.band) if facts.band else "",
                organisations=facts.organisations | session.organisations,
            )
        return facts

    def start_conversation(
        self, caller: AccountFacts, request_id: str, kind: str, others: list[str]
    ) -> Conversation:
        conversation_id = Conversation.id_for(caller.account_id, request_id)
        existing = self._get(Conversation, conversation_id)
        if existing is not None:
            return existing  # a retried request
        others = list(dict.fromkeys(others))
        if kind == "direct" and len(others) != 1:
            raise Invalid("a direct conversation has exactly one other member")
        if kind == "group" and not 1 <= len(others) <= MAX_GROUP_MEMBERS - 1:
            raise Invalid(f"a group has 2 to {MAX_GROUP_MEMBERS} members")
        self.require_house_rules(caller.account_id)
        decision, refused = self._decide(caller, others, [])
        self._record_decision(caller.account_id, others, "start_conversation", decision)
        if not decision.allowed:
            raise ContactRefused(decision, refused)
        conversation = Conversation._create(  # its id derives from the request
            Conversation.Started,
            id=conversation_id,
            kind=kind,
            member_account_ids=[caller.account_id, *others],
            started_by=caller.account_id,
        )
        self.save(conversation)
        return self._cache_conversation(conversation)

    def add_member(
        self, caller: AccountFacts, conversation_id: str, account_id: str
    ) -> Conversation:
        conversation = self.conversation_of(caller.account_id, conversation_id)
        if conversation.kind != "group":
            raise Conflict("members can only be added to a group")
        if account_id in conversation.members:
            return conversation
        if len(conversation.members) >= MAX_GROUP_MEMBERS:
            raise Exhausted(f"a group has at most {MAX_GROUP_MEMBERS} members")
        self.require_house_rules(caller.account_id)
        others = [m for m in conversation.members if m != caller.account_id]
        decision, refused = self._decide(caller, [account_id], others)
        self._record_decision(caller.account_id, [account_id], "add_member", decision)
        if not decision.allowed:
            raise ContactRefused(decision, refused)
        conversation.add_member(account_id, caller.account_id)
        self._save_conversation(conversation)
        return conversation

    def leave(self, account_id: str, conversation_id: str) -> None:
        conversation = self.conversation_of(account_id, conversation_id)
        conversation.leave(account_id)
        self._save_conversation(conversation)

    def _decide(
        self, caller: AccountFacts, newcomers: list[str], present: list[str]
    ) -> tuple[Decision, str]:
        """Every pair that would newly share the conversation must be allowed contact."""
        facts = {a: self.facts(a) for a in [*newcomers, *present]}
        pairs = [(caller, facts[n]) for n in newcomers]
        members = [*newcomers, *present]
        pairs += [
            (facts[a], facts[b])
            for i, a in enumerate(members)
            for b in members[i + 1 :]
            if a in newcomers or b in newcomers
        ]
        allowed: Decision | None = None
        for source, target in pairs:
            decision = self.contact_policy.decide(source, target)
            if not decision.allowed:
                return decision, target.account_id
            allowed = allowed or decision
        assert allowed is not None
        return allowed, ""

    def _record_decision(
        self, requested_by: str, accounts: list[str], action: str, decision: Decision
    ) -> None:
        self.save(
            ContactDecision(
                requested_by,
                accounts,
                action,
                decision.allowed,
                decision.reason_code,
                decision.version,
            )
        )

    def conversation_of(self, account_id: str, conversation_id: str) -> Conversation:
        """A conversation the account is a member of (NOT_FOUND / PERMISSION_DENIED)."""
        conversation = self._conversation(conversation_id)
        if account_id not in conversation.members:
            raise Refused("you are not a member of this conversation")
        return conversation

    def _conversation(self, conversation_id: str) -> Conversation:
        with self._cache_lock:
            cached = self._conversations.get(conversation_id)
        if cached is not None:
            return cached
        conversation = self._get(Conversation, UUID(conversation_id))
        if conversation is None:
            raise NotFound(f"no conversation {conversation_id}")
        return self._cache_conversation(conversation)

    def _cache_conversation(self, conversation: Conversation) -> Conversation:
        with self._cache_lock:
            return self._conversations.setdefault(str(conversation.id), conversation)

    def _save_conversation(self, conversation: Conversation) -> None:
        try:
            self.save(conversation)
        except BaseException:
            with self._cache_lock:  # drop the change that was not recorded
                self._conversations.pop(str(conversation.id), None)
            raise

    def is_muted(self, account_id: str, conversation_id: str) -> bool:
        settings = self._account_settings(account_id)
        return settings is not None and conversation_id in settings.muted

    # --- blocking and muting --------------------------------------------------------------

    def change_settings(self, account_id: str, change: Callable[[AccountSettings], None]) -> None:
        with self._cache_lock:
            settings = self._account_settings(account_id) or AccountSettings(account_id)
            change(settings)
            try:
                self.save(settings)
            except BaseException:
                self._settings.pop(account_id, None)
                raise
            self._settings[account_id] = settings

    def _account_settings(self, account_id: str) -> AccountSettings | None:
        """Cached, absence included: only this application changes settings."""
        with self._cache_lock:
            if account_id in self._settings:
                return self._settings[account_id]
        found = self._get(AccountSettings, AccountSettings.create_id(account_id))
        with self._cache_lock:
            return self._settings.setdefault(account_id, found)

    # --- the relay ------------------------------------------------------------------------

    def relay(
        self,
        sender_account: str,
        request: messaging_pb2.SendEnvelopeRequest,
    ) -> Relayed:
        """Check, stamp, record (metadata only) and deliver one envelope."""
        copies = list(request.ciphertexts)
        if len(copies) > self.limits.max_recipient_devices:
            raise Exhausted(f"at most {self.limits.max_recipient_devices} device ciphertexts")
        for copy in copies:
            if len(copy.ciphertext) > self.limits.max_ciphertext_bytes:
                raise Exhausted(
                    f"a ciphertext of {len(copy.ciphertext)} bytes exceeds the limit of "
                    f"{self.limits.max_ciphertext_bytes}"
                )
        self.check_own_device(sender_account, request.sender_device_id)
        conversation = self.conversation_of(sender_account, request.conversation_id)
        self.require_house_rules(sender_account)
        blockers = {
            m
            for m in conversation.members
            if m != sender_account and sender_account in self.facts(m).blocked
        }
        if blockers and conversation.kind == "direct":
            raise Refused("the recipient does not accept messages from you (blocked)")
        deliveries: list[tuple[str, str]] = []
        for copy in copies:
            if copy.device_id == request.sender_device_id:
                raise Invalid("do not send a ciphertext to the sending device")
            owner = self.device_owner(copy.device_id)
            if owner is None:
                raise NotFound(f"no device {copy.device_id}")
            if owner not in conversation.members:
                raise Invalid(f"device {copy.device_id} is not a member's device")
            if owner not in blockers:
                deliveries.append((copy.device_id, owner))
        if not self.rate.take(request.sender_device_id):
            raise Exhausted("sending too fast; slow down and retry")

        with self._sender_lock(request.sender_device_id):  # one sender's order is kept
            now_ms = int(self.clock() * 1000)
            stamp = stamp_commitment(
                self._franking_key,
                request.franking_commitment,
                request.sender_device_id,
                request.conversation_id,
                now_ms,
            )
            message = RelayedMessage._create(  # its id derives from the message id
                RelayedMessage.Relayed,
                id=RelayedMessage.id_for(request.message_id),
                conversation_id=request.conversation_id,
                sender_account_id=sender_account,
                sender_device_id=request.sender_device_id,
                recipient_devices=len(deliveries),
                ciphertext_bytes=sum(len(c.ciphertext) for c in copies),
            )
            try:
                self.save(message)
            except IntegrityError as e:
                raise AlreadyDone(f"message {request.message_id} was relayed already") from e
            by_device = {c.device_id: c.ciphertext for c in copies}
            self.mailboxes.deliver(
                [
                    (
                        device,
                        messaging_pb2.Envelope(
                            message_id=request.message_id,
                            conversation_id=request.conversation_id,
                            sender_account_id=sender_account,
                            sender_device_id=request.sender_device_id,
                            ciphertext=by_device[device],
                            franking_commitment=request.franking_commitment,
                            franking_stamp=stamp.stamp,
                            relayed_at_ms=now_ms,
                            muted=self.is_muted(owner, request.conversation_id),
                        ).SerializeToString(),
                    )
                    for device, owner in deliveries
                ]
            )
        return Relayed(now_ms, stamp.stamp)

    def _sender_lock(self, device_id: str) -> threading.Lock:
        with self._cache_lock:
            return self._sender_locks.setdefault(device_id, threading.Lock())

    # --- following identity ---------------------------------------------------------------

    def policy(
        self, upstream: str, notification: TracedNotification, processing: ProcessingEvent[UUID]
    ) -> None:
        message = decode_published(notification.topic, notification.state)
        if message is None:
            return
        touched = self._pending_facts  # earlier notifications of the same batch come first
        for account, fact, value, present in identity_notes(
            notification.topic, str(notification.originator_id), message
        ):
            facts = touched.get(account) or self._contact_facts(account) or ContactFacts(account)
            facts.note(fact, value, present)
            touched[account] = facts
        processing.collect_events(*touched.values())

    def process(self, upstream: str, notifications: Sequence[TracedNotification]) -> bool:
        self._pending_facts = {}
        with self._cache_lock:
            try:
                recorded = super().process(upstream, notifications)
            except BaseException:
                for account in self._pending_facts:
                    self._facts.pop(account, None)  # reload what was not recorded
                raise
            self._facts.update(self._pending_facts)
            return recorded

    def _contact_facts(self, account_id: str) -> ContactFacts | None:
        """Cached, absence included: the follower updates the cache as it records facts."""
        with self._cache_lock:
            if account_id in self._facts:
                return self._facts[account_id]
        found = self._get(ContactFacts, ContactFacts.create_id(account_id))
        with self._cache_lock:
            return self._facts.setdefault(account_id, found)

    # --- plumbing -------------------------------------------------------------------------

    def _get(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            found: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(found, cls):
            return None
        return found


def identity_notes(
    topic: str, originator: str, message: Message
) -> list[tuple[str, str, str, bool]]:
    """The (account, fact, value, present) notes one identity event implies for the policy."""
    m = message
    if isinstance(m, identity_events.AccountRegistered):
        return [(originator, "role", _label(identity_pb2.Role.Name(m.role), "ROLE_"), True)]
    if isinstance(m, identity_events.AccountAgeBandSet):
        return [(m.account_id, "band", AgeBand.of(m.band).label, True)]
    if isinstance(m, identity_events.OrganisationMemberAdded):
        return [(m.account_id, "organisation", m.organisation_id, True)]
    if isinstance(m, identity_events.PractitionerVetted):
        return [
            (m.account_id, "organisation", m.organisation_id, True),
            (m.account_id, "vetted_in", m.organisation_id, True),
        ]
    if isinstance(m, identity_events.GuardianLinked):
        return [(m.child_account_id, "guardian", m.guardian_account_id, True)]
    if isinstance(m, identity_events.GuardianConsentRecorded):
        return [(m.child_account_id, "consent_from", m.guardian_account_id, m.granted)]
    if isinstance(m, identity_events.ContactApproved):
        return [(m.child_account_id, "approved_contact", m.contact_account_id, True)]
    if isinstance(m, identity_events.HouseRulesAccepted):
        return [(m.account_id, "house_rules", str(m.version), True)]
    if isinstance(m, identity_events.AccountErased):
        return [(m.account_id, "erased", "", True)]
    return []
