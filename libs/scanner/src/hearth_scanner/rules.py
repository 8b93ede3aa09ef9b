"""Rules: phrase families that score indicators, each able to say why it fired.

A rule set is data (the default one from :mod:`default_rules`, or a pack's `rules`), checked
before use: known indicators only, strengths in (0, 1], patterns that compile and are not
absurdly long, so a pack cannot smuggle in more than regular expressions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import default_rules
from .taxonomy import INDICATORS

MAX_PATTERN_CHARS = 4000
MAX_RULES = 2000


class RuleError(ValueError):
    """A rule set that cannot be used: the message says which rule and why."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One phrase family for one indicator."""

    id: str
    indicator: str
    strength: float
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None
    why: str

    def find(self, normalised: str) -> str | None:
        """The phrase this rule sees in the text, unless an innocent context is there too."""
        found = self.pattern.search(normalised)
        if found is None:
            return None
        if self.unless is not None and self.unless.search(normalised):
            return None
        # A concept rule matches by lookaheads alone: the phrase is then the message itself.
        return found.group(0) or normalised[:60]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "indicator": self.indicator,
            "strength": self.strength,
            "pattern": self.pattern.pattern,
            "unless": self.unless.pattern if self.unless else "",
            "why": self.why,
        }


def _compile(rule_id: str, pattern: str) -> re.Pattern[str]:
    if len(pattern) > MAX_PATTERN_CHARS:
        raise RuleError(f"rule {rule_id}: pattern longer than {MAX_PATTERN_CHARS} characters")
    try:
        return re.compile(pattern)
    except re.error as e:
        raise RuleError(f"rule {rule_id}: pattern does not compile: {e}") from None


def rule_from_dict(raw: Mapping[str, Any]) -> Rule:
    """A rule from its JSON form, validated."""
    try:
        rule_id, indicator = str(raw["id"]), str(raw["indicator"])
        strength, pattern = float(raw["strength"]), str(raw["pattern"])
        unless, why = str(raw.get("unless", "")), str(raw.get("why", ""))
    except (KeyError, TypeError, ValueError) as e:
        raise RuleError(f"rule {raw.get('id', '?')!s}: malformed ({e})") from None
    if indicator not in INDICATORS:
        raise RuleError(f"rule {rule_id}: unknown indicator {indicator!r}")
    if not 0.0 < strength <= 1.0:
        raise RuleError(f"rule {rule_id}: strength must be in (0, 1]")
    return Rule(
        rule_id,
        indicator,
        strength,
        _compile(rule_id, pattern),
        _compile(rule_id, unless) if unless else None,
        why,
    )


class RuleSet:
    """The rules in force, grouped by indicator."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = tuple(rules)
        if len(self.rules) > MAX_RULES:
            raise RuleError(f"more than {MAX_RULES} rules")
        ids = [r.id for r in self.rules]
        if len(set(ids)) != len(ids):
            raise RuleError("rule ids must be unique")

    @classmethod
    def default(cls) -> RuleSet:
        return cls(
            rule_from_dict(
                {
                    "id": rule_id,
                    "indicator": indicator,
                    "strength": strength,
                    "pattern": default_rules.expand(pattern),
                    "unless": default_rules.expand(unless),
                    "why": why,
                }
            )
            for rule_id, indicator, strength, pattern, unless, why in default_rules.RULES
        )

    @classmethod
    def from_json(cls, raw: Any) -> RuleSet:
        if not isinstance(raw, list):
            raise RuleError("rules must be a list")
        return cls(rule_from_dict(r) for r in raw)

    def to_json(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.rules]

    def matches(self, normalised: str) -> list[tuple[Rule, str]]:
        """Every rule that fires, with the phrase it saw."""
        found = []
        for rule in self.rules:
            phrase = rule.find(normalised)
            if phrase is not None:
                found.append((rule, phrase))
        return found
