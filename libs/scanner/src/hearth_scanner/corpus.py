"""The labelled corpus format: one conversation a line of JSON Lines.

`{"id", "participants": {name: {"role", "band"}}, "messages": [{"from", "text", "labels",
"at"?}], "alert_from": index or null}`. `at`, when given, is the message's time in seconds;
labels are indicator names (`grooming.secrecy`, `self_harm`, ...); a finer label under a
known category (`personal_info.phone`) counts for its category.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .taxonomy import BANDS, CATEGORIES, Participant, category_of

# A participant given without a band counts as the youngest its role allows, as identity does.
ROLE_BANDS = {"child": "under_13", "young_person": "13_15"}


class CorpusError(ValueError):
    """A line that is not a conversation in the corpus format: says which line and why."""


@dataclass(frozen=True, slots=True)
class LabelledMessage:
    sender: str
    text: str
    labels: frozenset[str]
    at: float | None = None


@dataclass(frozen=True, slots=True)
class LabelledConversation:
    id: str
    participants: dict[str, Participant]
    messages: tuple[LabelledMessage, ...]
    alert_from: int | None

    def readers_of(self, sender: str) -> list[Participant]:
        return [p for name, p in self.participants.items() if name != sender]


def parse_conversation(raw: Any) -> LabelledConversation:
    if not isinstance(raw, dict):
        raise CorpusError("not a JSON object")
    try:
        people = {
            str(name): Participant(
                str(p["role"]),
                str(p.get("band") or ROLE_BANDS.get(str(p["role"]), "18_plus")),
                bool(p.get("attested", True)),
            )
            for name, p in raw["participants"].items()
        }
        messages = tuple(
            LabelledMessage(
                str(m["from"]),
                str(m["text"]),
                frozenset(str(x) for x in m.get("labels", [])),
                float(m["at"]) if m.get("at") is not None else None,
            )
            for m in raw["messages"]
        )
        alert = raw.get("alert_from")
        conversation = LabelledConversation(
            str(raw["id"]), people, messages, None if alert is None else int(alert)
        )
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise CorpusError(f"malformed conversation: {e!r}") from None
    for p in people.values():
        if p.band not in BANDS:
            raise CorpusError(f"unknown band {p.band!r}")
    for m in messages:
        unknown = {label for label in m.labels if category_of(label) not in CATEGORIES}
        if unknown:
            raise CorpusError(f"unknown labels {sorted(unknown)}")
    return conversation


def read_corpus(path: Path) -> Iterator[LabelledConversation]:
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield parse_conversation(json.loads(line))
            except (json.JSONDecodeError, CorpusError) as e:
                raise CorpusError(f"{path}:{number}: {e}") from None
