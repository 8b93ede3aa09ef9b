"""The platform in one process: health, reflection, access, following and tracing, for real."""

from __future__ import annotations

import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from hearth_proto.hearth.audit.v1 import audit_pb2_grpc
from hearth_proto.hearth.identity.v1 import identity_pb2_grpc
from hearth_runtime.platform import Platform
from tests.conftest import unique_name
from tests.runtime.support import SPANS, audit_size, register
from tests.support.polling import wait_for


@pytest.mark.parametrize("service", ["identity", "audit"])
def test_health_is_serving_with_reflection(platform: Platform, service: str) -> None:
    channel = grpc.insecure_channel(platform.endpoint(service))
    health = health_pb2_grpc.HealthStub(channel)
    assert (
        health.Check(health_pb2.HealthCheckRequest()).status
        == health_pb2.HealthCheckResponse.SERVING
    )
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    answers = reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = {s.name for s in next(answers).list_services_response.service}
    assert f"hearth.{service}.v1.{service.capitalize()}Service" in names
    assert "grpc.health.v1.Health" in names


def test_event_reaches_the_follower_exactly_once(
    platform: Platform,
    identity: identity_pb2_grpc.IdentityServiceStub,
    audit: audit_pb2_grpc.AuditServiceStub,
) -> None:
    before = audit_size(audit, platform).get("identity", 0)
    request_id, key = unique_name("req"), b"\x01" * 32
    first = register(identity, request_id, device_key=key)
    wait_for(lambda: audit_size(audit, platform).get("identity", 0) == before + 1)
    # A retried registration is the same account and records nothing new.
    assert register(identity, request_id, device_key=key) == first
    time.sleep(0.5)
    assert audit_size(audit, platform).get("identity", 0) == before + 1


def test_one_trace_runs_from_client_call_through_append_into_the_follower(
    platform: Platform,
    identity: identity_pb2_grpc.IdentityServiceStub,
    audit: audit_pb2_grpc.AuditServiceStub,
) -> None:
    SPANS.clear()
    before = audit_size(audit, platform).get("identity", 0)
    register(identity, unique_name("traced"))
    wait_for(lambda: audit_size(audit, platform).get("identity", 0) == before + 1)
    time.sleep(0.2)
    spans = SPANS.get_finished_spans()
    client = next(
        s for s in spans if s.name.endswith("RegisterAccount") and s.kind.name == "CLIENT"
    )
    trace_id = client.context.trace_id
    in_trace = [s for s in spans if s.context.trace_id == trace_id]
    names = {s.name for s in in_trace}
    assert any(n.startswith("eventlog.append") for n in names), names
    follow = [s for s in in_trace if s.name.startswith("follow identity")]
    assert follow, f"follower span not in the client's trace: {names}"
    by_id = {s.context.span_id: s for s in in_trace}
    parent = follow[0].parent
    assert parent is not None and by_id[parent.span_id].name.startswith("eventlog.append")
