"""Conversations under the contact policy, the house rules, blocking and muting, and the
record keeper an organisation may require in its practitioners' conversations with young
people (a declared member, end to end; not a contact the policy decides)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from uuid import UUID

from hearth_runtime.errors import Conflict, Exhausted, Invalid, NotFound, Refused

from .caches import Fresh
from .directory import PrekeyDirectory
from .domain import MAX_GROUP_MEMBERS, AccountSettings, ContactDecision, Conversation
from .policy import AccountFacts, ContactPolicy, Decision
from .recording import KEEPER_ROLE, YOUNG_ROLES


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
class Recording:
    """A conversation an organisation records: its keeper is a member."""

    organisation_id: str
    keeper_account_id: str


def keeper_required(recording: Recording) -> Refused:
    return Refused(
        f"conversations of organisation {recording.organisation_id} between practitioners and "
        f"young people are recorded: its record keeper {recording.keeper_account_id} must be a "
        "member, and each message must be sent to its device too",
        reason="RECORD_KEEPER_REQUIRED",
        metadata={
            "organisation_id": recording.organisation_id,
            "keeper_account_id": recording.keeper_account_id,
        },
    )


class Conversations(PrekeyDirectory):
    contact_policy: ContactPolicy
    house_rules_version: int
    _cached: Fresh

    # --- the record keeper ----------------------------------------------------------------

    def recordings(
        self, members: Iterable[str], caller: AccountFacts | None = None
    ) -> list[Recording]:
        """The organisations that record a conversation of these members: each organisation
        with a keeper in which a vetted practitioner member meets a young person member."""
        facts = [caller if caller and m == caller.account_id else self.facts(m) for m in members]
        young = [f for f in facts if f.roles & YOUNG_ROLES]
        found: dict[str, Recording] = {}
        for practitioner in (f for f in facts if "practitioner" in f.roles):
            for person in young:
                for organisation in sorted(practitioner.vetted_in & person.organisations):
                    keeping = self.record_keeping(organisation)
                    if keeping is not None:
                        found[organisation] = Recording(organisation, keeping.keeper_account_id)
        return list(found.values())

    def require_keepers(self, members: list[str], caller: AccountFacts | None = None) -> set[str]:
        """The keepers among `members`, once every keeper the conversation needs is one of them
        and no keeper is there for an organisation that has no practitioner in it."""
        keepers = {m for m in members if KEEPER_ROLE in self.facts(m).roles}
        people = [m for m in members if m not in keepers]
        for recording in self.recordings(people, caller):
            if recording.keeper_account_id not in keepers:
                raise keeper_required(recording)
        vetted = set().union(*(self.facts(m).vetted_in for m in people))
        for keeper in keepers:
            if not any(self._keeps(keeper, organisation) for organisation in vetted):
                raise Refused(
                    "a record keeper joins only conversations of its own organisation's "
                    "practitioners",
                    reason="RECORD_KEEPER_NOT_RECORDING",
                )
        return keepers

    def _keeps(self, keeper: str, organisation: str) -> bool:
        keeping = self.record_keeping(organisation)
        return keeping is not None and keeping.keeper_account_id == keeper

    def recording_of(self, conversation: Conversation) -> Recording | None:
        """How members are told their conversation is recorded, and by whom."""
        keepers = {m for m in conversation.members if KEEPER_ROLE in self.facts(m).roles}
        found = self.recordings([m for m in conversation.members if m not in keepers])
        return found[0] if found else None

    def young_people(self, conversation: Conversation) -> list[str]:
        return [m for m in conversation.members if self.facts(m).roles & YOUNG_ROLES]

    def require_keeper_copy(self, conversation: Conversation, recipients: set[str]) -> None:
        """The relay's check: a recorded conversation's messages go to its keeper too."""
        keepers = {m for m in conversation.members if KEEPER_ROLE in self.facts(m).roles}
        for recording in self.recordings(m for m in conversation.members if m not in keepers):
            if recording.keeper_account_id not in recipients:
                raise keeper_required(recording)

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
        if kind == "group" and not 1 <= len(others) <= MAX_GROUP_MEMBERS - 1:
            raise Invalid(f"a group has 2 to {MAX_GROUP_MEMBERS} members")
        # A record keeper is a declared member, not a contact: a direct conversation of a
        # practitioner and a young person has the keeper as a third member.
        keepers = self.require_keepers([caller.account_id, *others], caller)
        others_people = [o for o in others if o not in keepers]
        if kind == "direct" and len(others_people) != 1:
            raise Invalid("a direct conversation has exactly one other member")
        self.require_house_rules(caller.account_id)
        self._refuse_safety_actions(caller.account_id, others_people, [])
        decision, refused = self._decide(caller, others_people, [])
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
        keepers = self.require_keepers([*conversation.members, account_id], caller)
        others = [m for m in conversation.members if m != caller.account_id and m not in keepers]
        if account_id not in keepers:  # a keeper is a declared member, not a contact
            self._refuse_safety_actions(caller.account_id, [account_id], others)
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

    def _refuse_safety_actions(
        self, caller: str, newcomers: Sequence[str], present: Sequence[str]
    ) -> None:
        """A restricted account starts nothing and adds nobody; a safety block keeps two
        accounts out of any new conversation together."""
        if self.facts(caller).restricted:
            raise Refused(
                "your account is restricted by the safety team: you cannot start "
                "conversations or add members",
                reason="ACCOUNT_RESTRICTED",
            )
        members = [caller, *present]
        for newcomer in newcomers:
            blocks = self.facts(newcomer).safety_blocks
            if any(m in blocks for m in members if m != newcomer):
                raise Refused(
                    "the safety team has blocked contact between these accounts",
                    reason="SAFETY_BLOCK",
                )

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
        key = UUID(conversation_id)
        conversation: Conversation | None = self._cached.get(
            key, lambda: self._get(Conversation, key)
        )
        if conversation is None:
            raise NotFound(f"no conversation {conversation_id}")
        return conversation

    def _cache_conversation(self, conversation: Conversation) -> Conversation:
        self._cached.put(conversation.id, conversation)
        return conversation

    def _save_conversation(self, conversation: Conversation) -> None:
        try:
            self.save(conversation)
        except BaseException:
            self._cached.forget(conversation.id)  # drop the change that was not recorded
            raise

    def is_muted(self, account_id: str, conversation_id: str) -> bool:
        settings = self._account_settings(account_id)
        return settings is not None and conversation_id in settings.muted

    # --- blocking and muting --------------------------------------------------------------

    def change_settings(self, account_id: str, change: Callable[[AccountSettings], None]) -> None:
        with self._cache_lock:  # one change at a time in this replica (others: the log)
            settings = self._account_settings(account_id) or AccountSettings(account_id)
            change(settings)
            try:
                self.save(settings)
            except BaseException:
                self._cached.forget(settings.id)
                raise
            self._cached.put(settings.id, settings)

    def _account_settings(self, account_id: str) -> AccountSettings | None:
        """Cached, absence included (`caches`: forgotten when any replica changes them)."""
        key = AccountSettings.create_id(account_id)
        found: AccountSettings | None = self._cached.get(
            key, lambda: self._get(AccountSettings, key)
        )
        return found
