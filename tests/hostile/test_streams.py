"""Open streams starve nothing: idle delivery streams and health Watches by the hundred leave
unary calls and health checks answering at once, and unauthenticated streams are bounded.

Reported: 16 idle health Watch streams (or 16 open ReceiveEnvelopes) took every worker thread
of a server, so health checks and unary calls timed out until the streams went away.
"""

from __future__ import annotations

import statistics
import time
import uuid

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hearth_proto.hearth.messaging.v1 import messaging_pb2, messaging_pb2_grpc
from hearth_runtime.access import PUBLIC
from hearth_runtime.config import RuntimeConfig
from hearth_runtime.platform import Platform
from hearth_runtime.server import ServiceHost, ServiceParts
from hearth_runtime.sessions import SessionVerifier
from hearth_sdk.channel import bearer
from hearth_sdk.messaging import MessagingDevice
from tests.support.polling import wait_for

DELIVERY_STREAMS = 400  # far past the worker threads (16) that idle streams used to take
WATCHES = 100
RECEIVE = "/hearth.messaging.v1.MessagingService/ReceiveEnvelopes"
WATCH = "/grpc.health.v1.Health/Watch"


def test_hundreds_of_idle_streams_leave_unary_calls_and_health_answering(
    platform: Platform,
) -> None:
    host = platform.hosts["messaging"]
    account = str(uuid.uuid4())
    token = platform.signer.issue(account, {"guardian"}, age_band="18_plus", lifetime=3600)
    channel = grpc.insecure_channel(platform.endpoint("messaging"))
    device = MessagingDevice(channel, token, account)
    device.publish(1)
    request = messaging_pb2.ReceiveEnvelopesRequest(device_id=device.device_id)
    open_before = host.adapter.streams.open
    streams = [
        channel.unary_stream(RECEIVE)(
            request.SerializeToString(), metadata=bearer(token), timeout=120
        )
        for _ in range(DELIVERY_STREAMS)
    ]
    watches = [
        channel.unary_stream(WATCH)(
            health_pb2.HealthCheckRequest().SerializeToString(), timeout=120
        )
        for _ in range(WATCHES)
    ]
    try:
        wanted = open_before + DELIVERY_STREAMS + WATCHES
        wait_for(lambda: host.adapter.streams.open >= wanted, timeout=60)
        stub = messaging_pb2_grpc.MessagingServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        latencies = []
        for _ in range(40):
            started = time.perf_counter()
            stub.CountPrekeys(
                messaging_pb2.CountPrekeysRequest(device_id=device.device_id),
                metadata=bearer(token),
                timeout=5,
            )
            checked = health.Check(health_pb2.HealthCheckRequest(), timeout=5)
            latencies.append(time.perf_counter() - started)
            assert checked.status == health_pb2.HealthCheckResponse.SERVING
        # Generous for a shared 2-core machine; starvation shows as a 5 s timeout.
        assert statistics.median(latencies) < 0.5, latencies
        assert max(latencies) < 3.0, latencies
    finally:
        for call in streams + watches:
            call.cancel()
        channel.close()
    wait_for(lambda: host.adapter.streams.open <= open_before, timeout=30)


def test_unauthenticated_streams_are_bounded_and_health_checks_still_answer() -> None:
    config = RuntimeConfig.from_env(
        "bounded", {"HEARTH_GRPC_PORT": "0", "HEARTH_GRPC_MAX_OPEN_STREAMS": "8"}
    )
    parts = ServiceParts(name="bounded", servicers=[], service_names=[], rules={"/x/Y": PUBLIC})
    host = ServiceHost(config, parts, SessionVerifier({})).start()
    channel = grpc.insecure_channel(host.address)
    request = health_pb2.HealthCheckRequest()
    health = health_pb2_grpc.HealthStub(channel)
    try:
        watches = [health.Watch(request, timeout=60) for _ in range(8)]
        for watch in watches:  # each is open: it has sent the current status
            assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
        extra = health.Watch(request, timeout=10)
        try:
            next(extra)
            raise AssertionError("a ninth unauthenticated stream was accepted")
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "8 open unauthenticated streams" in (e.details() or "")
        assert health.Check(request, timeout=5).status == health_pb2.HealthCheckResponse.SERVING
        watches.pop().cancel()
        wait_for(lambda: host.adapter.open_streams.open == 7)
        assert next(health.Watch(request, timeout=10)).status == (
            health_pb2.HealthCheckResponse.SERVING
        )
        for watch in watches:
            watch.cancel()
    finally:
        channel.close()
        host.stop(grace=1)
