"""Why a call was refused, read on the client: the `ErrorInfo` and `BadRequest` details.

Every Hearth service answers a refusal with a gRPC status and the rich error model
(`google.rpc.Status` in the `grpc-status-details-bin` trailer): an `ErrorInfo` with a stable
UPPER_SNAKE_CASE `reason` and the domain `<service>.hearth`, and for malformed input a
`BadRequest` naming each field. :func:`error_info` reads them; :func:`retryable` says whether
the same call (with the same request id) may simply be sent again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import grpc
from google.rpc import error_details_pb2, status_pb2

DETAILS_KEY = "grpc-status-details-bin"
# Statuses a retry of the same request may cure: the store was unreachable, a concurrent
# writer won, or a limit of rate (not of size) was hit.
RETRYABLE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED})
# Reasons that mean "not yet": services learn from each other's events, so what another
# service recorded a moment ago may take a moment to arrive.
NOT_YET_REASONS = frozenset({"HOUSE_RULES_NOT_ACCEPTED", "NOT_READY"})

T = TypeVar("T")


@dataclass(frozen=True)
class FieldViolation:
    """One field of a request and what is wrong with it."""

    field: str
    description: str


@dataclass(frozen=True)
class ErrorReason:
    """What a refused call says about why: its `ErrorInfo` and `BadRequest` details."""

    reason: str
    domain: str
    metadata: Mapping[str, str]
    violations: tuple[FieldViolation, ...] = ()


def error_info(error: grpc.RpcError) -> ErrorReason | None:
    """The reason a Hearth service gave for refusing a call; None when it gave none."""
    trailing = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    raw = next((v for k, v in trailing or () if k == DETAILS_KEY), None)
    if not isinstance(raw, bytes):
        return None
    status = status_pb2.Status.FromString(raw)
    found: ErrorReason | None = None
    violations: list[FieldViolation] = []
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(info):
            found = ErrorReason(info.reason, info.domain, dict(info.metadata))
        elif detail.Unpack(bad):
            violations += [FieldViolation(v.field, v.description) for v in bad.field_violations]
    if found is None:
        return None
    return ErrorReason(found.reason, found.domain, found.metadata, tuple(violations))


def reason(error: grpc.RpcError) -> str:
    """The refusal's reason code, or "" when the answer carried none."""
    info = error_info(error)
    return info.reason if info is not None else ""


def retryable(error: grpc.RpcError, *, not_yet: frozenset[str] = NOT_YET_REASONS) -> bool:
    """Whether sending the same request again may succeed: an outage, a write conflict, or a
    fact another service has recorded but this one has not yet heard of."""
    if not isinstance(error, grpc.RpcError):
        return False
    return error.code() in RETRYABLE_CODES or reason(error) in not_yet


def retrying(
    call: Callable[[], T],
    *,
    attempts: int = 8,
    delay: float = 0.1,
    not_yet: frozenset[str] = NOT_YET_REASONS,
) -> T:
    """`call()`, sent again with growing pauses while its refusal is :func:`retryable`.

    `call` must send the same request id each time, so a retry after a lost answer finds
    what the first attempt did instead of doing it twice.
    """
    for attempt in range(attempts):
        try:
            return call()
        except grpc.RpcError as e:
            if attempt == attempts - 1 or not retryable(e, not_yet=not_yet):
                raise
            time.sleep(delay * 2**attempt)
    raise AssertionError("unreachable")
