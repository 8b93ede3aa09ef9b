"""Hearth's event log: an eventsourcing persistence module on NATS JetStream.

Select it with `PERSISTENCE_MODULE=hearth_eventlog` and name the server with `NATS_URL`; each
application's stream is `HEARTH_<APP>_STREAM` (default `HEARTH_<APP>`, see `settings`).
"""

from .chain import BrokenChainError, VerifiedTrail, verify_chain
from .factory import PERSISTENCE, NatsFactory
from .recorders import (
    NatsAggregateRecorder,
    NatsApplicationRecorder,
    NatsProcessRecorder,
    NatsSubscription,
    NatsTrackingRecorder,
    read_trail,
    tracing_installed,
)
from .records import TracedNotification
from .settings import DEFAULT_NATS_URL, ConfigError, Env, StreamSettings
from .stream import StreamMissing, StreamSettingsError

Factory = NatsFactory

__all__ = [
    "DEFAULT_NATS_URL",
    "PERSISTENCE",
    "BrokenChainError",
    "ConfigError",
    "Env",
    "Factory",
    "NatsAggregateRecorder",
    "NatsApplicationRecorder",
    "NatsFactory",
    "NatsProcessRecorder",
    "NatsSubscription",
    "NatsTrackingRecorder",
    "StreamMissing",
    "StreamSettings",
    "StreamSettingsError",
    "TracedNotification",
    "VerifiedTrail",
    "read_trail",
    "tracing_installed",
    "verify_chain",
]
