"""Following identity and safety: their published events become `ContactFacts`, the policy's
view (identity's facts, and the safety team's actions in force).

`IdentityFollower` is the bottom layer of the `Messaging` application: it owns the
contact-facts cache and the repository plumbing every layer above uses.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProcessingEvent
from eventsourcing.domain import Aggregate
from google.protobuf.message import Message

from hearth_crypto.age_band import AgeBand
from hearth_eventlog import TracedNotification
from hearth_eventlog.published import decode_published
from hearth_proto.hearth.identity.v1 import events_pb2 as identity_events
from hearth_proto.hearth.safety.v1 import events_pb2 as safety_events
from hearth_runtime.application import FollowingApplication
from hearth_runtime.revocation import REVOKING_TOPICS

from .caches import Fresh
from .domain import ContactFacts, Conversation
from .recording import KEEPER_ROLE, RecordKeeping

A = TypeVar("A", bound=Aggregate)
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

# From safety: the actions messaging enforces (issue 11 part 3).
SAFETY_ACTIONS = frozenset(
    m.DESCRIPTOR.full_name for m in (safety_events.CaseActionTaken, safety_events.CaseActionLifted)
)


def _role_name(number: int) -> str:
    """The role's enum name, read from the event's own schema (not identity's RPC module)."""
    roles = identity_events.AccountRegistered.DESCRIPTOR.fields_by_name["role"].enum_type
    assert roles is not None
    return roles.values_by_number[number].name


def _label(enum_name: str, prefix: str) -> str:
    return enum_name.removeprefix(prefix).lower()


class IdentityFollower(FollowingApplication):
    # From identity: the policy's facts, and whose sessions to stop honouring; from safety:
    # the safeguarding team's actions.
    topics: ClassVar[frozenset[str] | None] = IDENTITY_FACTS | REVOKING_TOPICS | SAFETY_ACTIONS
    _cache_lock: threading.RLock
    _cached: Fresh
    _pending_facts: dict[str, ContactFacts]
    _pending_conversations: list[str]
    _pending_keepers: dict[str, RecordKeeping]

    def policy(
        self, upstream: str, notification: TracedNotification, processing: ProcessingEvent[UUID]
    ) -> None:
        message = decode_published(notification.topic, notification.state)
        if message is None:
            return
        touched = self._pending_facts  # earlier notifications of the same batch come first
        if isinstance(message, safety_events.CaseActionTaken) and message.kind == "remove":
            self._remove_member(message, processing)
        notes = (
            safety_notes(message)
            if notification.topic in SAFETY_ACTIONS
            else identity_notes(notification.topic, str(notification.originator_id), message)
        )
        for account, fact, value, present in notes:
            facts = touched.get(account) or self._contact_facts(account) or ContactFacts(account)
            facts.note(fact, value, present)
            touched[account] = facts
            self._declare_keeper(facts)
        processing.collect_events(*touched.values(), *self._pending_keepers.values())

    def _declare_keeper(self, known: ContactFacts) -> None:
        """A record keeper account in an organisation: the organisation's conversations of
        practitioners with young people are recorded from now on (its first keeper stays)."""
        facts = known.facts
        if KEEPER_ROLE not in facts.roles:
            return
        for organisation in facts.organisations:
            if organisation in self._pending_keepers or self.record_keeping(organisation):
                continue
            self._pending_keepers[organisation] = RecordKeeping(organisation, facts.account_id)

    def _remove_member(
        self, action: safety_events.CaseActionTaken, processing: ProcessingEvent[UUID]
    ) -> None:
        """The safety team removed a member: they leave the conversation."""
        try:
            conversation = self._get(Conversation, UUID(action.conversation_id))
        except ValueError:
            return
        if conversation is None:
            return
        for account in action.accounts:
            if account in conversation.members:
                conversation.leave(account)
        processing.collect_events(conversation)
        self._pending_conversations.append(action.conversation_id)

    def process(self, upstream: str, notifications: Sequence[TracedNotification]) -> bool:
        self._pending_facts = {}
        self._pending_conversations = []
        self._pending_keepers = {}
        with self._cache_lock:
            try:
                recorded = super().process(upstream, notifications)
            except BaseException:
                for facts in self._pending_facts.values():
                    self._cached.forget(facts.id)  # reload what was not recorded
                for keeping in self._pending_keepers.values():
                    self._cached.forget(keeping.id)
                raise
            finally:
                for conversation_id in self._pending_conversations:
                    self._cached.forget(UUID(conversation_id))  # reloaded when next used
            for kept in (
                *self._pending_facts.values(),
                *self._pending_keepers.values(),
            ):
                self._cached.put(kept.id, kept)
            return recorded

    def record_keeping(self, organisation_id: str) -> RecordKeeping | None:
        """The organisation's record keeper, if it runs one (cached, absence included;
        `caches`: forgotten when any replica records a change)."""
        key = RecordKeeping.create_id(organisation_id)
        found: RecordKeeping | None = self._cached.get(key, lambda: self._get(RecordKeeping, key))
        return found

    def _contact_facts(self, account_id: str) -> ContactFacts | None:
        """Cached, absence included (`caches`: forgotten when any replica records facts)."""
        key = ContactFacts.create_id(account_id)
        found: ContactFacts | None = self._cached.get(key, lambda: self._get(ContactFacts, key))
        return found

    # --- plumbing -------------------------------------------------------------------------

    def _get(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            found: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(found, cls):
            return None
        return found


def safety_notes(message: Message) -> list[tuple[str, str, str, bool]]:
    """The (account, fact, value, present) notes a safety action implies: a suspension or
    restriction by its action id, a block as each account's blocked other."""
    m = message
    if not isinstance(m, safety_events.CaseActionTaken | safety_events.CaseActionLifted):
        return []
    present = isinstance(m, safety_events.CaseActionTaken)
    accounts = list(m.accounts)
    if m.kind in ("suspend", "restrict"):
        fact = "suspended" if m.kind == "suspend" else "restricted"
        return [(a, fact, m.action_id, present) for a in accounts]
    if m.kind == "block" and len(accounts) == 2:
        a, b = accounts
        return [(a, "safety_block", b, present), (b, "safety_block", a, present)]
    return []


def identity_notes(
    topic: str, originator: str, message: Message
) -> list[tuple[str, str, str, bool]]:
    """The (account, fact, value, present) notes one identity event implies for the policy."""
    m = message
    if isinstance(m, identity_events.AccountRegistered):
        return [(originator, "role", _label(_role_name(m.role), "ROLE_"), True)]
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
