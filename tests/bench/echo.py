"""`grpc.echo`: the gRPC stack's own ceiling, the baseline of every figure that is one call.

The server is what every service runs on, with nothing in it: a `grpc.aio` server on an event
loop thread of its own in the bench process, one unary method that answers its protobuf
request as it came. The clients are the measured figure's: the same `ClientPool`, the same
number of clients, each with its own channel, sending a protobuf message of a typical request's
size. Whatever a service adds per call (interceptors, token checks, the thread pool, its work)
is then the gap between its figure and this one.

An area measures it in the same rounds as its own figures, with its own client count, and names
it for that count when it is not the area's only echo (`figure_name`): `grpc.echo.8clients`.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import grpc
import grpc.aio
from google.protobuf.wrappers_pb2 import BytesValue

from tests.bench.clients import Operation

METHOD = "/bench.Echo/Echo"
PAYLOAD = 200  # bytes: about what an authenticated request with an id and a token carries


def figure_name(clients: int) -> str:
    return f"grpc.echo.{clients}clients"


class EchoServer:
    """The echo server, started on construction; `address` to call it."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="bench-echo-loop", daemon=True
        )
        self._thread.start()
        self.server, port = self._call(self._start())
        self.address = f"127.0.0.1:{port}"

    async def _start(self) -> tuple[grpc.aio.Server, int]:
        async def echo(request: BytesValue, context: grpc.aio.ServicerContext) -> BytesValue:
            return request

        handler = grpc.method_handlers_generic_handler(
            "bench.Echo",
            {
                "Echo": grpc.unary_unary_rpc_method_handler(
                    echo,
                    request_deserializer=BytesValue.FromString,
                    response_serializer=BytesValue.SerializeToString,
                )
            },
        )
        server = grpc.aio.server()
        server.add_generic_rpc_handlers((handler,))
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        return server, port

    def _call(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(30)

    def close(self) -> None:
        self._call(self.server.stop(0))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def __enter__(self) -> EchoServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class EchoCalls:
    """The echo workload: each client calls Echo on its own channel."""

    address: str
    payload: int = PAYLOAD

    def prepare(self, client: int) -> Operation:
        return _Echo(self.address, self.payload)


class _Echo:
    def __init__(self, address: str, payload: int) -> None:
        self.channel = grpc.insecure_channel(address)
        self.call = self.channel.unary_unary(
            METHOD,
            request_serializer=BytesValue.SerializeToString,
            response_deserializer=BytesValue.FromString,
        )
        self.request = BytesValue(value=b"x" * payload)
        self.call(self.request, timeout=10)  # connected before the clock starts

    def __call__(self) -> object:
        return self.call(self.request, timeout=10)

    def close(self) -> None:
        self.channel.close()
