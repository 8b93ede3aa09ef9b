"""Stream settings for one application's event log, read from the environment.

The eventsourcing `Environment` looks a variable up first with the application's name as a
prefix (`IDENTITY_NATS_URL`), then plain (`NATS_URL`), so one process can host several
applications on different servers or streams.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from eventsourcing.utils import Environment

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
_TOKEN = re.compile(r"[^A-Za-z0-9_-]")


class SettingsError(ValueError):
    """A stream setting in the environment is missing or malformed."""


def token(name: str) -> str:
    """A NATS subject token / stream-name-safe form of an application name."""
    cleaned = _TOKEN.sub("_", name.strip()).lower()
    if not cleaned:
        raise SettingsError(f"cannot make a stream name from {name!r}")
    return cleaned


@dataclass(frozen=True)
class StreamSettings:
    """Where and how one application's events are kept."""

    nats_url: str
    stream: str
    subject_prefix: str
    replicas: int = 1
    storage: str = "file"
    request_timeout: float = 5.0
    connect_timeout: float = 2.0

    @property
    def events_subject(self) -> str:
        return f"{self.subject_prefix}.events"

    @property
    def snapshots_subject(self) -> str:
        return f"{self.subject_prefix}.snapshots"

    @property
    def tracking_subject(self) -> str:
        return f"{self.subject_prefix}.tracking"

    @classmethod
    def from_env(cls, env: Environment) -> StreamSettings:
        name = token(env.name or "hearth")
        stream = env.get("HEARTH_STREAM") or f"HEARTH_{name.upper()}"
        prefix = env.get("HEARTH_SUBJECT_PREFIX") or f"hearth.{name}"
        return cls(
            nats_url=env.get("NATS_URL") or DEFAULT_NATS_URL,
            stream=stream,
            subject_prefix=prefix,
            replicas=_int(env, "HEARTH_STREAM_REPLICAS", 1, allowed=range(1, 6)),
            storage=_choice(env, "HEARTH_STREAM_STORAGE", "file", ("file", "memory")),
            request_timeout=_float(env, "HEARTH_NATS_TIMEOUT", 5.0),
            connect_timeout=_float(env, "HEARTH_NATS_CONNECT_TIMEOUT", 2.0),
        )


def _int(env: Environment, key: str, default: int, allowed: range) -> int:
    raw = env.get(key)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{key}={raw!r} is not a whole number") from None
    if value not in allowed:
        raise SettingsError(f"{key}={value} is outside {allowed.start}..{allowed.stop - 1}")
    return value


def _float(env: Environment, key: str, default: float) -> float:
    raw = env.get(key)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{key}={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise SettingsError(f"{key}={value} must be positive")
    return value


def _choice(env: Environment, key: str, default: str, choices: tuple[str, ...]) -> str:
    raw = env.get(key) or default
    if raw not in choices:
        raise SettingsError(f"{key}={raw!r} must be one of {', '.join(choices)}")
    return raw
