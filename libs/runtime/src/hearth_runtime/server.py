"""The gRPC server every service runs: access control, errors, tracing, health, reflection, drain.

One asyncio gRPC server per service, on an event loop thread of its own; unary methods may be
plain synchronous servicer methods (they run in a bounded thread pool), and streaming methods
that wait are `async` so that an open stream holds no thread (see `serving`). Interceptors,
outermost first: tracing (only when an exporter is configured), errors (the runtime's error
family, outages and surprises become statuses with reasons), access (who may call), then
`MethodAdapter` (sync behaviours in the pool, undecodable requests refused, open streams
bounded). Another interceptor is a
`grpc.aio.ServerInterceptor` placed between errors and the adapter, wrapping the always-async
behaviours it is given with `errors.rewrapped`.

Health reports SERVING only after the service's applications are built (NATS connected, the
stream checked) and its followers started, and NOT_SERVING as soon as any follower's thread
stops: a service that no longer hears its upstream is not healthy. Each follower also has a
health name of its own, `hearth.follow.<upstream>`, and every Check answer carries the
followers' state as trailing metadata: `hearth-dead-letters` (upstream events the policy
could not handle, recorded and passed over) and, for a follower's name,
`hearth-follow-position` (and `hearth-follow-waiting` while its upstream stream is missing).
On SIGTERM: NOT_SERVING, stop accepting calls, let in-flight calls finish within the grace
period (then cancel them), stop followers, drain NATS, flush traces.
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
from .errors import ErrorInterceptor
from .follow import FollowerState, StreamFollower
from .revocation import Revocations
from .serving import MethodAdapter
from .sessions import SessionVerifier
from .telemetry import tracing

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
    # Whose sessions the service no longer honours (fed by its follower of identity).
    revocations: Revocations | None = None
    # Where people open the service in a browser, for one that serves pages (the console).
    web_address: str = ""


FOLLOWER_HEALTH = "hearth.follow."  # + the upstream's name: each follower's health name


def follower_health_name(follower: StreamFollower) -> str:
    return f"{FOLLOWER_HEALTH}{follower.upstream}"


class ServiceHealth(health_async.HealthServicer):  # type: ignore[misc]
    """grpc's async `grpc.health.v1`, with the followers' state in each Check's trailing
    metadata and the `List` the protocol has since added."""

    def __init__(self, followers: Sequence[StreamFollower]) -> None:
        super().__init__()
        self.followers = followers

    async def Check(
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext
    ) -> health_pb2.HealthCheckResponse:
        response = await super().Check(request, context)
        one = request.service.startswith(FOLLOWER_HEALTH)
        states = [
            f.state()
            for f in self.followers
            if not one or follower_health_name(f) == request.service
        ]
        details = [("hearth-dead-letters", str(sum(s.dead_letters for s in states)))]
        if one and states:
            details.append(("hearth-follow-position", str(states[0].position)))
            if states[0].waiting_for_stream:
                details.append(("hearth-follow-waiting", "upstream stream does not exist yet"))
        context.set_trailing_metadata(details)
        return response

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
        self.health = ServiceHealth(parts.followers)
        self.pool = ThreadPoolExecutor(config.max_workers, thread_name_prefix=f"grpc-{parts.name}")
        self.access = AccessInterceptor(verifier, parts.rules, parts.revocations)
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
        self._lock = threading.Lock()
        self._follower_stopped = False

    async def _build(self) -> grpc.aio.Server:
        # Tracing only when spans are recorded: the interceptor costs per call even when the
        # provider is OpenTelemetry's no-op one.
        traced = [aio_server_interceptor()] if tracing() else []  # type: ignore[no-untyped-call]
        return grpc.aio.server(
            interceptors=[
                *traced,
                ErrorInterceptor(self.parts.name),  # outside access: its refusals carry reasons
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
            follower.watch(self._on_follower_stopped)
            follower.start()
        with self._lock:
            if not self._follower_stopped:
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

    async def _set_health(
        self, status: health_pb2.HealthCheckResponse.ServingStatus, names: Sequence[str] = ()
    ) -> None:
        for name in names or self._health_names():
            await self.health.set(name, status)

    def follower_states(self) -> list[FollowerState]:
        return [follower.state() for follower in self.parts.followers]

    def _health_names(self) -> list[str]:
        return [
            *self.parts.service_names,
            "",
            *(follower_health_name(f) for f in self.parts.followers),
        ]

    def _on_follower_stopped(self, follower: StreamFollower) -> None:
        log.error(
            "%s: the follower of %s stopped; health is NOT_SERVING",
            self.parts.name,
            follower.upstream,
        )
        names = [*self.parts.service_names, "", follower_health_name(follower)]
        with self._lock:
            self._follower_stopped = True
            if self._loop.is_running():
                try:
                    self._call(
                        self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING, names),
                        timeout=STOP_MARGIN,
                    )
                except (TimeoutError, RuntimeError):  # the server is stopping anyway
                    log.warning("%s: health not updated: the server is stopping", self.parts.name)

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
