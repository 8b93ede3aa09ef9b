"""Conversation risk: what one message cannot show, the series of them can.

Risk builds from the indicators seen so far, as moderation practice reads a conversation
(the message, its context, its history):
- distinct indicators weigh more than repeats: flattery, then secrecy, then a move to another
  app is a pattern; the same compliment five times is not (bullying is the exception: its
  repetition is what makes it bullying);
- evidence decays with time (a half-life), so a remark months ago does not keep a chat hot;
- direction and ages matter: grooming indicators from a stranger adult or a much older minor
  to a child count in full, from a linked guardian or a vetted practitioner at half, between
  peers at a third; self-harm counts from anyone, because the child needs help either way.
It needs nothing but the messages the device already holds: never the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .scanner import MessageScan
from .taxonomy import Participant, Relation, category_of, relation

HALF_LIFE_S = 7 * 24 * 3600.0
ALERT_AT = 1.0
ALERT_AT_UNDER_13 = 0.9  # the youngest are alerted a little sooner
EVIDENCE_FLOOR = 0.3  # weaker traces than this add nothing
FULL_AT = 0.6  # evidence at or above this counts in full
WEIGHT = {
    "grooming.sexual": 1.0,
    "grooming.image_request": 1.0,
    "grooming.meeting": 0.6,
    "grooming.secrecy": 0.6,
    "grooming.platform_move": 0.5,
    "grooming.gifts": 0.5,
    "grooming.personal_probe": 0.5,
    "grooming.flattery": 0.5,
    "self_harm": 1.2,
    "bullying": 0.6,
    "personal_info": 0.5,  # counted only when a stranger or much older minor is present
}
REPEAT = {"bullying": 0.8}  # share of a repeat's weight added; others use REPEAT_DEFAULT
REPEAT_DEFAULT = 0.2
GROOMING_DIRECTION = {
    Relation.STRANGER_ADULT_TO_MINOR: 1.0,
    Relation.OLDER_MINOR_TO_CHILD: 1.0,
    Relation.UNVERIFIED_TO_MINOR: 0.9,
    Relation.TRUSTED_ADULT_TO_MINOR: 0.5,
    Relation.PEER: 0.35,
    Relation.MINOR_TO_ADULT: 0.2,
}
LEVELS = ((0.6, "raised"), (0.3, "low"))


@dataclass(frozen=True, slots=True)
class RiskState:
    """The conversation's risk after a message."""

    score: float
    level: str  # none, low, raised, high
    alert: bool
    indicators: dict[str, float]  # each indicator's current (decayed) contribution
    new_alert: bool = False  # this message is the one that raised the alert


@dataclass
class ConversationRisk:
    """Follows one conversation on the device, message by message."""

    participants: dict[str, Participant]
    half_life_s: float = HALF_LIFE_S
    contributions: dict[str, float] = field(default_factory=dict)
    last_at: float | None = None
    alerted: bool = False

    @property
    def alert_at(self) -> float:
        young = any(p.band == "under_13" for p in self.participants.values())
        return ALERT_AT_UNDER_13 if young else ALERT_AT

    def _risky_party_present(self) -> bool:
        """A stranger adult, or a 16-17 with an under-13: what makes details given risky."""
        people = list(self.participants.values())
        strangers = any(not p.is_minor and not p.is_trusted_adult for p in people)
        older = any(p.band == "16_17" for p in people) and any(p.band == "under_13" for p in people)
        return (strangers and any(p.is_minor for p in people)) or older

    def _decay(self, at: float | None) -> None:
        if at is None or self.last_at is None or at <= self.last_at:
            self.last_at = at if at is not None else self.last_at
            return
        factor = 0.5 ** ((at - self.last_at) / self.half_life_s)
        self.contributions = {k: v * factor for k, v in self.contributions.items()}
        self.last_at = at

    def add(self, sender: str, scan: MessageScan, at: float | None = None) -> RiskState:
        """Take in one scanned message from `sender`, sent at `at` (seconds), if known."""
        self._decay(at)
        who = self.participants.get(sender, Participant("adult", "18_plus"))
        readers = [p for name, p in self.participants.items() if name != sender]
        rel = relation(who, readers)
        for indicator, found in scan.scores.items():
            if found.score < EVIDENCE_FLOOR or indicator not in WEIGHT:
                continue
            weight = WEIGHT[indicator] * min(1.0, found.score / FULL_AT)
            if category_of(indicator) == "grooming":
                weight *= GROOMING_DIRECTION[rel]
            elif indicator == "personal_info" and not self._risky_party_present():
                continue
            before = self.contributions.get(indicator, 0.0)
            share = REPEAT.get(indicator, REPEAT_DEFAULT)
            now = max(before, weight) + share * min(before, weight)
            self.contributions[indicator] = min(now, 2 * WEIGHT[indicator])
        score = sum(self.contributions.values())
        alert = score >= self.alert_at
        new_alert = alert and not self.alerted
        self.alerted = self.alerted or alert
        level = "high" if alert else next((n for t, n in LEVELS if score >= t), "none")
        return RiskState(round(score, 3), level, alert, dict(self.contributions), new_alert)
