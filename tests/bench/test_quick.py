"""`make test` runs every benchmark once, quickly: a bench that no longer runs fails here.

One area per test, each in its own process with its own time limit, so a slow area on a
loaded machine does not eat another's time and a failure names its area.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench.__main__ import areas

ROOT = Path(__file__).resolve().parents[2]

# Figures each area must print (named by their first word where it is the area's).
EXPECTED = {
    "eventlog.append.single",
    "eventlog.cpu.us_per_append",
    "eventlog.replay.subscribe",
    "age.redeem",
    "age.rpc.challenge",
    "age.cpu.ms_per_redeem",
    "audit.merkle.append",
    "audit.cpu.us_per_leaf",
    "identity.cpu.ms_per_login",
    "follow.tracking.per1000",
    "follow.tracking.per1000.every-event",
    "identity.login",
    "identity.passkey.login",
    "messaging.e2e.2clients",
    "messaging.e2e.2replicas",
    "messaging.cpu.ms_per_message",
    "messaging.latency.p99",
    "records.keep",
    "records.check",
    "console.queue.ms",
    "console.case.ms",
}


@pytest.mark.parametrize("area", areas())
def test_the_bench_area_runs_in_quick_mode_and_prints_its_figures(area: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--quick", area],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"== {area}" in result.stderr
    figures = {
        line.split()[1]: float(line.split()[2])
        for line in result.stdout.splitlines()
        if line.startswith("BENCH ")
    }
    assert figures, f"{area} printed no BENCH line"
    expected = {name for name in EXPECTED if name.split(".")[0] == area}
    assert expected <= figures.keys(), sorted(expected - figures.keys())
    if area == "follow":
        # One tracking record per effect (50 in 1,000 upstream events), not one per event.
        assert figures["follow.tracking.per1000"] < 100
        assert figures["follow.tracking.per1000.every-event"] == 1000


def test_every_expected_figure_belongs_to_an_area() -> None:
    assert {name.split(".")[0] for name in EXPECTED} <= set(areas())
