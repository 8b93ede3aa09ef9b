"""Hearth's event log: an eventsourcing persistence module on NATS JetStream.

Select it with `PERSISTENCE_MODULE=hearth_eventlog` and name the server with `NATS_URL`.
"""

from .chain import BrokenChainError, VerifiedTrail, verify_chain
from .factory import NatsFactory
from .recorders import (
    NatsAggregateRecorder,
    NatsApplicationRecorder,
    NatsProcessRecorder,
    NatsSubscription,
    NatsTrackingRecorder,
    read_trail,
)
from .records import TracedNotification
from .settings import SettingsError, StreamSettings
from .stream import StreamSettingsError

Factory = NatsFactory

__all__ = [
    "BrokenChainError",
    "Factory",
    "NatsAggregateRecorder",
    "NatsApplicationRecorder",
    "NatsFactory",
    "NatsProcessRecorder",
    "NatsSubscription",
    "NatsTrackingRecorder",
    "SettingsError",
    "StreamSettings",
    "StreamSettingsError",
    "TracedNotification",
    "VerifiedTrail",
    "read_trail",
    "verify_chain",
]
