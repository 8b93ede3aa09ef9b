"""How the runtime builds the console (entry point `hearth.services: console`).

The console answers people, not programs: its HTTP server (uvicorn, on a thread of its own)
serves the pages, while the runtime's gRPC server it is handed carries only health and
reflection, so `hearth up`, `hearth serve` and the Kubernetes probes treat it like any other
service. It has no RPCs, no stream and no key: every call it makes carries the signed-in
staff member's own session token.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

import uvicorn

from hearth_runtime.config import ConfigError, RuntimeConfig
from hearth_runtime.platform import session_verifier
from hearth_runtime.server import ServiceParts

from .app import application
from .config import ConsoleSettings
from .desk import Desk
from .upstream import Upstream
from .web import Console

log = logging.getLogger(__name__)


class WebServer:
    """uvicorn on a socket bound at build time (so the address is known at once)."""

    def __init__(self, console: Console, sock: socket.socket) -> None:
        self.sock = sock
        self.server = uvicorn.Server(
            uvicorn.Config(
                application(console),
                log_level="warning",
                access_log=False,
                lifespan="off",
                server_header=False,
                proxy_headers=False,
            )
        )
        self.thread = threading.Thread(target=self._run, name="console-http", daemon=True)

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.sock]))

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def listen(host: str, port: int, fallback: bool) -> socket.socket:
    try:
        sock = socket.create_server((host, port), reuse_port=False)
    except OSError as e:
        if fallback:
            log.warning("console: port %d is taken; serving on a free port instead", port)
            return listen(host, 0, False)
        raise ConfigError(
            f"console: cannot listen on {host}:{port} ({e}); set HEARTH_CONSOLE_HTTP_PORT"
        ) from e
    sock.setblocking(False)
    return sock


def build(config: RuntimeConfig) -> ServiceParts:
    settings = ConsoleSettings.from_config(config)
    verifier = session_verifier(config)
    sock = listen(settings.http_host, settings.http_port, not settings.port_configured)
    port = sock.getsockname()[1]
    origin = settings.origin or f"http://localhost:{port}"
    upstream = Upstream(settings.addresses, settings.data_dir)
    console = Console(settings, Desk(settings.idle_seconds), upstream, verifier.verify, origin)
    web = WebServer(console, sock)
    web.start()
    log.info("console serving %s", origin)
    return ServiceParts(
        name="console",
        servicers=[],
        service_names=[],
        rules={},
        on_stop=[web.stop, upstream.close],
        web_address=origin,
    )
