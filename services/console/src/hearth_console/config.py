"""The console's settings, read once from the environment (`HEARTH_CONSOLE_X` over `HEARTH_X`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from hearth_runtime.config import ConfigError, Env, RuntimeConfig

# Identity's development WebAuthn origin is http://localhost:8470: `hearth up` serves there.
DEVELOPMENT_PORT = 8470
# Roles that may sign in to the console at all; everyone else is refused at the door.
STAFF_ROLES = frozenset({"moderator", "safeguarding_lead", "org_admin", "auditor"})
CASE_WORKERS = frozenset({"moderator", "safeguarding_lead"})
SETTINGS_EDITORS = frozenset({"org_admin", "safeguarding_lead"})
TRANSPARENCY_READERS = frozenset({"safeguarding_lead", "auditor"})


@dataclass(frozen=True)
class ConsoleSettings:
    """Where the console listens, who it says it is to browsers, and how long a session lasts."""

    http_host: str
    http_port: int
    # Whether HEARTH_CONSOLE_HTTP_PORT was set: if not, a taken development port falls back
    # to a free one (pages serve; passkeys then need identity told the origin).
    port_configured: bool
    # The browser-facing origin (scheme://host[:port]): WebAuthn's expected origin and the
    # Origin every form post must come from. Empty: http://localhost:<bound port>.
    origin: str
    idle_seconds: float
    max_form_bytes: int
    poll_seconds: float
    # Each upstream's gRPC address; empty: the `endpoints.json` that `hearth up` writes.
    addresses: dict[str, str]
    data_dir: Path

    @classmethod
    def from_config(cls, config: RuntimeConfig) -> ConsoleSettings:
        env = Env(config.environ, "console")
        origin = env.text("HEARTH_ORIGIN", "").rstrip("/")
        if origin:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
                raise ConfigError("HEARTH_CONSOLE_ORIGIN must be scheme://host[:port]")
        return cls(
            http_host=env.text("HEARTH_HTTP_HOST", config.grpc_host),
            http_port=env.whole("HEARTH_HTTP_PORT", DEVELOPMENT_PORT, maximum=65535),
            port_configured=env.raw("HEARTH_HTTP_PORT") is not None,
            origin=origin,
            idle_seconds=env.seconds("HEARTH_IDLE_SECONDS", 15 * 60.0),
            max_form_bytes=env.whole("HEARTH_MAX_FORM_BYTES", 16 * 1024, minimum=1024),
            poll_seconds=env.seconds("HEARTH_POLL_SECONDS", 10.0),
            addresses={
                name: env.text(f"HEARTH_{name.upper()}_ADDRESS", "")
                for name in ("identity", "safety", "audit")
            },
            data_dir=config.data_dir,
        )
