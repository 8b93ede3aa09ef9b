"""Every AgeService RPC's access rule, for every role, over real gRPC."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import grpc
import pytest

from hearth_age.service import RULES, SERVICE
from hearth_proto.hearth.age.v1 import age_pb2, age_pb2_grpc
from hearth_runtime.platform import Platform
from hearth_runtime.sessions import SessionSigner
from hearth_sdk.channel import bearer, connect

ROLES = (
    "child",
    "young_person",
    "guardian",
    "practitioner",
    "moderator",
    "safeguarding_lead",
    "auditor",
    "org_admin",
)
CALLS: dict[str, Callable[[age_pb2_grpc.AgeServiceStub], tuple[Callable[..., Any], Any]]] = {
    "GetIssuerKeys": lambda s: (s.GetIssuerKeys, age_pb2.GetIssuerKeysRequest()),
    "StartVerification": lambda s: (s.StartVerification, age_pb2.StartVerificationRequest()),
    "SubmitDocument": lambda s: (s.SubmitDocument, age_pb2.SubmitDocumentRequest()),
    "SubmitFaceImage": lambda s: (s.SubmitFaceImage, age_pb2.SubmitFaceImageRequest()),
    "Vouch": lambda s: (s.Vouch, age_pb2.VouchRequest()),
    "IssueTokens": lambda s: (s.IssueTokens, age_pb2.IssueTokensRequest()),
    "GetRedemptionChallenge": lambda s: (
        s.GetRedemptionChallenge,
        age_pb2.GetRedemptionChallengeRequest(),
    ),
    "RedeemToken": lambda s: (s.RedeemToken, age_pb2.RedeemTokenRequest()),
}
REFUSED = (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED)


def test_every_rpc_has_a_rule() -> None:
    declared = age_pb2.DESCRIPTOR.services_by_name["AgeService"].methods_by_name
    assert set(declared) == set(CALLS)
    assert set(RULES) == {f"/{SERVICE}/{name}" for name in declared}


def outcome(call: Callable[..., Any], request: Any, metadata: Any) -> grpc.StatusCode:
    try:
        call(request, metadata=metadata, timeout=10)
    except grpc.RpcError as e:
        return e.code()
    return grpc.StatusCode.OK


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("rpc", sorted(CALLS))
def test_rule_for_role(platform: Platform, rpc: str, role: str) -> None:
    stub = age_pb2_grpc.AgeServiceStub(connect(platform.endpoint("age")))
    call, request = CALLS[rpc](stub)
    code = outcome(call, request, bearer(platform.signer.issue(f"acct-{role}", {role})))
    rule = RULES[f"/{SERVICE}/{rpc}"]
    if rule.roles is None or role in rule.roles:
        # Admitted: an empty request is then refused for what it lacks, never with an error.
        assert code not in (*REFUSED, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), code
    else:
        assert code == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("rpc", sorted(CALLS))
def test_no_expired_or_tampered_session_is_admitted(platform: Platform, rpc: str) -> None:
    stub = age_pb2_grpc.AgeServiceStub(connect(platform.endpoint("age")))
    call, request = CALLS[rpc](stub)
    assert outcome(call, request, ()) == grpc.StatusCode.UNAUTHENTICATED
    past = SessionSigner(
        platform.signer.key_id, platform.signer.signing_key, clock=lambda: time.time() - 3600
    )
    expired = past.issue("acct", {"practitioner"}, lifetime=60)
    assert outcome(call, request, bearer(expired)) == grpc.StatusCode.UNAUTHENTICATED
    token = platform.signer.issue("acct", {"young_person"})
    head, claims, signature = token.split(".")
    tampered = f"{head}.{claims[:-2]}{'A' if claims[-2] != 'A' else 'B'}{claims[-1]}.{signature}"
    assert outcome(call, request, bearer(tampered)) == grpc.StatusCode.UNAUTHENTICATED
