"""The contact policy: who may start talking to whom. Pure; the table is operator data.

The default table is `DEFAULT_POLICY` below. An operator replaces it with a JSON file
(`HEARTH_MESSAGING_CONTACT_POLICY`): each cell of "from category" x "to category" lists the
rules of which one must hold, and every decision carries a stable reason code a client can
show and an auditor can count.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hearth_crypto.age_band import AgeBand

BANDS = tuple(band.label for band in AgeBand.known())  # youngest first
CATEGORIES = ("under_13", "13_17", "adult")
ADULT_ROLES = frozenset(
    {"guardian", "practitioner", "moderator", "safeguarding_lead", "auditor", "org_admin"}
)

# Rules a cell may name. Each is a relation between the two accounts.
RULES = frozenset(
    {
        "always",
        "guardian_approved",
        "own_guardian",
        "vetted_practitioner_same_org",
        "same_or_adjacent_band",
    }
)

DEFAULT_POLICY: dict[str, Any] = {
    "version": 1,
    # Without an attested band an account counts as the youngest band its role allows.
    "unattested_band": {"child": "under_13", "young_person": "13_15", "*": "under_13"},
    "require_parental_consent_under_13": True,
    "contact": {
        "under_13": {
            "under_13": ["guardian_approved"],
            "13_17": [],
            "adult": ["own_guardian", "vetted_practitioner_same_org"],
        },
        "13_17": {
            "under_13": [],
            "13_17": ["same_or_adjacent_band"],
            "adult": ["own_guardian", "vetted_practitioner_same_org"],
        },
        "adult": {
            "under_13": ["own_guardian", "vetted_practitioner_same_org"],
            "13_17": ["own_guardian", "vetted_practitioner_same_org"],
            "adult": ["always"],
        },
    },
}

REASONS = {
    "always": "adults may contact each other",
    "guardian_approved": "a guardian approved this contact",
    "own_guardian": "this is the child's own guardian",
    "vetted_practitioner_same_org": "a vetted practitioner of the same organisation",
    "same_or_adjacent_band": "young people of the same or an adjacent age band",
    "no_rule": "the contact policy does not allow contact between these age groups",
    "not_allowed": "the contact policy does not allow this contact",
    "blocked": "one of you has blocked the other",
    "account_erased": "this account no longer exists",
    "no_parental_consent": "a guardian has not consented to messaging for an under-13",
    "self": "you cannot start a conversation with yourself",
}

# The reasons a refusal of contact carries (`ErrorInfo` reason, PERMISSION_DENIED).
REFUSAL_REASONS = frozenset(code.upper() for code in REASONS if code not in RULES)


class PolicyError(ValueError):
    """The policy file is not a valid contact policy."""


@dataclass(frozen=True)
class AccountFacts:
    """What the policy knows of one account (from identity's events and the session)."""

    account_id: str
    roles: frozenset[str] = frozenset()
    band: str = ""
    organisations: frozenset[str] = frozenset()
    vetted_in: frozenset[str] = frozenset()
    guardians: frozenset[str] = frozenset()
    consent_from: frozenset[str] = frozenset()
    approved_contacts: frozenset[str] = frozenset()
    blocked: frozenset[str] = frozenset()
    erased: bool = False
    # The version of the house rules the account last accepted (0: never). Not a contact
    # rule: messaging refuses to let an account talk at all until it has accepted them.
    house_rules_version: int = 0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason_code: str
    version: int

    @property
    def reason(self) -> str:
        return REASONS.get(self.reason_code, self.reason_code)


@dataclass(frozen=True)
class ContactPolicy:
    version: int
    unattested_band: Mapping[str, str]
    require_parental_consent_under_13: bool
    contact: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)

    @classmethod
    def default(cls) -> ContactPolicy:
        return cls.from_data(DEFAULT_POLICY)

    @classmethod
    def load(cls, path: Path) -> ContactPolicy:
        try:
            return cls.from_data(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as e:
            raise PolicyError(f"cannot read contact policy {path}: {e}") from e

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ContactPolicy:
        try:
            contact = {
                source: {target: tuple(data["contact"][source][target]) for target in CATEGORIES}
                for source in CATEGORIES
            }
            unattested = dict(data["unattested_band"])
            version = int(data["version"])
            consent = bool(data.get("require_parental_consent_under_13", True))
        except (KeyError, TypeError, ValueError) as e:
            raise PolicyError(f"contact policy lacks or misshapes {e}") from e
        unknown = {rule for cell in contact.values() for rules in cell.values() for rule in rules}
        if unknown - RULES:
            raise PolicyError(f"unknown rules {sorted(unknown - RULES)}; known: {sorted(RULES)}")
        if not set(unattested.values()) <= set(BANDS) or "*" not in unattested:
            raise PolicyError("unattested_band needs a '*' entry and bands from " + str(BANDS))
        return cls(version, unattested, consent, contact)

    def band(self, facts: AccountFacts) -> str:
        if facts.band in BANDS:
            return facts.band
        if "practitioner" in facts.roles and facts.vetted_in:
            return AgeBand.AGE_18_PLUS.label  # vetting is an adult check
        candidates = [self.unattested_band[r] for r in facts.roles if r in self.unattested_band]
        candidates = candidates or [self.unattested_band["*"]]
        return min(candidates, key=BANDS.index)

    def category(self, facts: AccountFacts) -> str:
        band = AgeBand.from_label(self.band(facts))
        if band == AgeBand.AGE_18_PLUS:
            return "adult"
        return "under_13" if band == AgeBand.UNDER_13 else "13_17"

    def decide(self, source: AccountFacts, target: AccountFacts) -> Decision:
        """May `source` start contact with `target`?"""
        if source.account_id == target.account_id:
            return self._no("self")
        if source.erased or target.erased:
            return self._no("account_erased")
        if target.account_id in source.blocked or source.account_id in target.blocked:
            return self._no("blocked")
        if self.require_parental_consent_under_13:
            for child in (source, target):
                if self.category(child) == "under_13" and not child.consent_from & child.guardians:
                    return self._no("no_parental_consent")
        rules = self.contact[self.category(source)][self.category(target)]
        if not rules:
            return self._no("no_rule")
        for rule in rules:
            if self._holds(rule, source, target):
                return Decision(True, rule, self.version)
        return self._no("not_allowed")

    def _no(self, code: str) -> Decision:
        return Decision(False, code, self.version)

    def _holds(self, rule: str, a: AccountFacts, b: AccountFacts) -> bool:
        if rule == "always":
            return True
        if rule == "own_guardian":
            return a.account_id in b.guardians or b.account_id in a.guardians
        if rule == "vetted_practitioner_same_org":
            return _vetted_for(a, b) or _vetted_for(b, a)
        if rule == "same_or_adjacent_band":
            return abs(BANDS.index(self.band(a)) - BANDS.index(self.band(b))) <= 1
        if rule == "guardian_approved":
            return all(
                other.account_id in child.approved_contacts
                for child, other in ((a, b), (b, a))
                if self.category(child) == "under_13"
            )
        return False


def _vetted_for(practitioner: AccountFacts, young: AccountFacts) -> bool:
    return "practitioner" in practitioner.roles and bool(
        practitioner.vetted_in & young.organisations
    )
