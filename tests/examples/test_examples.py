"""Every program in examples/ runs, as a client developer would run it, against a real platform.

One platform (every installed service, as `make up` runs them) on the session's nats-server,
with streams of its own; each example is started as its own process with the platform's
`endpoints.json`, and what it prints is checked.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from tests.conftest import stream_environ, unique_name

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

# What each example must print: a line of it each (a regular expression, searched for).
EXPECTED: dict[str, list[str]] = {
    "quickstart": [r"^Ben's phone decrypts: Hi Ben, it's Ada!$"],
    "identity_login": [
        r"^registered: [0-9a-f-]{36}$",
        r"^state file mode: 0o600$",
        r"^after a restart: True logged in: True$",
        r"^devices now: 2$",
        r"^export has: \['account', 'events'\]$",
    ],
    "age_tokens": [
        r"^decision: AGE_BAND_13_15$",
        r"^tokens kept: 5$",
        r"^attested: AGE_BAND_13_15 tokens left: 4$",
        r"^identity shows: AGE_BAND_13_15$",
        r"^again: ALREADY_EXISTS TOKEN_SPENT$",
    ],
    "conversations": [
        r"^before the house rules: FAILED_PRECONDITION HOUSE_RULES_NOT_ACCEPTED \(messaging",
        r"^direct: [0-9a-f-]{36} members: 2$",
        r"^group: 3 members$",
        r"^to a child: PERMISSION_DENIED NO_PARENTAL_CONSENT \(messaging.hearth\) "
        r"\{'policy_version': '1'\}$",
        r"^after a block: PERMISSION_DENIED BLOCKED ",
    ],
    "delivery": [
        r"^read, not acknowledged: \['one'\]$",
        r"^after the restart: \['two', 'three'\] sequence \d+$",
        r"^waiting now: 0$",
    ],
    "safety_report": [
        r"^'hey how was school': risk 0.00 \(none\); \(shown as it is\)$",
        r"^'send me a pic, just for me': risk [0-9.]+ \(\w+\); Heads up",
        r"^may send: True$",
        r"^report: grooming about send me a pic, just for me$",
        r"^context: \['hey how was school', 'dont tell ur mum about us ok', "
        r"'no. leave me alone'\]$",
        r"^every frank opens",
    ],
    "local_state": [
        r"^Vic reads: first$",
        r"^Vic-device.json: mode 0o600$",
        r"^Vic.json: mode 0o600$",
        r"^same device: True$",
        r"^after the restart Vic reads: second, on the same ratchet$",
        r"^refused: .* holds a device of another account$",
    ],
    "retries": [
        r"^same request id, same conversation: True$",
        r"^the same message id again: ALREADY_EXISTS ALREADY_EXISTS retryable: False$",
        r"^Xan gets: \['only once'\]$",
        r"^not retried: PERMISSION_DENIED SELF retryable: False$",
    ],
}


@pytest.fixture(scope="module")
def platform(
    nats_server: EmbeddedNats, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    prefix = unique_name("ex")
    environ = {
        **stream_environ(prefix, "identity", "age", "messaging", "audit", "safety"),
        "HEARTH_MESSAGING_MAILBOX_STREAM": f"{prefix}_MAILBOX".upper(),
        "HEARTH_MESSAGING_MAILBOX_SUBJECT_PREFIX": f"{prefix}.mailbox",
    }
    platform = Platform(
        tmp_path_factory.mktemp("examples"), environ=environ, nats_url=nats_server.url
    ).start()
    yield platform
    platform.stop()


def test_every_example_is_checked() -> None:
    assert sorted(p.stem for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_against_the_platform(platform: Platform, name: str) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), str(platform.data_dir / "endpoints.json")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for pattern in EXPECTED[name]:
        assert re.search(pattern, result.stdout, re.MULTILINE), (pattern, result.stdout)


def test_an_example_without_a_platform_says_what_to_start(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py"), str(tmp_path / "endpoints.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "is `make up` running?" in result.stderr
