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
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn

import grpc
import grpc.aio
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
    """The `google.rpc.Status` of a domain error: code, message and the details as trailers."""
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


class ErrorInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Answers the family, store outages and surprises of every handler, unary or streaming.

    It runs outside access (whose refusals are the family too) and outside `MethodAdapter`,
    whose behaviours are all async: a sync servicer's exception comes out of the awaited
    behaviour unchanged. A status the handler chose itself (`context.abort`) passes through.
    """

    def __init__(self, service: str) -> None:
        self.domain = f"{service}{DOMAIN_SUFFIX}"

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method: str = handler_call_details.method
        answer = self._answer

        def unary(behaviour: Callable[..., Awaitable[Any]]) -> Any:
            async def run(request: Any, context: grpc.aio.ServicerContext) -> Any:
                try:
                    return await behaviour(request, context)
                except grpc.aio.AbortError:
                    raise
                except Exception as e:
                    await answer(e, context, method)

            return run

        def streaming(behaviour: Callable[..., AsyncIterator[Any]]) -> Any:
            async def run(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                try:
                    async for response in behaviour(request, context):
                        yield response
                except grpc.aio.AbortError:
                    raise
                except Exception as e:
                    await answer(e, context, method)

            return run

        return rewrapped(handler, unary, streaming)

    async def _answer(
        self, error: Exception, context: grpc.aio.ServicerContext, method: str
    ) -> NoReturn:
        if isinstance(error, HearthError):
            known = error
        elif isinstance(error, IntegrityError):  # a write conflict nobody retried
            log.info("%s: write conflict: %s", method, error)
            known = Contended("another writer changed the same record; retry")
        elif isinstance(error, (OperationalError, *UNREACHABLE)):
            log.warning("%s: store unavailable: %s", method, error)
            known = Unavailable("the event store is unavailable; retry")
        else:
            log.error("%s failed", method, exc_info=error)
            known = _Internal("internal error")
        status = rich_status(known, self.domain)
        await context.abort(status.code, status.details, status.trailing_metadata)
        raise AssertionError("abort raises")


Wrap = Callable[[Callable[..., Any]], Any]


def rewrapped(
    handler: grpc.RpcMethodHandler,
    unary: Wrap,
    streaming: Wrap,
    request_deserializer: Callable[[bytes], Any] | None = None,
) -> grpc.RpcMethodHandler:
    """`handler` with its behaviour wrapped: `unary` for one answer, `streaming` for a stream
    (each takes the behaviour and returns its replacement); optionally another deserializer."""
    kw = {
        "request_deserializer": request_deserializer or handler.request_deserializer,
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
