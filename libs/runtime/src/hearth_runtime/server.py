"""The gRPC server every service runs: access control, errors, tracing, health, reflection, drain.

Health reports SERVING only after the service's applications are built (NATS connected, the
stream checked) and its followers started, and NOT_SERVING as soon as any follower's thread
stops: a service that no longer hears its upstream is not healthy. Each follower also has a
health name of its own, `hearth.follow.<upstream>`, and every Check answer carries the
followers' state as trailing metadata: `hearth-dead-letters` (upstream events the policy
could not handle, recorded and passed over) and, for a follower's name,
`hearth-follow-position` (and `hearth-follow-waiting` while its upstream stream is missing).
On SIGTERM: NOT_SERVING, stop accepting calls, let in-flight calls finish within the grace
period, stop followers, drain NATS, flush traces.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import grpc
from eventsourcing.application import Application
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import server_interceptor

from .access import Access, AccessInterceptor
from .config import ConfigError, RuntimeConfig
from .errors import ErrorInterceptor
from .follow import FollowerState, StreamFollower
from .sessions import SessionVerifier

log = logging.getLogger(__name__)
AddServicer = Callable[[Any, grpc.Server], None]


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


FOLLOWER_HEALTH = "hearth.follow."  # + the upstream's name: each follower's health name


def follower_health_name(follower: StreamFollower) -> str:
    return f"{FOLLOWER_HEALTH}{follower.upstream}"


class ServiceHealth(health.HealthServicer):  # type: ignore[misc]
    """`grpc.health.v1`, with the followers' state in each answer's trailing metadata."""

    def __init__(self, followers: Sequence[StreamFollower]) -> None:
        super().__init__(experimental_non_blocking=True)
        self.followers = followers

    def Check(
        self, request: health_pb2.HealthCheckRequest, context: grpc.ServicerContext
    ) -> health_pb2.HealthCheckResponse:
        response = super().Check(request, context)
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


class ServiceHost:
    """One service's gRPC server and its lifecycle."""

    def __init__(self, config: RuntimeConfig, parts: ServiceParts, verifier: SessionVerifier):
        self.config = config
        self.parts = parts
        self.health = ServiceHealth(parts.followers)
        self.server = grpc.server(
            ThreadPoolExecutor(config.max_workers, thread_name_prefix=f"grpc-{parts.name}"),
            interceptors=[
                server_interceptor(),  # type: ignore[no-untyped-call]
                ErrorInterceptor(parts.name),  # outside access: its refusals carry reasons too
                AccessInterceptor(verifier, parts.rules),
            ],
            options=[
                ("grpc.max_receive_message_length", config.max_message_bytes),
                ("grpc.max_send_message_length", config.max_message_bytes),
            ],
        )
        self.port = 0
        self._stopped = False
        self._lock = threading.Lock()
        self._follower_stopped = False

    @property
    def address(self) -> str:
        return f"{self.config.grpc_host}:{self.port}"

    def start(self) -> ServiceHost:
        for add, servicer in self.parts.servicers:
            add(servicer, self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        names = [*self.parts.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME]
        reflection.enable_server_reflection(names, self.server)
        for name in self._health_names():
            self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
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
        self.server.start()
        for follower in self.parts.followers:
            follower.watch(self._on_follower_stopped)
            follower.start()
        with self._lock:
            if not self._follower_stopped:
                for name in self._health_names():
                    self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info("%s serving on %s", self.parts.name, self.address)
        return self

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
        with self._lock:
            self._follower_stopped = True
            for name in [*self.parts.service_names, "", follower_health_name(follower)]:
                self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)

    def stop(self, grace: float | None = None) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.health.enter_graceful_shutdown()
        self.server.stop(self.config.grace_period if grace is None else grace).wait()
        for follower in self.parts.followers:
            follower.stop()
        for hook in self.parts.on_stop:
            hook()
        for app in self.parts.applications:
            app.close()
        log.info("%s stopped", self.parts.name)
