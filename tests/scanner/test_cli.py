"""`hearth-scan`: eval prints every BENCH line on a small corpus; check explains a message."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hearth_scanner.taxonomy import CATEGORIES, GROOMING_INDICATORS

SMALL = [
    {
        "id": "g1",
        "participants": {
            "Dean": {"role": "adult", "band": "18_plus"},
            "Mia": {"role": "child", "band": "under_13"},
        },
        "messages": [
            {"from": "Dean", "text": "hi how was school", "labels": []},
            {"from": "Dean", "text": "ur so mature for ur age", "labels": ["grooming.flattery"]},
            {"from": "Mia", "text": "thanks", "labels": []},
            {"from": "Dean", "text": "dont tell ur mum we talk", "labels": ["grooming.secrecy"]},
            {"from": "Dean", "text": "add me on snap", "labels": ["grooming.platform_move"]},
        ],
        "alert_from": 3,
    },
    {
        "id": "b1",
        "participants": {
            "Jo": {"role": "young_person", "band": "13_15"},
            "Ali": {"role": "young_person", "band": "13_15"},
        },
        "messages": [
            {"from": "Jo", "text": "dont tell Ali, its a surprise party", "labels": []},
            {"from": "Ali", "text": "send me a pic of the homework", "labels": []},
            {"from": "Jo", "text": "i want to die", "labels": ["self_harm"]},
        ],
        "alert_from": 2,
    },
]


def hearth_scan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hearth_scanner.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_eval_prints_every_bench_line(tmp_path: Path) -> None:
    path = tmp_path / "small.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in SMALL))
    result = hearth_scan("eval", str(path))
    assert result.returncode == 0, result.stderr
    figures = {}
    for line in result.stdout.splitlines():
        bench, name, value, _unit = line.split()
        assert bench == "BENCH"
        figures[name] = float(value)
    expected = {
        f"scan.{n}.{m}"
        for n in (*CATEGORIES, *GROOMING_INDICATORS)
        for m in ("precision", "recall")
    }
    expected |= {"scan.alert.precision", "scan.alert.recall", "scan.alert.delay"}
    expected |= {"scan.false_warnings.per1000", "scan.latency.p95"}
    assert set(figures) == expected
    assert figures["scan.grooming.recall"] == 1.0
    assert figures["scan.self_harm.recall"] == 1.0
    assert figures["scan.alert.recall"] == 1.0
    assert figures["scan.false_warnings.per1000"] == 0.0


def test_eval_refuses_a_malformed_file_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(SMALL[0]) + "\n{not json\n")
    result = hearth_scan("eval", str(path))
    assert result.returncode == 2
    assert "bad.jsonl:2" in result.stderr


def test_check_explains_one_message() -> None:
    result = hearth_scan("check", "dont tell ur mum, add me on snap")
    assert result.returncode == 0
    assert "grooming.secrecy" in result.stdout and "rule:secret.dont_tell" in result.stdout
    assert "grooming.platform_move" in result.stdout
    quiet = hearth_scan("check", "see you at football")
    assert "nothing flagged" in quiet.stdout


VOICES = Path(__file__).parents[2] / "libs/scanner/corpus/voices.jsonl"


def test_whole_conversations_written_in_other_voices_stay_caught() -> None:
    """`corpus/voices.jsonl`: conversations written by hand, not from the generator's
    templates; the rules were widened after first reading them, so this guards regressions."""
    result = hearth_scan("eval", str(VOICES))
    assert result.returncode == 0, result.stderr
    figures = {line.split()[1]: float(line.split()[2]) for line in result.stdout.splitlines()}
    for category in CATEGORIES:
        assert figures[f"scan.{category}.recall"] >= 0.85, category
        assert figures[f"scan.{category}.precision"] >= 0.8, category
    assert figures["scan.alert.recall"] >= 0.9
    assert figures["scan.alert.precision"] >= 0.9
