"""Per-message text risk: phrase families, explanations, innocent look-alikes, context."""

from __future__ import annotations

import pytest

from hearth_scanner.normalise import normalise
from hearth_scanner.rules import RuleError, RuleSet
from hearth_scanner.scanner import TextScanner
from hearth_scanner.taxonomy import Participant, Relation

STRANGER = Participant("adult", "18_plus")
CHILD = Participant("child", "under_13")
TEEN = Participant("young_person", "13_15")
GUARDIAN = Participant("guardian", "18_plus")
PRACTITIONER = Participant("practitioner", "18_plus")

scanner = TextScanner()


@pytest.mark.parametrize(
    ("text", "indicator"),
    [
        ("add me on snap its easier", "grooming.platform_move"),
        ("whats ur number?", "grooming.platform_move"),
        ("lets chat somewhere more private", "grooming.platform_move"),
        ("dont tell ur mum about me", "grooming.secrecy"),
        ("this is just between you and me", "grooming.secrecy"),
        ("delete the chat after so nobody sees", "grooming.secrecy"),
        ("send me a pic of you in your pyjamas", "grooming.image_request"),
        ("turn on ur cam for me", "grooming.image_request"),
        ("we should meet up irl", "grooming.meeting"),
        ("come over to mine, my flat is empty", "grooming.meeting"),
        ("i can send you robux if you want", "grooming.gifts"),
        ("are you home alone?", "grooming.personal_probe"),
        ("what school do you go to", "grooming.personal_probe"),
        ("what are you wearing", "grooming.sexual"),
        ("ur so mature for ur age", "grooming.flattery"),
        ("nobody understands you like i do", "grooming.flattery"),
        ("i want to kill myself", "self_harm"),
        ("ive been cutting myself again", "self_harm"),
        ("everyone would be better off without me", "self_harm"),
        ("ur such a loser", "bullying"),
        ("nobody likes you", "bullying"),
        ("kys", "bullying"),
        ("my number is 07911 123456", "personal_info"),
    ],
)
def test_each_indicator_is_flagged_from_a_stranger_with_its_reason(
    text: str, indicator: str
) -> None:
    scan = scanner.scan(text, STRANGER if "." in indicator else TEEN, [CHILD])
    assert indicator in scan.flagged, scan.scores
    evidence = scan.scores[indicator].evidence
    assert evidence and all(e.phrase and e.why for e in evidence)
    assert any(line.startswith(indicator) for line in scan.explain())


@pytest.mark.parametrize(
    ("text", "sender"),
    [
        ("don't tell mum, it's a surprise for her birthday party", TEEN),
        ("can you send me a pic of the maths homework?", TEEN),
        ("send me a photo of page 42", TEEN),
        ("we played Oakwood Academy at netball and won!", TEEN),
        ("this homework is killing me", TEEN),
        ("i could die of embarrassment lol", TEEN),
        ("you're such an idiot lol love you", TEEN),
        ("i'm going to destroy you in fortnite", TEEN),
        ("Session is Thursday at 6 at the community centre, bring trainers", PRACTITIONER),
        ("I'll pick you up from school at 3.30", GUARDIAN),
        ("is anyone home? I forgot my keys", GUARDIAN),
        ("you look beautiful in your prom dress!", GUARDIAN),
        ("The club address is 12 Mill Lane, doors open at 6", PRACTITIONER),
        ("do you want to meet at the park on saturday?", TEEN),
    ],
)
def test_hard_innocent_messages_are_not_flagged(text: str, sender: Participant) -> None:
    assert scanner.scan(text, sender, [CHILD if sender is not TEEN else TEEN]).flagged == []


def test_the_same_words_weigh_by_who_writes_to_whom() -> None:
    words = "are you home alone?"
    assert "grooming.personal_probe" in scanner.scan(words, STRANGER, [CHILD]).flagged
    assert scanner.scan(words, GUARDIAN, [CHILD]).flagged == []
    stranger = scanner.scan(words, STRANGER, [CHILD])
    peer = scanner.scan(words, TEEN, [TEEN])
    assert stranger.relation is Relation.STRANGER_ADULT_TO_MINOR
    assert peer.relation is Relation.PEER
    assert peer.score("grooming.personal_probe") < stranger.score("grooming.personal_probe")
    unverified = Participant("young_person", "13_15", attested=False)
    assert scanner.scan(words, unverified, [TEEN]).relation is Relation.UNVERIFIED_TO_MINOR


def test_self_harm_is_read_at_full_weight_from_anyone() -> None:
    for sender in (TEEN, GUARDIAN, STRANGER):
        assert "self_harm" in scanner.scan("i dont want to be here anymore", sender, [TEEN]).flagged


def test_chat_spelling_is_undone_before_the_rules_read_it() -> None:
    assert normalise("Sooo u r gonna txt me?") == "so you are going to text me ?"
    assert normalise("killlll myself") == "kill myself"
    assert normalise("s3nd n00dz") == "send noodz"
    assert "grooming.secrecy" in scanner.scan("DONT TELL UR MUMMM", STRANGER, [CHILD]).flagged


def test_a_rule_set_with_a_bad_rule_is_refused_with_the_rule_named() -> None:
    good = RuleSet.default().to_json()
    with pytest.raises(RuleError, match="unknown indicator"):
        RuleSet.from_json([{**good[0], "indicator": "grooming.unknown"}])
    with pytest.raises(RuleError, match=rf"rule {good[0]['id']}: pattern does not compile"):
        RuleSet.from_json([{**good[0], "pattern": "(unclosed"}])
    with pytest.raises(RuleError, match="strength"):
        RuleSet.from_json([{**good[0], "strength": 3}])
    with pytest.raises(RuleError, match="unique"):
        RuleSet.from_json([good[0], good[0]])
    assert len(RuleSet.from_json(good).rules) == len(good)  # the JSON form round-trips


def test_a_message_scans_well_under_ten_milliseconds() -> None:
    import time

    text = "hey ur so mature, dont tell ur mum, add me on snap 07911 123456 " * 3
    started = time.perf_counter()
    for _ in range(50):
        scanner.scan(text, STRANGER, [CHILD])
    assert (time.perf_counter() - started) / 50 < 0.010
