"""`make test` runs every benchmark once, quickly: a bench that no longer runs fails here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.bench.__main__ import areas

ROOT = Path(__file__).resolve().parents[2]


def test_every_bench_area_runs_in_quick_mode_and_prints_its_figures() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = {
        line.split()[1]: float(line.split()[2])
        for line in result.stdout.splitlines()
        if line.startswith("BENCH ")
    }
    for area in areas():
        assert f"== {area}" in result.stderr
    expected = {
        "eventlog.append.single",
        "eventlog.replay.subscribe",
        "age.redeem",
        "audit.merkle.append",
        "follow.tracking.per1000",
        "follow.tracking.per1000.every-event",
        "identity.login",
        "messaging.e2e.2clients",
        "records.keep",
        "records.check",
    }
    assert expected <= figures.keys(), sorted(expected - figures.keys())
    # One tracking record per effect (50 in 1,000 upstream events), not one per event.
    assert figures["follow.tracking.per1000"] < 100
    assert figures["follow.tracking.per1000.every-event"] == 1000
