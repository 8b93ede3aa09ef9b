"""Configuration from environment variables: the one typed reader, and the event log's settings.

`Env` is the reader every Hearth process uses, the runtime's configuration included (it lives
here, at the lowest layer, because the event log reads its settings before any runtime code
runs). `HEARTH_<SERVICE>_X` overrides `HEARTH_X` for one service, so one process can host
several applications on their own streams. A missing or malformed variable raises
`ConfigError`, which names it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
_TOKEN = re.compile(r"[^A-Za-z0-9_-]")


class ConfigError(ValueError):
    """A configuration variable is missing or malformed."""


class Env:
    """Typed reads of one environment mapping; `HEARTH_<SERVICE>_X` overrides `HEARTH_X`."""

    def __init__(self, environ: Mapping[str, str] | None = None, service: str = "") -> None:
        self.environ = os.environ if environ is None else environ
        self.prefix = f"HEARTH_{service.upper()}_" if service else ""

    def lookup(self, key: str) -> tuple[str, str] | None:
        """The variable that sets `key` here, and its value: the service's own, else `key`."""
        if self.prefix and key.startswith("HEARTH_"):
            specific = self.prefix + key.removeprefix("HEARTH_")
            if self.environ.get(specific):
                return specific, str(self.environ[specific])
        value = self.environ.get(key)
        return (key, str(value)) if value else None

    def raw(self, key: str) -> str | None:
        found = self.lookup(key)
        return found[1] if found else None

    def text(self, key: str, default: str | None = None) -> str:
        found = self.lookup(key)
        if found is None:
            if default is None:
                raise ConfigError(f"{key} is not set")
            return default
        return found[1]

    def whole(self, key: str, default: int, *, minimum: int = 0, maximum: int = 2**31) -> int:
        found = self.lookup(key)
        if found is None:
            return default
        name, raw = found
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not a whole number") from None
        if not minimum <= value <= maximum:
            raise ConfigError(f"{name}={value} is outside {minimum}..{maximum}")
        return value

    def number(self, key: str, default: float, *, minimum: float = 0.0) -> float:
        found = self.lookup(key)
        if found is None:
            return default
        name, raw = found
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not a number") from None
        if value < minimum:
            raise ConfigError(f"{name}={value} is below {minimum}")
        return value

    def seconds(self, key: str, default: float) -> float:
        """A positive duration in seconds."""
        value = self.number(key, default, minimum=float("-inf"))
        if value <= 0:
            name = (self.lookup(key) or (key, ""))[0]
            raise ConfigError(f"{name}={value} must be positive")
        return value

    def flag(self, key: str, default: bool) -> bool:
        found = self.lookup(key)
        if found is None:
            return default
        name, raw = found
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}={raw!r} is not true/false")

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(key, default)
        if value not in choices:
            name = (self.lookup(key) or (key, ""))[0]
            raise ConfigError(f"{name}={value!r} must be one of {', '.join(choices)}")
        return value


def token(name: str) -> str:
    """A NATS subject token / stream-name-safe form of an application name."""
    cleaned = _TOKEN.sub("_", name.strip()).lower()
    if not cleaned:
        raise ConfigError(f"cannot make a stream name from {name!r}")
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
    def from_env(cls, environ: Mapping[str, str], application: str) -> StreamSettings:
        """The settings of `application` (e.g. `identity`): `HEARTH_IDENTITY_STREAM` etc."""
        name = token(application or "hearth")
        env = Env(environ, name)
        for setting in ("STREAM", "SUBJECT_PREFIX", "STREAM_REPLICAS", "STREAM_STORAGE"):
            legacy = f"{name.upper()}_HEARTH_{setting}"  # the old, eventsourcing-prefixed name
            if environ.get(legacy):
                raise ConfigError(
                    f"{legacy} is no longer read: set HEARTH_{name.upper()}_{setting} instead"
                )
        return cls(
            nats_url=env.text("NATS_URL", DEFAULT_NATS_URL),
            stream=env.text("HEARTH_STREAM", f"HEARTH_{name.upper()}"),
            subject_prefix=env.text("HEARTH_SUBJECT_PREFIX", f"hearth.{name}"),
            replicas=env.whole("HEARTH_STREAM_REPLICAS", 1, minimum=1, maximum=5),
            storage=env.choice("HEARTH_STREAM_STORAGE", "file", ("file", "memory")),
            request_timeout=env.seconds("HEARTH_NATS_TIMEOUT", 5.0),
            connect_timeout=env.seconds("HEARTH_NATS_CONNECT_TIMEOUT", 2.0),
        )
