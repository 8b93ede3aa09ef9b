"""Score a labelled corpus: precision and recall per category and grooming indicator,
conversation alerts and their delay, false warnings on benign messages, latency.

Definitions (the BENCH lines' meaning):
- a message is predicted positive for a category or indicator when the scanner flags it
  (score >= FLAG_AT) in its context; truth is its labels;
- a conversation is alerted at the first message where its risk reaches the alert level;
  alert precision is the share of alerted conversations that warrant an alert; alert recall
  the share of warranted ones alerted no later than 3 messages after `alert_from`; the delay
  is the mean of (alert index - alert_from) over those, negative when early;
- a false warning is a warning the child would see (:mod:`policy`, before viewing or before
  sending) on a message with no labels, per 1,000 such messages;
- latency is wall time per message of the whole on-device path (scan and risk update).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from .conversation import ConversationRisk
from .corpus import LabelledConversation
from .policy import WarningPolicy
from .scanner import TextScanner
from .taxonomy import CATEGORIES, GROOMING_INDICATORS, category_of

ALERT_WINDOW = 3


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, truth: bool, predicted: bool) -> None:
        self.tp += truth and predicted
        self.fp += predicted and not truth
        self.fn += truth and not predicted

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Evaluation:
    counts: dict[str, Counts] = field(default_factory=dict)
    alert_tp: int = 0
    alerted: int = 0
    warranted: int = 0
    delays: list[int] = field(default_factory=list)
    benign_messages: int = 0
    false_warnings: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def figures(self) -> list[tuple[str, float, str]]:
        """(name, value, unit) for every BENCH line, in a stable order."""
        out: list[tuple[str, float, str]] = []
        for name in (*CATEGORIES, *GROOMING_INDICATORS):
            c = self.counts.get(name, Counts())
            out.append((f"scan.{name}.precision", c.precision, "ratio"))
            out.append((f"scan.{name}.recall", c.recall, "ratio"))
        precision = self.alert_tp / self.alerted if self.alerted else 1.0
        recall = self.alert_tp / self.warranted if self.warranted else 1.0
        delay = sum(self.delays) / len(self.delays) if self.delays else 0.0
        per1000 = 1000 * self.false_warnings / self.benign_messages if self.benign_messages else 0
        lat = sorted(self.latencies_ms)
        p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))] if lat else 0.0
        out += [
            ("scan.alert.precision", precision, "ratio"),
            ("scan.alert.recall", recall, "ratio"),
            ("scan.alert.delay", delay, "messages"),
            ("scan.false_warnings.per1000", per1000, "per1000"),
            ("scan.latency.p95", p95, "ms"),
        ]
        return out


def evaluate(
    conversations: Iterable[LabelledConversation],
    scanner: TextScanner,
    policy: WarningPolicy | None = None,
) -> Evaluation:
    policy = policy or WarningPolicy()
    result = Evaluation()
    names = (*CATEGORIES, *GROOMING_INDICATORS)
    for conversation in conversations:
        risk = ConversationRisk(conversation.participants)
        alert_at: int | None = None
        for i, message in enumerate(conversation.messages):
            sender = conversation.participants.get(message.sender)
            readers = conversation.readers_of(message.sender)
            started = time.perf_counter()
            scan = (
                scanner.scan(message.text, sender, readers)
                if sender
                else scanner.scan(message.text, readers=readers)
            )
            state = risk.add(message.sender, scan, message.at)
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            if state.alert and alert_at is None:
                alert_at = i
            flagged = set(scan.flagged)
            flagged_categories = {category_of(f) for f in flagged}
            true_categories = {category_of(label) for label in message.labels}
            for name in names:
                if "." in name:
                    truth, predicted = name in message.labels, name in flagged
                else:
                    truth, predicted = name in true_categories, name in flagged_categories
                result.counts.setdefault(name, Counts()).add(truth, predicted)
                if truth != predicted and name in CATEGORIES:
                    kind = "missed" if truth else "false"
                    result.misses.append(f"{kind} {name}: {conversation.id}#{i} {message.text!r}")
            if not message.labels:
                result.benign_messages += 1
                warned = any(policy.on_view(scan, r, state) for r in readers) or bool(
                    sender and policy.on_send(scan, sender, readers)
                )
                result.false_warnings += warned
        warranted = conversation.alert_from is not None
        result.warranted += warranted
        result.alerted += alert_at is not None
        if alert_at is not None and conversation.alert_from is not None:
            result.alert_tp += alert_at <= conversation.alert_from + ALERT_WINDOW
            result.delays.append(alert_at - conversation.alert_from)
        if alert_at is not None and not warranted:
            result.misses.append(f"false alert: {conversation.id}#{alert_at}")
        elif warranted and (alert_at is None or alert_at > (conversation.alert_from or 0) + 3):
            result.misses.append(f"missed alert: {conversation.id} from {conversation.alert_from}")
    return result
