"""One family of domain errors for every service, and the one place they become gRPC statuses.

Domain code raises a kind from the family (`NotFound`, `Invalid`, `Refused`, `Conflict`,
`AlreadyDone`, `Exhausted`, `Unavailable`, plus `NotAuthenticated` and `Contended`); each
carries a stable UPPER_SNAKE_CASE `reason`, optional metadata and, for invalid input, the
fields at fault. `ErrorInterceptor` answers them with the gRPC rich error model: a
`google.rpc.Status` whose details hold an `ErrorInfo` (reason, domain `<service>.hearth`,
metadata) and, for invalid input, a `BadRequest` naming each field. A store that cannot be
reached (`OperationalError`, of which `JetStreamError` is one, or nats-py's connection errors
from a bucket call) answers UNAVAILABLE, and a write
conflict no retry resolved (`IntegrityError`) answers ABORTED. Anything else is logged and
answers INTERNAL without its details. A client reads the reason of any
refused call one way: `hearth_sdk.errors.error_info(rpc_error)`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn

import grpc
from eventsourcing.persistence import IntegrityError, OperationalError
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from hearth_eventlog.link import UNREACHABLE

log = logging.getLogger(__name__)
DOMAIN_SUFFIX = ".hearth"
QUOTE_CHARS = 16


@dataclass(frozen=True)
class Violation:
    """One field of a request and what is wrong with it."""

    field: str
    description: str


class HearthError(Exception):
    """A refusal a client may see: its status, a stable reason, metadata, bad fields.

    The message is short and safe to show: it never repeats input whole (see `quote`).
    """

    code: ClassVar[grpc.StatusCode] = grpc.StatusCode.FAILED_PRECONDITION
    reason: str = "FAILED_PRECONDITION"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
        violations: Sequence[Violation] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata = dict(metadata or {})
        self.violations = tuple(violations)


class NotFound(HearthError):
    """What the request names does not exist (or is not the caller's to know of)."""

    code = grpc.StatusCode.NOT_FOUND
    reason = "NOT_FOUND"


class Invalid(HearthError):
    """The request is malformed: `violations` names the fields."""

    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "INVALID_ARGUMENT"

    @classmethod
    def field(cls, field: str, description: str, *, reason: str | None = None) -> Invalid:
        """One bad field: the message is "<field> <description>"."""
        return cls(
            f"{field} {description}",
            reason=reason,
            violations=[Violation(field, description)],
        )


class NotAuthenticated(HearthError):
    """The caller is not who the request needs them to be proven to be."""

    code = grpc.StatusCode.UNAUTHENTICATED
    reason = "UNAUTHENTICATED"


class Refused(HearthError):
    """The caller may not do this (their role, their relation to what they name)."""

    code = grpc.StatusCode.PERMISSION_DENIED
    reason = "PERMISSION_DENIED"


class Conflict(HearthError):
    """The request contradicts the recorded state, or the state does not allow it (yet)."""

    code = grpc.StatusCode.FAILED_PRECONDITION
    reason = "FAILED_PRECONDITION"


class AlreadyDone(HearthError):
    """It exists or happened already: a spent token, a relayed message, a reused request id."""

    code = grpc.StatusCode.ALREADY_EXISTS
    reason = "ALREADY_EXISTS"


class Exhausted(HearthError):
    """Over a size, count or rate limit."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "RESOURCE_EXHAUSTED"


class Contended(HearthError):
    """Concurrent writers kept winning the same aggregate: the client may retry the call."""

    code = grpc.StatusCode.ABORTED
    reason = "WRITE_CONFLICT"


class Unavailable(HearthError):
    """A part the call needs (the event log, a bucket) cannot be reached: retry later."""

    code = grpc.StatusCode.UNAVAILABLE
    reason = "STORE_UNAVAILABLE"


class _Internal(HearthError):
    """A surprise: logged in full, answered without its details. Domain code never raises it."""

    code = grpc.StatusCode.INTERNAL
    reason = "INTERNAL"


def quote(value: object) -> str:
    """At most a short prefix of a client's input, for a message that must name it."""
    text = str(value)
    return repr(text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS] + "...")


def rich_status(error: HearthError, domain: str) -> grpc.Status:
    """The `google.rpc.Status` of a domain error, as a status `abort_with_status` sends."""
    info = any_pb2.Any()
    info.Pack(
        error_details_pb2.ErrorInfo(reason=error.reason, domain=domain, metadata=error.metadata)
    )
    details = [info]
    if error.violations:
        bad = any_pb2.Any()
        bad.Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=v.field, description=v.description
                    )
                    for v in error.violations
                ]
            )
        )
        details.append(bad)
    status = status_pb2.Status(code=error.code.value[0], message=error.message, details=details)
    result: grpc.Status = rpc_status.to_status(status)
    return result


class ErrorInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    """Answers the family, store outages and surprises of every handler, unary or streaming."""

    def __init__(self, service: str) -> None:
        self.domain = f"{service}{DOMAIN_SUFFIX}"

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        return _wrapped(handler, self._answer, handler_call_details.method)

    def _answer(self, error: Exception, context: grpc.ServicerContext, method: str) -> NoReturn:
        if isinstance(error, HearthError):
            context.abort_with_status(rich_status(error, self.domain))
        elif isinstance(error, IntegrityError):  # a write conflict nobody retried
            log.info("%s: write conflict: %s", method, error)
            context.abort_with_status(
                rich_status(Contended("another writer changed the same record; retry"), self.domain)
            )
        elif isinstance(error, (OperationalError, *UNREACHABLE)):
            log.warning("%s: store unavailable: %s", method, error)
            context.abort_with_status(
                rich_status(Unavailable("the event store is unavailable; retry"), self.domain)
            )
        else:
            log.error("%s failed", method, exc_info=error)
            context.abort_with_status(rich_status(_Internal("internal error"), self.domain))
        raise AssertionError("abort raises")


def _aborted(context: grpc.ServicerContext) -> bool:
    """The handler (or an inner interceptor) already chose a status with `context.abort`."""
    code = context.code()
    return code is not None and code != grpc.StatusCode.OK


def _wrapped(
    handler: grpc.RpcMethodHandler,
    answer: Callable[[Exception, grpc.ServicerContext, str], NoReturn],
    method: str,
) -> grpc.RpcMethodHandler:
    def unary(behaviour: Callable[[Any, grpc.ServicerContext], Any]) -> Any:
        def run(request: Any, context: grpc.ServicerContext) -> Any:
            try:
                return behaviour(request, context)
            except Exception as e:
                if _aborted(context):
                    raise
                answer(e, context, method)

        return run

    def streaming(behaviour: Callable[[Any, grpc.ServicerContext], Iterator[Any]]) -> Any:
        def run(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            try:
                yield from behaviour(request, context)
            except Exception as e:
                if _aborted(context):
                    raise
                answer(e, context, method)

        return run

    return rewrapped(handler, unary, streaming)


Wrap = Callable[[Callable[[Any, grpc.ServicerContext], Any]], Any]


def rewrapped(
    handler: grpc.RpcMethodHandler, unary: Wrap, streaming: Wrap
) -> grpc.RpcMethodHandler:
    """`handler` with its behaviour wrapped: `unary` for one answer, `streaming` for a stream."""
    kw = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(unary(handler.unary_unary), **kw)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(streaming(handler.unary_stream), **kw)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(unary(handler.stream_unary), **kw)
    assert handler.stream_stream
    return grpc.stream_stream_rpc_method_handler(streaming(handler.stream_stream), **kw)
