"""SIGTERM after garbage on every streaming RPC: `hearth up` still exits within its grace period.

Reported: after one garbage message on `ServerReflectionInfo`, `hearth up` sometimes hung in
the server's stop. Here every streaming RPC of every service (found in the descriptors) gets
garbage, and is left open with more to come, beside a held health Watch; then SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.hostile.cases import OPEN_SERVICES, load_protos

GRACE = 2.0
MARGIN = 10.0  # seconds past the grace period: stopping followers, NATS, the loop threads


def _streaming_paths(services: list[str]) -> list[tuple[str, bool]]:
    """(path, client-streaming) of every streaming method of the named services."""
    pool = load_protos()
    found = []
    for name in services:
        for method in pool.FindServiceByName(name).methods:
            if method.client_streaming or method.server_streaming:
                found.append((f"/{name}/{method.name}", bool(method.client_streaming)))
    return found


def test_sigterm_after_garbage_on_every_streaming_rpc_exits_within_the_grace_period(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "HEARTH_GRACE_PERIOD": str(GRACE),
        "HEARTH_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "hearth_runtime.cli", "up", "--data-dir", str(tmp_path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    held: list[grpc.Channel] = []
    never = threading.Event()
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        for line in process.stdout:
            if "endpoints written" in line:
                break
            assert time.monotonic() < deadline, "hearth up did not start"
        endpoints = json.loads((tmp_path / "endpoints.json").read_text())
        calls = 0
        for address in endpoints.values():
            channel = grpc.insecure_channel(address)
            held.append(channel)
            listing = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10
            )
            # What each host serves, as reflection says; the descriptors say which stream.
            names = [s.name for s in next(listing).list_services_response.service]
            assert set(OPEN_SERVICES) <= set(names)
            for path, client_streaming in _streaming_paths(names):
                garbage = b"\x0b" * 50 + b"\xff" * 20

                def more(first: bytes = garbage) -> Iterator[bytes]:
                    yield first
                    never.wait(120)  # the client keeps its side open

                if client_streaming:
                    stream = channel.stream_stream(path)(more(), timeout=120)
                else:
                    stream = channel.unary_stream(path)(garbage, timeout=120)
                held.append(stream)
                calls += 1
            watch = channel.unary_stream("/grpc.health.v1.Health/Watch")(
                health_pb2.HealthCheckRequest().SerializeToString(), timeout=120
            )
            held.append(watch)
        assert calls >= 2 * len(endpoints)  # reflection and health Watch at least, everywhere
        time.sleep(1.0)  # let the garbage arrive
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=GRACE + MARGIN + 20)
        took = time.monotonic() - started
        assert code == 0, process.stderr.read()[-2000:] if process.stderr else ""
        assert took < GRACE + MARGIN, f"hearth up took {took:.1f}s to stop after SIGTERM"
    finally:
        never.set()
        if process.poll() is None:
            process.kill()
            process.wait()
        for item in held:
            if isinstance(item, grpc.Channel):
                item.close()
