"""The eventsourcing infrastructure factory for `PERSISTENCE_MODULE=hearth_eventlog`.

An application's own factory creates its stream (or checks that an existing one is as strong
as the event log requires). A follower reads another service's stream through
`NatsFactory.upstream`, which never creates or reconfigures it: that stream is its owner's.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment, EnvType, resolve_topic, strtobool

from .link import JetStreamLink
from .recorders import (
    NatsAggregateRecorder,
    NatsApplicationRecorder,
    NatsProcessRecorder,
    NatsTrackingRecorder,
)
from .settings import StreamSettings
from .stream import ensure_stream, require_stream

# What an eventsourcing application needs in its environment to keep its events here.
PERSISTENCE: Mapping[str, str] = {
    "PERSISTENCE_MODULE": "hearth_eventlog",
    "MAPPER_TOPIC": "hearth_eventlog.published:ProtobufMapper",
}


class NatsFactory(InfrastructureFactory[NatsTrackingRecorder]):
    """Recorders for one application, sharing one connection and one stream."""

    def __init__(self, env: Environment | EnvType | None, *, read_only: bool = False) -> None:
        super().__init__(env)
        self.settings = StreamSettings.from_env(self.env, self.env.name)
        self.read_only = read_only
        self._link: JetStreamLink | None = None
        self._lock = threading.Lock()

    @classmethod
    def upstream(cls, name: str, environ: Mapping[str, str]) -> NatsFactory:
        """Readers of application `name`'s stream, which must exist (`StreamMissing` if not)."""
        return cls(Environment(name, dict(environ)), read_only=True)

    @property
    def link(self) -> JetStreamLink:
        with self._lock:
            if self._link is None:
                link = JetStreamLink(
                    self.settings.nats_url,
                    name=f"hearth-{self.settings.stream.lower()}",
                    request_timeout=self.settings.request_timeout,
                    connect_timeout=self.settings.connect_timeout,
                )
                try:
                    if self.read_only:
                        link.run(require_stream(link, self.settings))
                    elif strtobool(self.env.get("CREATE_TABLE") or "yes"):
                        link.run(ensure_stream(link, self.settings))
                except BaseException:
                    link.close()
                    raise
                self._link = link
            return self._link

    def aggregate_recorder(self, purpose: str = "events") -> NatsAggregateRecorder:
        return NatsAggregateRecorder(self.link, self.settings, purpose)

    def application_recorder(self) -> NatsApplicationRecorder:
        return NatsApplicationRecorder(self.link, self.settings)

    def tracking_recorder(
        self, tracking_recorder_class: type[NatsTrackingRecorder] | None = None
    ) -> NatsTrackingRecorder:
        if tracking_recorder_class is None:
            topic = self.env.get(self.TRACKING_RECORDER_TOPIC)
            tracking_recorder_class = resolve_topic(topic) if topic else NatsTrackingRecorder
        assert tracking_recorder_class is not None
        return tracking_recorder_class(self.link, self.settings)

    def process_recorder(self) -> NatsProcessRecorder:
        return NatsProcessRecorder(self.link, self.settings)

    def close(self) -> None:
        with self._lock:
            if self._link is not None:
                self._link.close()
                self._link = None
