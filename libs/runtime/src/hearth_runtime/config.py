"""Configuration from environment variables, read once into typed objects.

Every service reads `RuntimeConfig.from_env(service)` at start-up; a missing or malformed
variable stops it with a `ConfigError` that names the variable. The reader, `Env`, is the
event log's (`hearth_eventlog.settings`), so stream settings and service settings follow one
rule: `HEARTH_<SERVICE>_X` overrides `HEARTH_X`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# One reader for every setting, the event log's included: it lives in the event log library,
# the lowest layer, and is the runtime's too.
from hearth_eventlog.factory import PERSISTENCE
from hearth_eventlog.settings import DEFAULT_NATS_URL, ConfigError, Env

__all__ = ["DEFAULT_NATS_URL", "ConfigError", "Env", "RuntimeConfig"]


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
        return {**self.environ, **PERSISTENCE, "NATS_URL": self.nats_url, **extra}
