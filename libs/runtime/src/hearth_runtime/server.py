"""The gRPC server every service runs: access control, tracing, health, reflection, drain.

One asyncio gRPC server per service, on an event loop thread of its own; unary methods may be
plain synchronous servicer methods (they run in a bounded thread pool), and streaming methods
that wait are `async` so that an open stream holds no thread (see `serving`). Interceptors,
outermost first: tracing, access (who may call), then `MethodAdapter` (sync behaviours in the
pool, undecodable requests refused, open streams bounded). An interceptor added later (the
error mapping, say) is a `grpc.aio.ServerInterceptor` placed after access, and wraps the
always-async behaviours it is given with `serving.wrap_behaviour`.

Health reports SERVING only after the service's applications are built (NATS connected, the
stream checked) and its followers started. On SIGTERM: NOT_SERVING, stop accepting calls,
let in-flight calls finish within the grace period (then cancel them), stop followers, drain
NATS, flush traces.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
import grpc.aio
from eventsourcing.application import Application
from grpc_health.v1 import _async as health_async
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import aio_server_interceptor

from .access import Access, AccessInterceptor
from .config import ConfigError, RuntimeConfig
from .follow import StreamFollower
from .serving import MethodAdapter
from .sessions import SessionVerifier

log = logging.getLogger(__name__)
AddServicer = Callable[[Any, grpc.aio.Server], None]
T = TypeVar("T")
STOP_MARGIN = 5.0  # seconds past the grace period after which a stop gives up waiting


@dataclass
class ServiceParts:
    """What a service hands the runtime: its servicers, their access rules, what to close."""

    name: str
    servicers: Sequence[tuple[AddServicer, object]]
    service_names: Sequence[str]
    rules: Mapping[str, Access]
    applications: Sequence[Application[Any]] = ()
    followers: Sequence[StreamFollower] = ()
    on_stop: list[Callable[[], None]] = field(default_factory=list)


class Health(health_async.HealthServicer):  # type: ignore[misc]
    """grpc's async health servicer, with the `List` the protocol has since added."""

    async def List(
        self, request: health_pb2.HealthListRequest, context: grpc.aio.ServicerContext
    ) -> health_pb2.HealthListResponse:
        return health_pb2.HealthListResponse(
            statuses={
                name: health_pb2.HealthCheckResponse(status=status)
                for name, status in self._server_status.items()
            }
        )


class ServiceHost:
    """One service's gRPC server and its lifecycle."""

    def __init__(self, config: RuntimeConfig, parts: ServiceParts, verifier: SessionVerifier):
        self.config = config
        self.parts = parts
        self.health = Health()
        self.pool = ThreadPoolExecutor(config.max_workers, thread_name_prefix=f"grpc-{parts.name}")
        self.access = AccessInterceptor(verifier, parts.rules)
        self.adapter = MethodAdapter(
            self.pool,
            self.access.is_open,
            max_streams=config.max_streams,
            max_open_streams=config.max_open_streams,
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"grpc-{parts.name}-loop", daemon=True
        )
        self._thread.start()
        self.server: grpc.aio.Server = self._call(self._build())
        self.port = 0
        self._stopped = False

    async def _build(self) -> grpc.aio.Server:
        return grpc.aio.server(
            interceptors=[
                aio_server_interceptor(),  # type: ignore[no-untyped-call]
                self.access,
                self.adapter,
            ],
            options=[
                ("grpc.max_receive_message_length", self.config.max_message_bytes),
                ("grpc.max_send_message_length", self.config.max_message_bytes),
            ],
        )

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a coroutine on the server's loop and wait for it."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @property
    def address(self) -> str:
        return f"{self.config.grpc_host}:{self.port}"

    def start(self) -> ServiceHost:
        try:
            self._call(self._start())
        except BaseException:
            self._close_loop()
            raise
        for follower in self.parts.followers:
            follower.start()
        self._call(self._set_health(health_pb2.HealthCheckResponse.SERVING))
        log.info("%s serving on %s", self.parts.name, self.address)
        return self

    async def _start(self) -> None:
        for add, servicer in self.parts.servicers:
            add(servicer, self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        names = [*self.parts.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME]
        reflection.enable_server_reflection(names, self.server)
        await self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)
        try:
            self.port = self.server.add_insecure_port(
                f"{self.config.grpc_host}:{self.config.grpc_port}"
            )
        except RuntimeError as e:
            raise ConfigError(
                f"{self.parts.name}: cannot listen on "
                f"{self.config.grpc_host}:{self.config.grpc_port} ({e}); "
                f"set HEARTH_{self.parts.name.upper()}_GRPC_PORT"
            ) from e
        await self.server.start()

    async def _set_health(self, status: health_pb2.HealthCheckResponse.ServingStatus) -> None:
        for name in [*self.parts.service_names, ""]:
            await self.health.set(name, status)

    def stop(self, grace: float | None = None) -> None:
        if self._stopped:
            return
        self._stopped = True
        grace = self.config.grace_period if grace is None else grace
        try:
            self._call(self.health.enter_graceful_shutdown(), timeout=STOP_MARGIN)
            # After the grace period the server cancels what is still running.
            self._call(self.server.stop(grace), timeout=grace + STOP_MARGIN)
        except TimeoutError:
            log.warning(
                "%s: calls still running %.0fs after the grace period", self.parts.name, STOP_MARGIN
            )
        for follower in self.parts.followers:
            follower.stop()
        for hook in self.parts.on_stop:
            hook()
        for app in self.parts.applications:
            app.close()
        self._close_loop()
        log.info("%s stopped", self.parts.name)

    def _close_loop(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(STOP_MARGIN)
