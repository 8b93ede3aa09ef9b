"""The whole platform under hostile clients, on the session's nats-server, streams of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from tests.conftest import stream_environ, unique_name
from tests.support.streams import read_stream

APPS = ("identity", "age", "messaging", "audit", "safety")
SUMMARIES: list[str] = []  # status histograms of the hostile runs, printed at the end


@pytest.fixture(scope="module")
def platform(
    nats_server: EmbeddedNats, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    prefix = unique_name("h")
    environ = {
        **stream_environ(prefix, *APPS),
        "HEARTH_MESSAGING_MAILBOX_STREAM": f"{prefix}_MAILBOX".upper(),
        "HEARTH_MESSAGING_MAILBOX_SUBJECT_PREFIX": f"{prefix}.mailbox",
        "HEARTH_LOG_LEVEL": "ERROR",
    }
    platform = Platform(
        tmp_path_factory.mktemp("hostile"), environ=environ, nats_url=nats_server.url
    ).start()
    yield platform
    platform.stop()


Snapshot = dict[str, list[tuple[int, str, bytes]]]


def raw_streams(platform: Platform) -> Snapshot:
    """Every message of each service's event stream, read straight from JetStream."""
    environ = platform.environ
    streams = [environ[f"HEARTH_{app.upper()}_STREAM"] for app in APPS]
    return {
        stream: [(m.sequence, m.subject, m.data) for m in read_stream(platform.nats_url, stream)]
        for stream in streams
    }


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for summary in SUMMARIES:
        terminalreporter.write_line(f"hostile: {summary}")
