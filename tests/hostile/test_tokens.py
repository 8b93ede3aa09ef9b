"""Bounded parsing: the session verifier refuses every odd token with a SessionError
(UNAUTHENTICATED), and protobuf decoding is bounded in depth.

Reported: claims nested thousands deep ("maximum recursion depth exceeded") and an expiry of
1e400 ("cannot convert float infinity to integer") crashed the verifier into UNKNOWN; and of
two `authorization` headers the last one won.
"""

from __future__ import annotations

import time
import uuid

import grpc
import pytest
from google.protobuf.message import DecodeError
from google.protobuf.struct_pb2 import ListValue
from nacl.signing import SigningKey

from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.platform import Platform
from hearth_runtime.sessions import SessionError, SessionSigner, SessionVerifier
from tests.hostile.tokens import sessions

SIGNER = SessionSigner("k1", SigningKey.generate())
ACCOUNT = str(uuid.uuid4())
ODD = [(label, md) for label, md in sessions(SIGNER, ACCOUNT) if md and label != "empty bearer"]


@pytest.mark.parametrize(("label", "metadata"), ODD, ids=[label for label, _ in ODD])
def test_every_odd_token_is_refused_with_a_session_error(
    label: str, metadata: tuple[tuple[str, str], ...]
) -> None:
    verifier = SessionVerifier({"k1": SIGNER.public_key})
    tokens = [value.removeprefix("Bearer ") for _, value in metadata]
    if label == "duplicated authorization header":
        assert verifier.verify(tokens[0]).account_id == ACCOUNT  # each alone is fine
        return
    started = time.perf_counter()
    with pytest.raises(SessionError):
        verifier.verify(tokens[0])
    assert time.perf_counter() - started < 0.5


def test_a_sound_token_still_verifies_with_its_claims() -> None:
    token = SIGNER.issue(ACCOUNT, {"guardian"}, age_band="18_plus", organisations={"o1"})
    session = SessionVerifier({"k1": SIGNER.public_key}).verify(token)
    assert (session.account_id, session.roles, session.age_band) == (
        ACCOUNT,
        frozenset({"guardian"}),
        "18_plus",
    )
    assert session.organisations == frozenset({"o1"})


def test_two_authorization_headers_are_refused_even_when_both_are_valid(
    platform: Platform,
) -> None:
    token = platform.signer.issue(ACCOUNT, {"guardian"})
    stub = identity_pb2_grpc.IdentityServiceStub(
        grpc.insecure_channel(platform.endpoint("identity"))
    )
    metadata = (("authorization", f"Bearer {token}"),) * 2
    with pytest.raises(grpc.RpcError) as refused:
        stub.GetAccount(identity_pb2.GetAccountRequest(), metadata=metadata, timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert refused.value.details() == "more than one authorization header"


def test_protobuf_parsing_is_bounded_in_depth() -> None:
    """A recursive message nested far past protobuf's limit fails to decode, it does not
    exhaust the stack: so `MethodAdapter` can answer INVALID_ARGUMENT for it."""
    nested = b""
    for _ in range(10_000):  # ListValue.values (1) -> Value.list_value (6) -> ListValue ...
        value = b"\x32" + _varint(len(nested)) + nested
        nested = b"\x0a" + _varint(len(value)) + value
    with pytest.raises(DecodeError):
        ListValue.FromString(nested)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
