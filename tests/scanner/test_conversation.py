"""Conversation risk: distinct indicators over repeats, decay, direction and ages."""

from __future__ import annotations

from hearth_scanner.conversation import ConversationRisk
from hearth_scanner.scanner import TextScanner
from hearth_scanner.taxonomy import Participant

scanner = TextScanner()
STRANGER = Participant("adult", "18_plus")
CHILD = Participant("child", "under_13")
PEOPLE = {"Dean": STRANGER, "Mia": CHILD}


def feed(
    risk: ConversationRisk, sender: str, texts: list[str], at: list[float] | None = None
) -> list[float]:
    scores = []
    for i, text in enumerate(texts):
        readers = [p for n, p in risk.participants.items() if n != sender]
        scan = scanner.scan(text, risk.participants[sender], readers)
        scores.append(risk.add(sender, scan, at[i] if at else None).score)
    return scores


PATTERN = [
    "youre so mature for your age",
    "dont tell your mum about us",
    "add me on snap instead",
]


def test_flattery_then_secrecy_then_a_move_raise_risk_step_by_step_to_an_alert() -> None:
    risk = ConversationRisk(dict(PEOPLE))
    scores = feed(risk, "Dean", PATTERN)
    assert scores[0] < scores[1] < scores[2]
    assert risk.alerted


def test_distinct_indicators_weigh_more_than_repeats() -> None:
    repeated = ConversationRisk(dict(PEOPLE))
    feed(repeated, "Dean", [PATTERN[0]] * 5)
    distinct = ConversationRisk(dict(PEOPLE))
    feed(distinct, "Dean", PATTERN)
    assert not repeated.alerted
    assert distinct.alerted


def test_bullying_repeated_is_bullying() -> None:
    people = {"A": Participant("young_person", "13_15"), "B": Participant("young_person", "13_15")}
    risk = ConversationRisk(people)
    feed(risk, "A", ["nobody likes you"])
    assert not risk.alerted
    feed(risk, "A", ["ur such a loser"])
    assert risk.alerted


def test_risk_decays_with_time() -> None:
    day = 86400.0
    quick = ConversationRisk(dict(PEOPLE))
    feed(quick, "Dean", PATTERN[:2], at=[0, day])
    slow = ConversationRisk(dict(PEOPLE))
    feed(slow, "Dean", PATTERN[:2], at=[0, 60 * day])
    assert slow.contributions["grooming.flattery"] < quick.contributions["grooming.flattery"] / 100


def test_direction_and_ages_matter() -> None:
    teens = {
        "Dean": Participant("young_person", "13_15"),
        "Mia": Participant("young_person", "13_15"),
    }
    peers = ConversationRisk(teens)
    feed(peers, "Dean", PATTERN)
    stranger = ConversationRisk(dict(PEOPLE))
    feed(stranger, "Dean", PATTERN)
    assert not peers.alerted
    assert stranger.alerted
    guardian = ConversationRisk({"Dean": Participant("guardian", "18_plus"), "Mia": CHILD})
    feed(guardian, "Dean", PATTERN[:2])
    assert sum(guardian.contributions.values()) < sum(stranger.contributions.values())


def test_one_self_harm_message_is_enough_from_anyone() -> None:
    risk = ConversationRisk({"Mia": CHILD, "Ella": Participant("child", "under_13")})
    feed(risk, "Mia", ["i want to die"])
    assert risk.alerted


def test_details_a_child_gives_a_stranger_add_risk_but_not_between_friends() -> None:
    friends = ConversationRisk({"Mia": CHILD, "Ella": Participant("child", "under_13")})
    feed(friends, "Mia", ["my number is 07911 123456"])
    assert "personal_info" not in friends.contributions
    assert not friends.alerted
    stranger = ConversationRisk(dict(PEOPLE))
    feed(stranger, "Mia", ["my number is 07911 123456"])
    assert stranger.contributions["personal_info"] > 0
