"""`hearth streams create` on one server: creates, reports, refuses, waits only as told."""

from __future__ import annotations

import time

import pytest

from hearth_runtime.cli import main
from hearth_runtime.embedded_nats import free_port
from tests.conftest import stream_environ, unique_name


def test_creates_the_stream_the_service_would_use(
    nats_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = stream_environ(unique_name("st"), "identity")
    for key, value in {**environ, "NATS_URL": nats_url}.items():
        monkeypatch.setenv(key, value)
    assert main(["streams", "create", "--service", "identity"]) == 0
    stream = environ["HEARTH_IDENTITY_STREAM"]
    assert capsys.readouterr().out.startswith(f"{stream}: 1 replica(s), 1 current, leader ")
    # Every pod start runs it again: the stream is found as it is.
    assert main(["streams", "create", "--service", "identity"]) == 0


def test_unknown_service_and_unreachable_nats_are_clear(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["streams", "create", "--service", "nosuch"]) == 2
    assert "no service nosuch; installed: " in capsys.readouterr().err
    monkeypatch.setenv("NATS_URL", f"nats://127.0.0.1:{free_port()}")
    started = time.monotonic()
    assert main(["streams", "create", "--service", "audit", "--wait", "1.5"]) == 1
    assert 1.5 <= time.monotonic() - started < 15
    assert "audit: cannot reach NATS" in capsys.readouterr().err
