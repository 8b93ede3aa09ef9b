"""A NATS outage: every RPC of every service answers UNAVAILABLE (or what it decides without
the store), never INTERNAL, UNKNOWN or a hang, and answers again once NATS is back. The RPCs
are found by walking the services' descriptors, so a new RPC is covered without being listed
here."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor, ServiceDescriptor
from google.protobuf.message import Message

from hearth_proto.hearth.age.v1 import age_pb2
from hearth_proto.hearth.audit.v1 import audit_pb2
from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_proto.hearth.messaging.v1 import messaging_pb2
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from hearth_sdk.channel import bearer, connect
from hearth_sdk.errors import error_info
from tests.conftest import ROLES, stream_environ, unique_name

SERVICES: dict[str, ServiceDescriptor] = {
    "identity": identity_pb2.DESCRIPTOR.services_by_name["IdentityService"],
    "age": age_pb2.DESCRIPTOR.services_by_name["AgeService"],
    "messaging": messaging_pb2.DESCRIPTOR.services_by_name["MessagingService"],
    "audit": audit_pb2.DESCRIPTOR.services_by_name["AuditService"],
}
NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED}
# Answers a call may give without reaching the store: its input or its caller is refused
# first, or it needs nothing stored (house rules, issuer keys, a redemption challenge).
DECIDED_WITHOUT_STORE = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.FAILED_PRECONDITION,
}
CALL_TIMEOUT = 60.0  # far above the store's 1 s timeout: reaching it means a hang
# Calls whose well-formed request must reach the store, so the outage must answer them.
MUST_REACH_STORE = {
    "identity": {
        "RegisterAccount",
        "BeginLogin",
        "GetAccount",
        "CreateOrganisation",
        "AcceptHouseRules",
        "RecordConsent",
        "ExportMyData",
    },
    "messaging": {
        "CountPrekeys",
        "FetchPrekeyBundle",
        "CreateConversation",
        "SendEnvelope",
        "ReceiveEnvelopes",
        "BlockAccount",
    },
    "audit": {"ApproveDisclosure", "ExportBundle"},
    "age": {"StartVerification"},
}
# Where the generic filling is not well-formed enough for the call to reach the store.
WELL_FORMED: dict[str, dict[str, object]] = {
    "RegisterAccount": {"invitation_code": ""},  # a young person registers without one
    "RecordConsent": {"purpose": "research"},
}


def filled(message: Message, depth: int = 0) -> Message:
    """A request with every field set to something well-formed enough to pass validation."""
    for field in message.DESCRIPTOR.fields:
        values = [_value(message, field, depth)]
        if field.is_repeated:
            target = getattr(message, field.name)
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                target.add().CopyFrom(values[0])
            else:
                target.extend(values)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            getattr(message, field.name).CopyFrom(values[0])
        else:
            setattr(message, field.name, values[0])
    return message


def _value(message: Message, field: Any, depth: int) -> object:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        cls = message_factory.GetMessageClass(field.message_type)
        return filled(cls(), depth + 1) if depth < 3 else cls()
    if field.type == FieldDescriptor.TYPE_STRING:
        return str(uuid.uuid4())
    if field.type == FieldDescriptor.TYPE_BYTES:
        return os.urandom(64 if "signature" in field.name or field.name == "proof" else 32)
    if field.type == FieldDescriptor.TYPE_BOOL:
        return True
    if field.type == FieldDescriptor.TYPE_ENUM:
        return field.enum_type.values[1].number if len(field.enum_type.values) > 1 else 0
    return 1


def request_of(method: Any) -> Message:
    request = filled(message_factory.GetMessageClass(method.input_type)())
    for name, value in WELL_FORMED.get(method.name, {}).items():
        setattr(request, name, value)
    return request


@pytest.fixture
def platform(own_nats: EmbeddedNats, tmp_path: Path) -> Iterator[Platform]:
    environ = {
        **stream_environ(unique_name("o"), "identity", "audit", "age", "messaging"),
        "HEARTH_NATS_TIMEOUT": "1",
        "HEARTH_GRACE_PERIOD": "1",
    }
    platform = Platform(tmp_path / "platform", environ=environ, nats_url=own_nats.url).start()
    yield platform
    platform.stop()


def answer(
    channel: grpc.Channel, service: ServiceDescriptor, method: MethodDescriptor, token: str
) -> tuple[grpc.StatusCode, grpc.RpcError | None]:
    """The status code a call gets (a stream is read to its end)."""
    path = f"/{service.full_name}/{method.name}"
    request = request_of(method)
    serialize = type(request).SerializeToString
    metadata = bearer(token)
    try:
        if method.server_streaming:
            call = channel.unary_stream(path, request_serializer=serialize)
            for _ in call(request, metadata=metadata, timeout=CALL_TIMEOUT):
                pass
        else:
            call = channel.unary_unary(path, request_serializer=serialize)
            call(request, metadata=metadata, timeout=CALL_TIMEOUT)
    except grpc.RpcError as e:
        return e.code(), e
    return grpc.StatusCode.OK, None


def test_every_rpc_answers_a_nats_outage_as_unavailable(
    platform: Platform, own_nats: EmbeddedNats
) -> None:
    token = platform.signer.issue(str(uuid.uuid4()), set(ROLES))
    channels = {name: connect(platform.endpoint(name)) for name in SERVICES}
    own_nats.stop()
    time.sleep(0.5)  # the services' connections notice and start reconnecting

    calls = [(name, s, m) for name, s in SERVICES.items() for m in s.methods]
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda c: (c[0], c[2].name, *answer(channels[c[0]], c[1], c[2], token)), calls)
        )

    # NATS comes back (on its port, with its data): the services answer again, unrestarted.
    own_nats.start()
    register = identity_pb2.RegisterAccountRequest(
        request_id=unique_name("r"),
        role=identity_pb2.ROLE_YOUNG_PERSON,
        device_public_key=os.urandom(32),
    )
    identity = identity_pb2_grpc.IdentityServiceStub(channels["identity"])
    deadline = time.monotonic() + 60
    while True:
        try:
            assert identity.RegisterAccount(register, timeout=CALL_TIMEOUT).account_id
            break
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.UNAVAILABLE, e
            assert time.monotonic() < deadline, "identity did not recover"
            time.sleep(0.5)
    for channel in channels.values():
        channel.close()

    report = {f"{service}.{method}": code.name for service, method, code, _ in answers}
    assert len(report) == sum(len(s.methods) for s in SERVICES.values()) > 40
    for service, method, code, error in answers:
        where = f"{service}.{method}: {code.name}"
        assert code not in NEVER, where
        assert code in DECIDED_WITHOUT_STORE | {grpc.StatusCode.UNAVAILABLE}, where
        if code == grpc.StatusCode.UNAVAILABLE:
            assert error is not None
            info = error_info(error)
            assert info is not None, where
            assert (info.reason, info.domain) == ("STORE_UNAVAILABLE", f"{service}.hearth")
            assert "nats://" not in str(error.details()), where  # no connection details leak
        if method in MUST_REACH_STORE[service]:
            assert code == grpc.StatusCode.UNAVAILABLE, (where, report)
