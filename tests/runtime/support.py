"""Helpers for runtime tests: tokens, registration, polling, the span exporter."""

from __future__ import annotations

from nacl.signing import SigningKey
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from hearth_identity.domain import Role
from hearth_proto.hearth.audit.v1 import audit_pb2, audit_pb2_grpc
from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.platform import Platform
from hearth_sdk.channel import bearer

ALL_ROLES = [r.label for r in Role]
SPANS = InMemorySpanExporter()
YOUNG_PERSON = identity_pb2.ROLE_YOUNG_PERSON


def token(
    platform: Platform, *roles: str, account: str = "00000000-0000-0000-0000-000000000000"
) -> str:
    return platform.signer.issue(account, set(roles))


def register(
    identity: identity_pb2_grpc.IdentityServiceStub,
    request_id: str,
    role: identity_pb2.Role.ValueType = YOUNG_PERSON,
    device_key: bytes | None = None,
) -> str:
    key = device_key or bytes(SigningKey.generate().verify_key)
    response = identity.RegisterAccount(
        identity_pb2.RegisterAccountRequest(request_id=request_id, role=role, device_public_key=key)
    )
    return str(response.account_id)


def audit_size(audit: audit_pb2_grpc.AuditServiceStub, platform: Platform) -> dict[str, int]:
    state = audit.GetLogState(
        audit_pb2.GetLogStateRequest(), metadata=bearer(token(platform, "auditor"))
    )
    return dict(state.events_by_stream)
