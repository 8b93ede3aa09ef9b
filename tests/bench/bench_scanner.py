"""Scanner figures: the eval of the corpus's test split (every `scan.*` line of
`hearth-scan eval`), PDQ hashing of one photo-sized image, and one match against 100,000."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from hearth_scanner.corpus import read_corpus
from hearth_scanner.evaluate import evaluate
from hearth_scanner.images import HashList, fingerprint
from hearth_scanner.shipped import shipped_scanner
from tests.bench.report import Report
from tests.scanner.support import encoded, picture

TEST_SPLIT = Path(__file__).parents[2] / "libs/scanner/corpus/test.jsonl"


def fastest_ms(call: Callable[[], object], rounds: int = 7) -> float:
    """The fastest of a few rounds: on a shared machine noise only ever slows a round."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def run(report: Report) -> None:
    conversations = list(read_corpus(TEST_SPLIT))
    result = evaluate(conversations, shipped_scanner())
    messages = sum(len(c.messages) for c in conversations)
    report.note(f"test split: {len(conversations)} conversations, {messages} messages")
    for name, value, unit in result.figures():
        report.figure(name, value, unit)

    photo = encoded(picture(31, (1024, 768)), "JPEG", quality=85)

    report.figure("scan.pdq.ms", fastest_ms(lambda: fingerprint(photo)), "ms")
    report.note("scan.pdq.ms: decode + SHA-256 + PDQ of a 1024x768 JPEG")

    rng = np.random.default_rng(1)
    hashes = HashList("bench")
    hashes.add([], [(rng.bytes(32).hex(), 100, "") for _ in range(100_000)])
    query = fingerprint(photo)
    hashes.match(query)  # builds the index once, as a device does when a pack arrives

    report.figure("scan.match100k.ms", fastest_ms(lambda: hashes.match(query)), "ms")
