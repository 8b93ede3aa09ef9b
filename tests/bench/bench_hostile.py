"""Hostile clients: how many idle delivery streams one instance holds, and hostile calls/s.

`grpc.idle_streams.capacity`: ReceiveEnvelopes streams that one messaging instance holds open
(from client processes of their own) while `grpc.unary.p99`, the 99th percentile of a unary
call (CountPrekeys, authenticated, through the whole runtime) beside a health check, stays
under 50 ms; measured in steps up to a bound, so the run stays short.
`hostile.calls_per_s`: the hostile run of `tests/hostile` (every case of every unary RPC of
every service) answered per second, beside `grpc.echo` from as many client threads; the
streaming RPCs' cases run after, for the status histogram.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hearth_proto.hearth.messaging.v1 import messaging_pb2, messaging_pb2_grpc
from hearth_runtime.platform import Platform
from hearth_sdk.channel import bearer
from hearth_sdk.messaging import MessagingDevice
from tests.bench.report import Report
from tests.conftest import ROLES, stream_environ
from tests.hostile.cases import cases
from tests.hostile.cases import run as hostile_run

STEPS = (
    0,
    1000,
    2500,
    5000,
    7500,
    10000,
    12500,
    15000,
)  # open streams at which latency is measured
TARGET_P99_MS = 50.0
DEVICES = 100  # the streams are spread over this many devices
CLIENT_PROCESSES = 3
SAMPLES = 300  # unary calls per step
HOSTILE_CLIENTS = 8
ECHO_WORKERS = 64  # the echo server's thread pool
ECHO_SECONDS = 3.0  # of echo calls


def run(report: Report) -> None:
    prefix = f"benchh{uuid.uuid4().hex[:8]}"
    environ = {
        **stream_environ(prefix, "identity", "age", "messaging", "audit"),
        "HEARTH_MESSAGING_MAILBOX_STREAM": f"{prefix}_MAILBOX".upper(),
        "HEARTH_MESSAGING_MAILBOX_SUBJECT_PREFIX": f"{prefix}.mailbox",
        "HEARTH_LOG_LEVEL": "ERROR",
    }
    workdir = report.workdir / "hostile"
    workdir.mkdir(parents=True, exist_ok=True)
    platform = Platform(Path(workdir), environ=environ, nats_url=report.nats_url).start()
    echo_server, echo_address = start_echo()
    try:
        echo = echo_rate(echo_address, HOSTILE_CLIENTS)
        report.figure("grpc.echo", echo, "calls/s")
        chosen = cases(platform, sorted(ROLES), per_rpc=10_000)  # every case there is
        # The rate over unary RPCs: a stream that stays open is answered by its deadline.
        unary = [c for c in chosen if not c.rpc.streaming]
        started = time.perf_counter()
        result = hostile_run(platform, unary, clients=HOSTILE_CLIENTS)
        rate = len(result.answers) / (time.perf_counter() - started)
        report.figure("hostile.calls_per_s", rate, "calls/s", baseline="grpc.echo")
        streams = [c for c in chosen if c.rpc.streaming]
        result.answers += hostile_run(platform, streams, clients=4 * HOSTILE_CLIENTS).answers
        report.note(f"hostile run: {result.summary()}")
        report.note(f"hostile answers not allowed: {len(result.refused)}")
        for answer in result.refused[:10]:
            report.note(f"  not allowed: {answer}")
        idle_streams(report, platform)
    finally:
        echo_server.stop(0)
        platform.stop()


def idle_streams(report: Report, platform: Platform) -> None:
    host = platform.hosts["messaging"]
    address = platform.endpoint("messaging")
    channel = grpc.insecure_channel(address)
    devices = []
    for _ in range(DEVICES):
        account = str(uuid.uuid4())
        token = platform.signer.issue(account, {"guardian"}, age_band="18_plus", lifetime=7200)
        device = MessagingDevice(channel, token, account)
        device.publish(1)
        devices.append((device.device_id, token))
    clients = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.bench.idle_streams"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(CLIENT_PROCESSES)
    ]
    probe_device, probe_token = devices[0]
    stub = messaging_pb2_grpc.MessagingServiceStub(channel)
    health = health_pb2_grpc.HealthStub(channel)
    request = messaging_pb2.CountPrekeysRequest(device_id=probe_device)
    capacity, opened, last_p99 = 0, 0, 0.0
    try:
        for step in STEPS:
            wanted = step - opened
            for i, client in enumerate(clients):
                share = wanted // len(clients) + (1 if i < wanted % len(clients) else 0)
                streams = [devices[(opened + i + k) % DEVICES] for k in range(share)]
                assert client.stdin is not None and client.stdout is not None
                client.stdin.write(json.dumps({"address": address, "streams": streams}) + "\n")
                client.stdin.flush()
            for client in clients:
                assert client.stdout is not None
                client.stdout.readline()
            opened = step
            deadline = time.monotonic() + 120
            while host.adapter.streams.open < step and time.monotonic() < deadline:
                time.sleep(0.2)
            held = host.adapter.streams.open
            time.sleep(1.0)  # let the last openings settle
            unary, checks = [], []
            for _ in range(SAMPLES):
                began = time.perf_counter()
                stub.CountPrekeys(request, metadata=bearer(probe_token), timeout=10)
                between = time.perf_counter()
                health.Check(health_pb2.HealthCheckRequest(), timeout=10)
                unary.append((between - began) * 1000)
                checks.append((time.perf_counter() - between) * 1000)
            p99 = statistics.quantiles(unary, n=100)[98]
            report.note(
                f"{held} idle delivery streams held: CountPrekeys p50 "
                f"{statistics.median(unary):.1f} ms p99 {p99:.1f} ms; health Check p50 "
                f"{statistics.median(checks):.1f} ms p99 "
                f"{statistics.quantiles(checks, n=100)[98]:.1f} ms"
            )
            if held < step or p99 >= TARGET_P99_MS:
                break
            capacity = held
            last_p99 = p99
    finally:
        for client in clients:
            if client.stdin is not None:
                client.stdin.close()
        for client in clients:
            try:
                client.wait(timeout=30)
            except subprocess.TimeoutExpired:
                client.kill()
        channel.close()
    report.figure("grpc.idle_streams.capacity", capacity, "streams")
    if capacity:
        report.figure("grpc.unary.p99", last_p99, "ms")
    report.note(
        f"grpc.idle_streams.capacity: measured at {', '.join(map(str, STEPS))} streams over "
        f"{DEVICES} devices from {CLIENT_PROCESSES} client processes; the bound is the last "
        f"step, not the server's limit"
    )


# --- the baseline: a raw unary echo from as many client threads as the hostile run ---


def start_echo() -> tuple[grpc.Server, str]:
    def echo(request: bytes, context: grpc.ServicerContext) -> bytes:
        return request

    handler = grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
    )
    server = grpc.server(ThreadPoolExecutor(ECHO_WORKERS))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"


def echo_rate(address: str, clients: int) -> float:
    channels = [grpc.insecure_channel(address) for _ in range(clients)]
    calls = [c.unary_unary("/bench.Echo/Echo") for c in channels]
    payload = b"x" * 200
    return _concurrently([lambda call=call: call(payload) for call in calls])  # type: ignore[misc]


def _concurrently(actions: list[Callable[[], object]]) -> float:
    """Run each action in its own thread for ECHO_SECONDS; the total calls per second."""
    counts = [0] * len(actions)
    stop = time.perf_counter() + ECHO_SECONDS

    def loop(i: int) -> None:
        while time.perf_counter() < stop:
            actions[i]()
            counts[i] += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=loop, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - start)
