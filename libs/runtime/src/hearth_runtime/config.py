"""Configuration from environment variables, read once into typed objects.

Every service reads `RuntimeConfig.from_env(service)` at start-up; a missing or malformed
variable stops it with a `ConfigError` that names the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


class ConfigError(ValueError):
    """A configuration variable is missing or malformed."""


class Env:
    """Typed reads of one environment mapping; `SERVICE_X` overrides `X` for one service."""

    def __init__(self, environ: Mapping[str, str] | None = None, service: str = "") -> None:
        self.environ = os.environ if environ is None else environ
        self.prefix = f"HEARTH_{service.upper()}_" if service else ""

    def raw(self, key: str) -> str | None:
        if self.prefix and key.startswith("HEARTH_"):
            specific = self.prefix + key.removeprefix("HEARTH_")
            if self.environ.get(specific):
                return self.environ[specific]
        value = self.environ.get(key)
        return str(value) if value else None

    def text(self, key: str, default: str | None = None) -> str:
        value = self.raw(key)
        if value is None:
            if default is None:
                raise ConfigError(f"{key} is not set")
            return default
        return value

    def whole(self, key: str, default: int, *, minimum: int = 0, maximum: int = 2**31) -> int:
        raw = self.raw(key)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{key}={raw!r} is not a whole number") from None
        if not minimum <= value <= maximum:
            raise ConfigError(f"{key}={value} is outside {minimum}..{maximum}")
        return value

    def number(self, key: str, default: float, *, minimum: float = 0.0) -> float:
        raw = self.raw(key)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{key}={raw!r} is not a number") from None
        if value < minimum:
            raise ConfigError(f"{key}={value} is below {minimum}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        raw = self.raw(key)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{key}={raw!r} is not true/false")

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(key, default)
        if value not in choices:
            raise ConfigError(f"{key}={value!r} must be one of {', '.join(choices)}")
        return value


@dataclass(frozen=True)
class RuntimeConfig:
    """What every service needs to run: where NATS is, where to listen, where to keep data."""

    service: str
    nats_url: str
    data_dir: Path
    grpc_host: str
    grpc_port: int
    grace_period: float
    max_workers: int
    max_streams: int
    max_open_streams: int
    max_message_bytes: int
    session_public_keys: str | None
    session_signing_key: str | None
    log_level: str
    log_format: str
    environ: Mapping[str, str]

    @classmethod
    def from_env(
        cls, service: str, environ: Mapping[str, str] | None = None, *, default_port: int = 50051
    ) -> RuntimeConfig:
        env = Env(environ, service)
        return cls(
            service=service,
            nats_url=env.text("NATS_URL", DEFAULT_NATS_URL),
            data_dir=Path(env.text("HEARTH_DATA_DIR", "var")),
            grpc_host=env.text("HEARTH_GRPC_HOST", "127.0.0.1"),
            grpc_port=env.whole("HEARTH_GRPC_PORT", default_port, maximum=65535),
            grace_period=env.number("HEARTH_GRACE_PERIOD", 10.0),
            max_workers=env.whole("HEARTH_GRPC_WORKERS", 16, minimum=1, maximum=512),
            # Streams hold no thread; each costs memory, so one instance holds a bounded number,
            # and fewer of those needing no session (health Watch, reflection).
            max_streams=env.whole("HEARTH_GRPC_MAX_STREAMS", 20000, minimum=1),
            max_open_streams=env.whole("HEARTH_GRPC_MAX_OPEN_STREAMS", 256, minimum=1),
            max_message_bytes=env.whole("HEARTH_GRPC_MAX_MESSAGE_BYTES", 1024 * 1024, minimum=1024),
            session_public_keys=env.raw("HEARTH_SESSION_PUBLIC_KEYS"),
            session_signing_key=env.raw("HEARTH_SESSION_SIGNING_KEY"),
            log_level=env.choice("HEARTH_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
            log_format=env.choice("HEARTH_LOG_FORMAT", "json", ("json", "text")),
            environ=dict(env.environ),
        )

    def application_env(self, **extra: str) -> dict[str, str]:
        """The environment an eventsourcing application of this service is built with."""
        return {
            **self.environ,
            "PERSISTENCE_MODULE": "hearth_eventlog",
            "MAPPER_TOPIC": "hearth_eventlog.published:ProtobufMapper",
            "NATS_URL": self.nats_url,
            **extra,
        }
