"""End-to-end messaging: sender to recipient through the relay, beside `grpc.echo` from the same
clients, and two replicas beside one.

Each message is encrypted on the sending device (Double Ratchet, franked), relayed (policy
membership check, stamp, metadata event appended, ciphertext into the recipient's JetStream
mailbox), streamed to the recipient device, decrypted and frank-checked; one operation is one
message sent and received (acknowledged in batches, as an app would). The relay runs as
`hearth serve --service messaging`, a process of its own; the clients run in the shared client
processes (`clients.ClientPool`), so the figures are the server's:

- `messaging.e2e.<n>clients` against `grpc.echo.<n>clients` (the same pool, the same clients);
- `messaging.cpu.ms_per_message`: the server process's CPU time over the counted window / the
  messages in it (steadier than throughput on a shared machine);
- `messaging.latency.p50`/`.p99`: sender-to-recipient at `LATENCY_RATE` messages/s, from a
  client in the bench process;
- `messaging.e2e.2replicas`: the same 20 clients spread over two server processes (a sender on
  one replica, its recipient's delivery stream on the other), against `messaging.e2e.20clients`
  on one of them, in the same rounds.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from nacl.signing import SigningKey

from hearth_proto.hearth.age.v1 import types_pb2
from hearth_proto.hearth.identity.v1 import events_pb2 as identity_events
from hearth_proto.hearth.identity.v1 import identity_pb2
from hearth_runtime.embedded_nats import free_port
from hearth_runtime.sessions import (
    SessionSigner,
    format_public_keys,
    format_signing_key,
    parse_signing_key,
)
from hearth_sdk.channel import connect
from hearth_sdk.errors import error_info
from hearth_sdk.messaging import MessagingDevice
from tests.bench.clients import Operation
from tests.bench.echo import EchoCalls, EchoServer, figure_name
from tests.bench.report import Report
from tests.messaging.support import IdentityFeed

ROUNDS = 2
CLIENTS = 20
WARMUP, DURATION = 1.0, 3.0  # seconds
LATENCY_RATE = 200  # messages per second for the latency figures
LATENCY_SECONDS = 3.0
ACK_EVERY = 32  # messages a client receives before it acknowledges them
QUICK = {
    "ROUNDS": 1,
    "CLIENTS": 2,
    "WARMUP": 0.2,
    "DURATION": 0.5,
    "LATENCY_RATE": 100,
    "LATENCY_SECONDS": 0.5,
}
MSGS_PER_S = "messages/s"
BODY = b"a bench message of a typical length for a chat between two people, " * 2


def run(report: Report) -> None:
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    signer = SessionSigner("bench", SigningKey.generate())
    environ = {
        "HEARTH_IDENTITY_STREAM": f"{prefix}_IDENTITY".upper(),
        "HEARTH_IDENTITY_SUBJECT_PREFIX": f"{prefix}.identity",
        "HEARTH_MESSAGING_STREAM": f"{prefix}_MESSAGING".upper(),
        "HEARTH_MESSAGING_SUBJECT_PREFIX": f"{prefix}.messaging",
        "HEARTH_MESSAGING_MAILBOX_STREAM": f"{prefix}_MAILBOX".upper(),
        "HEARTH_MESSAGING_MAILBOX_SUBJECT_PREFIX": f"{prefix}.mailbox",
        "HEARTH_MESSAGING_SEND_RATE": "1000000",
        "HEARTH_MESSAGING_SEND_BURST": "1000000",
        "HEARTH_LOG_LEVEL": "WARNING",
        "NATS_URL": report.nats_url,
        "HEARTH_SESSION_PUBLIC_KEYS": format_public_keys({signer.key_id: signer.public_key}),
    }
    feed = IdentityFeed(env=environ)
    accounts = adults(feed, 2 * CLIENTS)
    replicas = [Replica(report.workdir / "messaging", environ) for _ in range(2)]
    echo = EchoServer()
    pool = report.clients
    try:
        for replica in replicas:
            replica.wait_serving()
        key = format_signing_key(signer)
        one = Conversations((replicas[0].address,), key, accounts)
        two = Conversations(tuple(r.address for r in replicas), key, accounts)
        a: dict[str, int | None] = {"server": replicas[0].pid}
        both: dict[str, int | None] = {f"r{i}": r.pid for i, r in enumerate(replicas)}
        best: dict[str, float] = {}
        cpu: list[float] = []
        for _ in range(ROUNDS):
            rounds = {
                figure_name(CLIENTS): pool.measure(
                    EchoCalls(echo.address), CLIENTS, warmup=WARMUP, duration=DURATION
                ).rate
            }
            measured = pool.measure(one, CLIENTS, warmup=WARMUP, duration=DURATION, servers=a)
            rounds["e2e.one"] = measured.rate
            rounds["e2e.2clients"] = (
                measured.rate
                if CLIENTS == 2  # `--quick`: the one measurement serves both
                else pool.measure(one, 2, warmup=WARMUP, duration=DURATION, servers=a).rate
            )
            cpu.append(measured.cpu_per_operation() * 1000)
            rounds["e2e.two"] = pool.measure(
                two, CLIENTS, warmup=WARMUP, duration=DURATION, servers=both
            ).rate
            for name, value in rounds.items():
                best[name] = max(best.get(name, 0.0), value)
        echo_name = figure_name(CLIENTS)
        report.figure(echo_name, best[echo_name], "calls/s")
        if CLIENTS != 2:
            report.figure("messaging.e2e.2clients", best["e2e.2clients"], MSGS_PER_S)
        report.figure(
            f"messaging.e2e.{CLIENTS}clients", best["e2e.one"], MSGS_PER_S, baseline=echo_name
        )
        report.figure("messaging.cpu.ms_per_message", min(cpu), "ms")
        report.figure(
            "messaging.e2e.2replicas",
            best["e2e.two"],
            MSGS_PER_S,
            baseline=f"messaging.e2e.{CLIENTS}clients",
        )
        p50, p99 = latency(replicas[0].address, key, accounts[0], accounts[1])
        report.figure("messaging.latency.p50", p50, "ms")
        report.figure("messaging.latency.p99", p99, "ms")
    finally:
        echo.close()
        for replica in replicas:
            replica.stop()
        feed.close()


def adults(feed: IdentityFeed, count: int) -> list[str]:
    """Accounts identity announced as adult guardians who accepted the house rules."""
    accounts = [str(uuid.uuid4()) for _ in range(count)]
    for account in accounts:
        registered = identity_events.AccountRegistered(role=identity_pb2.ROLE_GUARDIAN)
        feed.append(registered, uuid.UUID(account))
        feed.append(
            identity_events.AccountAgeBandSet(account_id=account, band=types_pb2.AGE_BAND_18_PLUS)
        )
        feed.append(identity_events.HouseRulesAccepted(account_id=account, version=1))
    return accounts


class Replica:
    """One `hearth serve --service messaging` process on a port of its own."""

    def __init__(self, data_dir: Path, environ: dict[str, str]) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)  # shared: the replicas' franking key
        port = free_port()
        self.address = f"127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hearth_runtime.cli", "serve", "--service", "messaging"],
            env={
                **os.environ,
                **environ,
                "HEARTH_DATA_DIR": str(data_dir),
                "HEARTH_MESSAGING_GRPC_PORT": str(port),
            },
        )
        self.pid = self.process.pid

    def wait_serving(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        with grpc.insecure_channel(self.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while True:
                try:
                    status = health.Check(health_pb2.HealthCheckRequest(), timeout=1).status
                    if status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"messaging at {self.address} did not start serving "
                        f"(exit {self.process.poll()})"
                    )
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()


# --- the clients ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Conversations:
    """Client i: a pair of devices of accounts 2i and 2i+1 in a conversation; the sender on
    replica i, the recipient's delivery stream on the next one (the same with one replica)."""

    addresses: tuple[str, ...]
    signing_key: str
    accounts: list[str]

    def prepare(self, client: int) -> Operation:
        near = self.addresses[client % len(self.addresses)]
        far = self.addresses[(client + 1) % len(self.addresses)]
        return Exchange(
            self.signing_key, self.accounts[2 * client], self.accounts[2 * client + 1], near, far
        )


class Exchange:
    """Send one message and receive it on the other device."""

    def __init__(self, signing_key: str, a: str, b: str, near: str, far: str) -> None:
        signer = parse_signing_key(signing_key)
        self.sender = _device(signer, a, near, near)
        self.receiver = _device(signer, b, far, far)
        self.conversation = _converse(self.sender, self.receiver)
        self.received = 0

    def __call__(self) -> object:
        self.sender.send(self.conversation, BODY, devices=[self.receiver.device_id])
        got = self.receiver.receive(1, timeout=10, acknowledge=False)
        if not got:
            raise RuntimeError("a message was not delivered within 10 s")
        self.received += 1
        if self.received % ACK_EVERY == 0:
            self.receiver.acknowledge(got[0].sequence)
        return got

    def close(self) -> None:
        for device in (self.sender, self.receiver):
            device.disconnect()


def _device(signer: SessionSigner, account: str, address: str, stream: str) -> MessagingDevice:
    token = signer.issue(account, {"guardian"}, age_band="18_plus", lifetime=3600)
    device = MessagingDevice(connect(address), token, account, address=stream)
    device.publish(5)
    return device


def _converse(sender: MessagingDevice, receiver: MessagingDevice) -> str:
    """A conversation with sessions set up both ways (messaging may still be taking in the
    accounts: retried while the house rules are not known to be accepted)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            conversation = sender.start_conversation([receiver.account_id]).conversation_id
            break
        except grpc.RpcError as e:
            info = error_info(e)
            if not info or info.reason != "HOUSE_RULES_NOT_ACCEPTED" or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    sender.send(conversation, b"hello", devices=[receiver.device_id])
    receiver.receive(1)
    receiver.send(conversation, b"hi", devices=[sender.device_id])
    sender.receive(1)
    return conversation


def latency(address: str, signing_key: str, a: str, b: str) -> tuple[float, float]:
    """Send at LATENCY_RATE for LATENCY_SECONDS from the bench process (the server is another
    process); sender-to-recipient latency percentiles in ms."""
    signer = parse_signing_key(signing_key)
    sender, receiver = _device(signer, a, address, address), _device(signer, b, address, address)
    conversation = _converse(sender, receiver)
    total = int(LATENCY_RATE * LATENCY_SECONDS)
    latencies: list[float] = []

    def receive() -> None:
        while len(latencies) < total:
            got = receiver.receive(1, timeout=5, acknowledge=False)
            if not got:
                return
            latencies.append((time.perf_counter() - float(got[0].body)) * 1000)
            if len(latencies) % 50 == 0:
                receiver.acknowledge(got[0].sequence)

    thread = threading.Thread(target=receive)
    thread.start()
    start = time.perf_counter()
    for i in range(total):
        time.sleep(max(0.0, start + i / LATENCY_RATE - time.perf_counter()))
        sender.send(conversation, repr(time.perf_counter()).encode(), devices=[receiver.device_id])
    thread.join()
    for device in (sender, receiver):
        device.disconnect()
    latencies.sort()
    return statistics.median(latencies), latencies[max(0, int(len(latencies) * 0.99) - 1)]
