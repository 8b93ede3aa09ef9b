"""Scan one message: a score per indicator, each with its evidence, read in its context.

The score of an indicator is the rules' evidence (several distinct phrase families add up,
noisy-or), joined by the model's when one is loaded, then weighed by who is writing to whom:
"are you home alone?" from a stranger adult to a 12-year-old is read at full weight, from a
linked guardian or between two 15-year-olds at a fraction. Self-harm and bullying are read at
full weight from anyone, because the child needs the signposting whoever wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import TextModel
from .normalise import normalise
from .personal_info import find_personal_details
from .rules import RuleSet
from .taxonomy import INDICATORS, UNKNOWN, Participant, Relation, category_of, relation

FLAG_AT = 0.5  # an indicator at or above this is flagged on the message
# How much a grooming or personal-information phrase weighs, by who writes it to whom.
CONTEXT_WEIGHT = {
    Relation.STRANGER_ADULT_TO_MINOR: 1.0,
    Relation.OLDER_MINOR_TO_CHILD: 0.9,
    Relation.UNVERIFIED_TO_MINOR: 0.9,
    Relation.TRUSTED_ADULT_TO_MINOR: 0.5,
    Relation.PEER: 0.65,
    Relation.MINOR_TO_ADULT: 0.65,
}
# Between peers most grooming phrases are how friends talk ("don't tell anyone but I fancy
# Jamie"); pictures and sexual talk are not, whoever asks.
PEER_WEIGHT = {"grooming.sexual": 0.85, "grooming.image_request": 0.7}
PEER_DEFAULT = 0.5
# Personal details: what a child gives away matters; a club's address from its practitioner
# does not.
PERSONAL_WEIGHT = {
    Relation.STRANGER_ADULT_TO_MINOR: 1.0,
    Relation.OLDER_MINOR_TO_CHILD: 1.0,
    Relation.UNVERIFIED_TO_MINOR: 1.0,
    Relation.TRUSTED_ADULT_TO_MINOR: 0.5,
    Relation.PEER: 1.0,
    Relation.MINOR_TO_ADULT: 1.0,
}
PERSONAL_STRENGTH = 0.9


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why an indicator scored: the rule or model feature, and the phrase it saw."""

    source: str  # "rule:<id>", "personal_info:<kind>" or "model"
    phrase: str
    why: str


@dataclass(frozen=True, slots=True)
class IndicatorScore:
    indicator: str
    score: float
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, slots=True)
class MessageScan:
    """Every indicator with a score above zero, in the message's context."""

    scores: dict[str, IndicatorScore]
    relation: Relation
    elapsed_ms: float = 0.0
    personal_details: tuple[str, ...] = field(default=())

    def score(self, indicator: str) -> float:
        found = self.scores.get(indicator)
        return found.score if found else 0.0

    @property
    def flagged(self) -> list[str]:
        """Indicators at or above :data:`FLAG_AT`, strongest first."""
        found = [s for s in self.scores.values() if s.score >= FLAG_AT]
        return [s.indicator for s in sorted(found, key=lambda s: -s.score)]

    @property
    def categories(self) -> list[str]:
        seen: list[str] = []
        for indicator in self.flagged:
            if category_of(indicator) not in seen:
                seen.append(category_of(indicator))
        return seen

    def explain(self) -> list[str]:
        """One line per flagged indicator: score, then what fired and why."""
        lines = []
        for indicator in self.flagged:
            found = self.scores[indicator]
            reasons = "; ".join(f"{e.why} ({e.source}: {e.phrase!r})" for e in found.evidence)
            lines.append(f"{indicator} {found.score:.2f}: {reasons}")
        return lines


def _noisy_or(strengths: list[float]) -> float:
    miss = 1.0
    for s in strengths:
        miss *= 1.0 - s
    return 1.0 - miss


class TextScanner:
    """Rules, personal-detail finders and an optional model: no I/O, no network."""

    def __init__(self, rules: RuleSet | None = None, model: TextModel | None = None) -> None:
        self.rules = rules or RuleSet.default()
        self.model = model

    def scan(
        self,
        text: str,
        sender: Participant = UNKNOWN,
        readers: list[Participant] | None = None,
    ) -> MessageScan:
        readers = readers or []
        rel = relation(sender, readers)
        plain = normalise(text)
        raw: dict[str, list[float]] = {}
        evidence: dict[str, list[Evidence]] = {}
        # Two rules that see the same phrase are one piece of evidence, not two.
        strongest: dict[tuple[str, str], float] = {}
        for rule, phrase in self.rules.matches(plain):
            key = (rule.indicator, phrase)
            strongest[key] = max(strongest.get(key, 0.0), rule.strength)
            evidence.setdefault(rule.indicator, []).append(
                Evidence(f"rule:{rule.id}", phrase, rule.why)
            )
        for (indicator, _), strength in strongest.items():
            raw.setdefault(indicator, []).append(strength)
        details = find_personal_details(text)
        for detail in details:
            raw.setdefault("personal_info", []).append(PERSONAL_STRENGTH)
            evidence.setdefault("personal_info", []).append(
                Evidence(f"personal_info:{detail.kind}", detail.text, f"shares a {detail.kind}")
            )
        if self.model is not None:
            for indicator, (probability, features) in self.model.predict(plain).items():
                if probability >= self.model.threshold:
                    raw.setdefault(indicator, []).append(probability * self.model.weight)
                    evidence.setdefault(indicator, []).append(
                        Evidence("model", ", ".join(features), f"model p={probability:.2f}")
                    )
        scores = {}
        for indicator in INDICATORS:
            if indicator not in raw:
                continue
            weight = 1.0
            if category_of(indicator) == "grooming":
                weight = CONTEXT_WEIGHT[rel]
                if rel in (Relation.PEER, Relation.MINOR_TO_ADULT):
                    weight = PEER_WEIGHT.get(indicator, PEER_DEFAULT)
            elif indicator == "personal_info":
                weight = PERSONAL_WEIGHT[rel]
            score = _noisy_or(raw[indicator]) * weight
            scores[indicator] = IndicatorScore(indicator, score, tuple(evidence[indicator]))
        return MessageScan(scores, rel, personal_details=tuple(d.kind for d in details))
