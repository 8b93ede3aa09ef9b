"""`hearth streams create`: each service's event log stream, made before the service starts.

In Kubernetes every Deployment runs it as an init container with the service's own
configuration, so the stream is created once with the replicas the ConfigMap sets (3 in
production) and the event log's own check refuses an existing stream that is weaker. While
the NATS cluster is still forming (no JetStream leader yet) it retries until `--wait` runs out.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from eventsourcing.persistence import OperationalError

from hearth_eventlog import StreamSettings
from hearth_eventlog.link import JetStreamLink
from hearth_eventlog.stream import StreamSettingsError, ensure_stream

from .config import RuntimeConfig
from .services import STREAMLESS

log = logging.getLogger(__name__)
RETRY_EVERY = 1.0


@dataclass(frozen=True)
class StreamState:
    """What JetStream reports for one stream once it exists."""

    service: str
    stream: str
    replicas: int
    current: int  # replicas (leader included) that are current
    leader: str


def service_names() -> list[str]:
    """The installed services that keep a stream, by entry point name (nothing is imported)."""
    return sorted(
        ep.name for ep in entry_points(group="hearth.services") if ep.name not in STREAMLESS
    )


def stream_settings(service: str, environ: Mapping[str, str]) -> StreamSettings:
    """The stream a service's application would use, read as the application reads it."""
    config = RuntimeConfig.from_env(service, environ)
    return StreamSettings.from_env(config.application_env(), service)


def create_stream(service: str, environ: Mapping[str, str], *, wait: float = 0.0) -> StreamState:
    """Create (or check) one service's stream, retrying while NATS is unreachable or has no
    JetStream quorum; a stream with weaker settings raises `StreamSettingsError` at once."""
    settings = stream_settings(service, environ)
    deadline = time.monotonic() + wait
    while True:
        try:
            return _create(service, settings)
        except StreamSettingsError:
            raise
        except OperationalError as e:
            if time.monotonic() >= deadline:
                raise
            log.warning("%s: JetStream not ready (%s); retrying", settings.stream, e)
            time.sleep(RETRY_EVERY)


def _create(service: str, settings: StreamSettings) -> StreamState:
    link = JetStreamLink(
        settings.nats_url,
        name="hearth-streams",
        request_timeout=settings.request_timeout,
        connect_timeout=settings.connect_timeout,
    )
    try:
        link.run(ensure_stream(link, settings))
        info: dict[str, Any] = link.run(link.api(f"$JS.API.STREAM.INFO.{settings.stream}"))
    finally:
        link.close()
    cluster = info.get("cluster") or {}
    followers = [r for r in cluster.get("replicas", []) if r.get("current")]
    return StreamState(
        service=service,
        stream=settings.stream,
        replicas=int(info["config"].get("num_replicas", 1)),
        current=len(followers) + (1 if cluster.get("leader") else 0),
        leader=str(cluster.get("leader", "")),
    )


def command(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> int:
    """`hearth streams create [--service NAME]... [--wait SECONDS]`."""
    environ = os.environ if environ is None else environ
    installed = service_names()
    wanted: Sequence[str] = args.service or installed
    unknown = [s for s in wanted if s not in installed]
    if unknown:
        print(
            f"no service {', '.join(unknown)}; installed: {', '.join(installed)}", file=sys.stderr
        )
        return 2
    for service in wanted:
        try:
            state = create_stream(service, environ, wait=args.wait)
        except StreamSettingsError as e:
            print(f"hearth streams: {e}", file=sys.stderr)
            return 1
        except OperationalError as e:
            print(f"hearth streams: {service}: {e}", file=sys.stderr)
            return 1
        print(
            f"{state.stream}: {state.replicas} replica(s), {state.current} current, "
            f"leader {state.leader or '(none yet)'}"
        )
    return 0


def add_parser(commands: Any) -> None:
    """The `streams` subcommand of `hearth`."""
    parser = commands.add_parser("streams", help="create each service's stream before it starts")
    parser.add_argument("action", choices=["create"])
    parser.add_argument(
        "--service", action="append", help="only this service (repeatable; default: all)"
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        help="seconds to keep retrying while NATS or its JetStream quorum is not ready",
    )
    parser.set_defaults(run=command)
