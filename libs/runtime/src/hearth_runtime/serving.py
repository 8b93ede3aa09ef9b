"""How every method handler is served on the asyncio gRPC server, whatever its service.

Servicers stay synchronous where that is simplest (a unary call holds a pool thread only while
it runs) and streaming methods that wait are written `async`, so an idle stream holds no
thread: that is what lets one instance keep thousands of delivery streams open while unary
calls and health answer at once. `MethodAdapter`, the innermost interceptor, makes every
handler look alike to the interceptors outside it:

- every behaviour it hands on is async (`async def` for a unary answer, an async generator for
  a streamed one); a synchronous behaviour runs in the thread pool, with the caller's
  contextvars and a `SyncContext` whose `abort` raises in that thread as grpc's does;
- a request that does not decode (bad wire format, invalid UTF-8, nesting past protobuf's
  recursion limit) reaches no servicer: it answers INVALID_ARGUMENT (reason
  REQUEST_UNDECODABLE), after authentication, instead of grpc's INTERNAL "Exception
  deserializing request!";
- open streams are bounded: those of open (unauthenticated) methods such as health Watch and
  reflection by one limit, all streams by another; past either, RESOURCE_EXHAUSTED (reason
  STREAM_LIMIT).

Its refusals are the runtime's errors, answered by the `ErrorInterceptor` outside it. An
interceptor outside it is a `grpc.aio.ServerInterceptor` whose `intercept_service` awaits the
continuation and wraps the handler's behaviour with `errors.rewrapped`.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import grpc
import grpc.aio

from .errors import Exhausted, Invalid, rewrapped

_END = object()


@dataclass(frozen=True)
class Undecodable:
    """What a request that did not decode becomes, so the call can refuse it with a status."""

    type_name: str


def tolerant(deserializer: Callable[[bytes], Any] | None, type_name: str) -> Any:
    """The deserializer, answering `Undecodable` where it would raise."""
    if deserializer is None:
        return None

    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception:  # any failure to decode is the sender's bytes, never ours
            return Undecodable(type_name)

    return decode


def refusal(undecodable: Undecodable) -> Invalid:
    return Invalid(
        f"the request is not a valid {undecodable.type_name} (protobuf wire format)",
        reason="REQUEST_UNDECODABLE",
    )


class SyncContext:
    """The servicer context a synchronous behaviour sees, running in a pool thread."""

    def __init__(self, context: grpc.aio.ServicerContext, loop: asyncio.AbstractEventLoop):
        self._context = context
        self._loop = loop

    def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata: Any = ()) -> Any:
        coro = self._context.abort(code, details, trailing_metadata)
        asyncio.run_coroutine_threadsafe(coro, self._loop).result()  # raises grpc's abort
        raise AssertionError("abort returned")  # pragma: no cover

    def set_trailing_metadata(self, metadata: Any) -> None:
        self._loop.call_soon_threadsafe(self._context.set_trailing_metadata, metadata)

    def is_active(self) -> bool:
        return not self._context.done()

    def add_callback(self, callback: Callable[[], None]) -> bool:
        self._context.add_done_callback(lambda _: callback())
        return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


class _SyncRequests:
    """A client stream as a blocking iterator, for a synchronous behaviour in a pool thread."""

    def __init__(self, requests: AsyncIterator[Any], loop: asyncio.AbstractEventLoop) -> None:
        self._requests = requests
        self._loop = loop

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        async def pull() -> Any:
            return await anext(self._requests, _END)

        item = asyncio.run_coroutine_threadsafe(pull(), self._loop).result()
        if item is _END:
            raise StopIteration
        return item


class StreamLimit:
    """How many streams may be open at once; one more is refused RESOURCE_EXHAUSTED."""

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what
        self.open = 0


class MethodAdapter(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Innermost interceptor: async behaviours, undecodable requests refused, streams bounded."""

    def __init__(
        self,
        pool: ThreadPoolExecutor,
        open_methods: Callable[[str], bool],
        *,
        max_streams: int,
        max_open_streams: int,
    ) -> None:
        self.pool = pool
        self.open_methods = open_methods
        self.streams = StreamLimit(max_streams, "streams")
        self.open_streams = StreamLimit(max_open_streams, "unauthenticated streams")

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(details)
        if handler is None:
            return None
        method: str = details.method
        type_name = _request_type(handler, method)
        limits = [self.streams]
        if self.open_methods(method):
            limits.append(self.open_streams)
        streamed = handler.request_streaming or handler.response_streaming
        pool = self.pool

        async def admit(context: grpc.aio.ServicerContext) -> None:
            for limit in limits:
                if limit.open >= limit.limit:
                    raise Exhausted(
                        f"this server holds its limit of {limit.limit} open {limit.what}; "
                        "retry later",
                        reason="STREAM_LIMIT",
                    )
            for limit in limits:
                limit.open += 1

        def release() -> None:
            for limit in limits:
                limit.open -= 1

        async def checked(request: Any, context: grpc.aio.ServicerContext) -> Any:
            if isinstance(request, Undecodable):
                raise refusal(request)
            if handler.request_streaming:
                return _checked_stream(request, context)
            return request

        def unary(behaviour: Callable[..., Any]) -> Callable[..., Any]:
            if inspect.iscoroutinefunction(behaviour):

                async def run_async(request: Any, context: grpc.aio.ServicerContext) -> Any:
                    request = await checked(request, context)
                    if not streamed:
                        return await behaviour(request, context)
                    await admit(context)
                    try:
                        return await behaviour(request, context)
                    finally:
                        release()

                return run_async

            async def run_sync(request: Any, context: grpc.aio.ServicerContext) -> Any:
                request = await checked(request, context)
                loop = asyncio.get_running_loop()
                if handler.request_streaming:
                    request = _SyncRequests(request, loop)
                    await admit(context)
                call = contextvars.copy_context().run
                try:
                    return await loop.run_in_executor(
                        pool, call, behaviour, request, SyncContext(context, loop)
                    )
                finally:
                    if handler.request_streaming:
                        release()

            return run_sync

        def streaming(behaviour: Callable[..., Any]) -> Callable[..., Any]:
            async def run(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                request = await checked(request, context)
                await admit(context)
                try:
                    if inspect.isasyncgenfunction(behaviour):
                        async for response in behaviour(request, context):
                            yield response
                        return
                    if inspect.iscoroutinefunction(behaviour):
                        async for response in _written(behaviour, request, context):
                            yield response
                        return
                    loop = asyncio.get_running_loop()
                    if handler.request_streaming:
                        request = _SyncRequests(request, loop)
                    run_here = contextvars.copy_context().run
                    responses = await loop.run_in_executor(
                        pool, run_here, behaviour, request, SyncContext(context, loop)
                    )
                    # Each step of a blocking generator holds a pool thread while it waits:
                    # a stream that idles should be written async.
                    while (
                        item := await loop.run_in_executor(pool, next, responses, _END)
                    ) is not _END:
                        yield item
                finally:
                    release()

            return run

        return rewrapped(
            handler, unary, streaming, tolerant(handler.request_deserializer, type_name)
        )


class _Writes:
    """A context whose `write` hands each response to the adapter instead of sending it."""

    def __init__(self, context: grpc.aio.ServicerContext) -> None:
        self._context = context
        self.responses: asyncio.Queue[Any] = asyncio.Queue(maxsize=1)

    async def write(self, response: Any) -> None:
        await self.responses.put(response)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


async def _written(
    behaviour: Callable[..., Awaitable[None]], request: Any, context: grpc.aio.ServicerContext
) -> AsyncIterator[Any]:
    """A streaming behaviour that writes to its context (as grpc's async health does), as an
    async generator, so every interceptor sees one shape."""
    writes = _Writes(context)
    task = asyncio.ensure_future(behaviour(request, writes))
    got: asyncio.Future[Any] | None = None
    try:
        while True:
            got = asyncio.ensure_future(writes.responses.get())
            await asyncio.wait({task, got}, return_when=asyncio.FIRST_COMPLETED)
            if got.done():
                yield got.result()
                continue
            while not writes.responses.empty():
                yield writes.responses.get_nowait()
            await task  # its result, or the abort or error it raised
            return
    finally:
        for pending in (task, got):
            if pending is not None:
                pending.cancel()


async def _checked_stream(
    requests: AsyncIterator[Any], context: grpc.aio.ServicerContext
) -> AsyncIterator[Any]:
    async for request in requests:
        if isinstance(request, Undecodable):
            raise refusal(request)
        yield request


def _request_type(handler: grpc.RpcMethodHandler, method: str) -> str:
    """The request message's full name, from a generated deserializer (`Foo.FromString`)."""
    owner = getattr(handler.request_deserializer, "__self__", None)
    descriptor = getattr(owner, "DESCRIPTOR", None)
    name = getattr(descriptor, "full_name", None)
    return str(name) if name else f"request of {method}"
