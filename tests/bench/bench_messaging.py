"""End-to-end messaging: sender to recipient through the relay, beside a raw gRPC unary echo.

Each message is encrypted on the sending device (Double Ratchet, franked), relayed (policy
membership check, stamp, metadata event appended, ciphertext into the recipient's JetStream
mailbox), streamed to the recipient device, decrypted, frank-checked and acknowledged. The
`grpc.echo` baseline is a bare unary call on a server with the same thread pool, from the same
number of client threads: the limit for anything that makes one gRPC call per message.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc

from hearth_proto.hearth.age.v1 import types_pb2
from hearth_proto.hearth.identity.v1 import events_pb2 as identity_events
from hearth_proto.hearth.identity.v1 import identity_pb2
from hearth_runtime.platform import Platform
from hearth_sdk.channel import connect
from hearth_sdk.messaging import MessagingDevice
from tests.bench.report import Report, best_of
from tests.messaging.support import IdentityFeed

ROUNDS = 2
DURATION = 3.0  # seconds of sending per measurement
LATENCY_RATE = 200  # messages per second for the latency figures
WORKERS = 64
QUICK = {"ROUNDS": 1, "DURATION": 0.3, "LATENCY_RATE": 100}  # `--quick`: every figure once
MSGS_PER_S = "messages/s"
BODY = b"a bench message of a typical length for a chat between two people, " * 2


def run(report: Report) -> None:
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    environ = {
        "HEARTH_IDENTITY_STREAM": f"{prefix}_IDENTITY".upper(),
        "HEARTH_IDENTITY_SUBJECT_PREFIX": f"{prefix}.identity",
        "HEARTH_MESSAGING_STREAM": f"{prefix}_MESSAGING".upper(),
        "HEARTH_MESSAGING_SUBJECT_PREFIX": f"{prefix}.messaging",
        "HEARTH_MESSAGING_MAILBOX_STREAM": f"{prefix}_MAILBOX".upper(),
        "HEARTH_MESSAGING_MAILBOX_SUBJECT_PREFIX": f"{prefix}.mailbox",
        "HEARTH_MESSAGING_SEND_RATE": "1000000",
        "HEARTH_MESSAGING_SEND_BURST": "1000000",
        "HEARTH_MESSAGING_GRPC_WORKERS": str(WORKERS),
        "HEARTH_LOG_LEVEL": "WARNING",
    }
    workdir = report.workdir / "messaging"
    workdir.mkdir(parents=True, exist_ok=True)
    platform = Platform(
        Path(workdir), services=["messaging"], environ=environ, nats_url=report.nats_url
    ).start()
    feed = IdentityFeed(env={**environ, "NATS_URL": report.nats_url})
    echo_server, echo_address = start_echo()
    try:
        pairs_2 = make_pairs(platform, feed, 1)
        pairs_20 = make_pairs(platform, feed, 10)
        echo_2, e2e_2 = best_of(
            ROUNDS, lambda: echo_rate(echo_address, 2), lambda: e2e_rate(pairs_2)
        )
        report.figure("grpc.echo", echo_2, "calls/s")
        report.figure("messaging.e2e.2clients", e2e_2, MSGS_PER_S, baseline="grpc.echo")
        (e2e_20,) = best_of(ROUNDS, lambda: e2e_rate(pairs_20))
        report.figure("messaging.e2e.20clients", e2e_20, MSGS_PER_S, baseline="grpc.echo")
        p50, p99 = latency(pairs_2[0])
        report.figure("messaging.latency.p50", p50, "ms")
        report.figure("messaging.latency.p99", p99, "ms")
        for sender, receiver, _ in pairs_2 + pairs_20:
            sender.disconnect()
            receiver.disconnect()
    finally:
        echo_server.stop(0)
        feed.close()
        platform.stop()


# --- the baseline: a raw unary echo ----------------------------------------------------


def start_echo() -> tuple[grpc.Server, str]:
    def echo(request: bytes, context: grpc.ServicerContext) -> bytes:
        return request

    handler = grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
    )
    server = grpc.server(ThreadPoolExecutor(WORKERS))
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
    """Run each action in its own thread for DURATION; the total calls per second."""
    counts = [0] * len(actions)
    stop = time.perf_counter() + DURATION

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


# --- end to end --------------------------------------------------------------------------

Pair = tuple[MessagingDevice, MessagingDevice, str]


def make_pairs(platform: Platform, feed: IdentityFeed, count: int) -> list[Pair]:
    """`count` pairs of adults (two clients each) with a conversation and sessions set up."""
    address = platform.endpoint("messaging")
    channel = connect(address)
    pairs: list[Pair] = []
    last = 0
    accounts = [str(uuid.uuid4()) for _ in range(2 * count)]
    for account in accounts:
        registered = identity_events.AccountRegistered(role=identity_pb2.ROLE_GUARDIAN)
        feed.append(registered, uuid.UUID(account))
        feed.append(
            identity_events.AccountAgeBandSet(account_id=account, band=types_pb2.AGE_BAND_18_PLUS)
        )
        last = feed.append(identity_events.HouseRulesAccepted(account_id=account, version=1))
    platform.hosts["messaging"].parts.followers[0].wait_until(last, timeout=30)
    for i in range(count):
        a, b = accounts[2 * i], accounts[2 * i + 1]
        sender = _device(platform, channel, address, a)
        receiver = _device(platform, channel, address, b)
        conversation = sender.start_conversation([b]).conversation_id
        sender.send(conversation, b"hello", devices=[receiver.device_id])
        receiver.receive(1)
        receiver.send(conversation, b"hi", devices=[sender.device_id])  # sessions established
        sender.receive(1)
        pairs.append((sender, receiver, conversation))
    return pairs


def _device(
    platform: Platform, channel: grpc.Channel, address: str, account: str
) -> MessagingDevice:
    token = platform.signer.issue(account, {"guardian"}, age_band="18_plus", lifetime=3600)
    device = MessagingDevice(channel, token, account, address=address)
    device.publish(5)
    return device


def e2e_rate(pairs: list[Pair]) -> float:
    """Both clients of every pair send to each other for DURATION; received messages/s."""
    stop = time.perf_counter() + DURATION
    received = [0] * (2 * len(pairs))
    sent = [0] * (2 * len(pairs))
    ends: list[tuple[MessagingDevice, MessagingDevice, str]] = []
    for sender, receiver, conversation in pairs:
        ends += [(sender, receiver, conversation), (receiver, sender, conversation)]

    def send(i: int) -> None:
        me, other, conversation = ends[i]
        while time.perf_counter() < stop:
            me.send(
                conversation, b"bench message of a typical length, " * 3, devices=[other.device_id]
            )
            sent[i] += 1

    def receive(i: int) -> None:
        _, me, _ = ends[i]
        while (
            time.perf_counter() < stop + 5 and received[i] < sent[i]
        ) or time.perf_counter() < stop:
            received[i] += len(me.receive(64, timeout=0.2))

    start = time.perf_counter()
    threads = [
        threading.Thread(target=f, args=(i,)) for i in range(len(ends)) for f in (send, receive)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return sum(received) / elapsed


def latency(pair: Pair) -> tuple[float, float]:
    """Send at LATENCY_RATE for DURATION; sender-to-recipient latency percentiles in ms."""
    sender, receiver, conversation = pair
    total = int(LATENCY_RATE * DURATION)
    latencies: list[float] = []

    def receive() -> None:
        while len(latencies) < total:
            got = receiver.receive(1, timeout=5, acknowledge=False)
            if not got:
                return
            now = time.perf_counter()
            latencies.append((now - float(got[0].body)) * 1000)
            if len(latencies) % 50 == 0:
                receiver.acknowledge(got[0].sequence)

    thread = threading.Thread(target=receive)
    thread.start()
    start = time.perf_counter()
    for i in range(total):
        due = start + i / LATENCY_RATE
        time.sleep(max(0.0, due - time.perf_counter()))
        sender.send(conversation, repr(time.perf_counter()).encode(), devices=[receiver.device_id])
    thread.join()
    latencies.sort()
    return statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]
