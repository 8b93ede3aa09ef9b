"""The whole platform in one process on an embedded NATS: `hearth up`, the demo, e2e tests."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from pathlib import Path

from .config import ConfigError, RuntimeConfig
from .embedded_nats import EmbeddedNats
from .server import ServiceHost
from .services import installed_services
from .sessions import (
    SessionSigner,
    SessionVerifier,
    development_signer,
    format_public_keys,
    format_signing_key,
    parse_public_keys,
    parse_signing_key,
)

log = logging.getLogger(__name__)


def session_verifier(config: RuntimeConfig) -> SessionVerifier:
    if not config.session_public_keys:
        raise ConfigError(
            "HEARTH_SESSION_PUBLIC_KEYS is not set: services verify session tokens offline "
            "against identity's public keys (kid:base64key,...)"
        )
    return SessionVerifier(parse_public_keys(config.session_public_keys))


class Platform:
    """Every installed service, each on its own port, over one embedded nats-server."""

    def __init__(
        self,
        data_dir: Path,
        *,
        services: list[str] | None = None,
        environ: Mapping[str, str] | None = None,
        nats_url: str | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.wanted = services
        self.environ = dict(environ or {})
        self.nats = None if nats_url else EmbeddedNats(self.data_dir / "nats")
        self.nats_url = nats_url or ""
        self.hosts: dict[str, ServiceHost] = {}
        configured = self.environ.get("HEARTH_SESSION_SIGNING_KEY")
        self.signer: SessionSigner = (
            parse_signing_key(configured)
            if configured
            else development_signer(self.data_dir, self.environ)
        )

    def start(self) -> Platform:
        self.data_dir.mkdir(parents=True, exist_ok=True)  # for endpoints.json, if nothing else
        if self.nats is not None:
            self.nats_url = self.nats.start()
        environ = {
            **self.environ,
            "NATS_URL": self.nats_url,
            "HEARTH_DATA_DIR": str(self.data_dir),
            "HEARTH_SESSION_PUBLIC_KEYS": format_public_keys(
                {self.signer.key_id: self.signer.public_key}
            ),
            "HEARTH_SESSION_SIGNING_KEY": format_signing_key(self.signer),
        }
        builders = installed_services()
        names = self.wanted if self.wanted is not None else list(builders)
        try:
            for name in names:
                if name not in builders:
                    raise ConfigError(
                        f"no service named {name!r} is installed ({sorted(builders)})"
                    )
                config = RuntimeConfig.from_env(name, environ, default_port=0)
                host = ServiceHost(config, builders[name](config), session_verifier(config))
                self.hosts[name] = host.start()
        except BaseException:
            self.stop()
            raise
        self._write_endpoints()
        return self

    def endpoint(self, service: str) -> str:
        return self.hosts[service].address

    def _write_endpoints(self) -> None:
        path = self.data_dir / "endpoints.json"
        path.write_text(json.dumps({n: h.address for n, h in self.hosts.items()}, indent=2))

    def stop(self) -> None:
        # Side by side: each host waits out its own grace period for its open calls, so the
        # platform stops within one grace period, not one per service.
        def stop_one(host: ServiceHost) -> None:
            try:
                host.stop()
            except Exception:
                log.exception("stopping %s", host.parts.name)

        stopping = [
            threading.Thread(target=stop_one, args=(host,), name=f"stop-{name}")
            for name, host in self.hosts.items()
        ]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
        self.hosts.clear()
        if self.nats is not None:
            self.nats.stop()
