"""Every messaging RPC's access rule, for every role, and without a session."""

from __future__ import annotations

import uuid

import grpc
import pytest

from hearth_messaging.service import KEEPER_USES, RULES
from hearth_proto.hearth.messaging.v1 import messaging_pb2 as pb
from hearth_proto.hearth.messaging.v1 import messaging_pb2_grpc, records_pb2, records_pb2_grpc
from hearth_runtime.platform import Platform
from hearth_sdk.channel import bearer, connect
from tests.conftest import ROLES

METHODS = pb.DESCRIPTOR.services_by_name["MessagingService"].methods
RECORDS = records_pb2.DESCRIPTOR.services_by_name["RecordsService"]
# Auditors and data protection officers read audit data; they do not message. A record keeper
# receives (KEEPER_USES), never starts or sends.
MESSAGING_ROLES = set(ROLES) - {"auditor", "data_protection_officer", "record_keeper"}
# The records service: the keeper keeps and answers; people ask for and fetch their records.
RECORDS_ACCESS = {
    "KeepRecord": {"record_keeper"},
    "ListRecords": {"record_keeper"},
    "DestroyRecords": {"record_keeper"},
    "RecordRead": {"record_keeper"},
    "ListRecordRequests": {"record_keeper"},
    "AnswerRecordRequest": {"record_keeper"},
    "RequestRecords": {"child", "young_person", "practitioner"},
    "GetRecordAnswer": {"child", "young_person", "practitioner"},
}


def call(stub: messaging_pb2_grpc.MessagingServiceStub, name: str, metadata: object) -> None:
    method = pb.DESCRIPTOR.services_by_name["MessagingService"].methods_by_name[name]
    request = getattr(pb, method.input_type.name)()
    answer = getattr(stub, name)(request, metadata=metadata, timeout=5)
    if method.server_streaming:
        next(iter(answer))


def code_of(stub: messaging_pb2_grpc.MessagingServiceStub, name: str, metadata: object) -> str:
    try:
        call(stub, name, metadata)
    except grpc.RpcError as e:
        return f"{e.code().name}: {e.details()}"
    return "OK"


def test_every_rpc_has_a_rule() -> None:
    service = pb.DESCRIPTOR.services_by_name["MessagingService"].full_name
    assert {m.name for m in METHODS} == {
        key.rsplit("/", 1)[1] for key in RULES if key.split("/")[1] == service
    }
    assert {m.name for m in RECORDS.methods} == set(RECORDS_ACCESS)
    assert {m.name for m in METHODS} > KEEPER_USES


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_records_rpc_for_every_role(platform: Platform, role: str) -> None:
    stub = records_pb2_grpc.RecordsServiceStub(connect(platform.endpoint("messaging")))
    token = platform.signer.issue(str(uuid.uuid4()), {role})
    for method in RECORDS.methods:
        request = getattr(records_pb2, method.input_type.name)()
        try:
            getattr(stub, method.name)(request, metadata=bearer(token), timeout=5)
            answer = "OK"
        except grpc.RpcError as e:
            answer = f"{e.code().name}: {e.details()}"
        if role in RECORDS_ACCESS[method.name]:
            assert "is for" not in answer, (method.name, answer)
            assert answer.split(":")[0] not in ("UNKNOWN", "INTERNAL", "UNAUTHENTICATED")
        else:
            assert answer.startswith("PERMISSION_DENIED") and "is for" in answer


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_rpc_for_every_role(platform: Platform, role: str) -> None:
    stub = messaging_pb2_grpc.MessagingServiceStub(connect(platform.endpoint("messaging")))
    token = platform.signer.issue(str(uuid.uuid4()), {role})
    for method in METHODS:
        answer = code_of(stub, method.name, bearer(token))
        if role in MESSAGING_ROLES or (role == "record_keeper" and method.name in KEEPER_USES):
            # Past the interceptor: an empty request is then refused for what it lacks.
            assert "is for" not in answer, (method.name, answer)
            assert answer.split(":")[0] not in ("UNKNOWN", "INTERNAL", "UNAUTHENTICATED")
        else:
            assert answer.startswith("PERMISSION_DENIED") and "is for" in answer


def test_every_rpc_needs_a_session(platform: Platform) -> None:
    stub = messaging_pb2_grpc.MessagingServiceStub(connect(platform.endpoint("messaging")))
    for method in METHODS:
        assert code_of(stub, method.name, ()).startswith("UNAUTHENTICATED"), method.name
        assert code_of(stub, method.name, bearer("forged.token.x")).startswith("UNAUTHENTICATED")
