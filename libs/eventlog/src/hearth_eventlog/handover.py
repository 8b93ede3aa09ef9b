"""Moving a NATS connection off a server that enters lame duck mode, losing no answer.

A server shutting down gracefully (SIGUSR2, or SIGTERM in Kubernetes) tells its clients and
then closes their connections; a request whose answer was still on its way when that happens
fails. On the notice the link holds new calls, lets those in flight be answered, reconnects
to another server of the cluster, then lets the held calls go: a rolling restart of the
NATS StatefulSet fails no save.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from nats.aio.client import Client

log = logging.getLogger(__name__)


class Handover:
    """Counts the calls awaiting answers; `move` waits for none, then reconnects."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._open = asyncio.Event()
        self._open.set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._busy = 0
        self._moving: asyncio.Task[None] | None = None

    def call(self) -> Handover:
        """Around one request and its answer (`async with`): held while the connection
        moves. The handover itself is the context manager: no generator per request."""
        return self

    async def __aenter__(self) -> None:
        if not self._open.is_set():
            await self._open.wait()
        self._busy += 1
        self._idle.clear()

    async def __aexit__(self, *exc: object) -> None:
        self._busy -= 1
        if not self._busy:
            self._idle.set()

    def lame_duck(self, nc: Client) -> None:
        """The server `nc` is on is going away: move off it (once, in the background, since
        nats-py calls this from its reading task, which must go on reading answers)."""
        if self._moving is None or self._moving.done():
            self._moving = asyncio.get_running_loop().create_task(self._move(nc))

    async def _move(self, nc: Client) -> None:
        self._open.clear()
        leaving = nc.connected_url.netloc if nc.connected_url else "?"
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), self.timeout)
            await nc.force_reconnect()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.timeout
            while not nc.is_connected and not nc.is_closed and loop.time() < deadline:
                await asyncio.sleep(0.01)
            arrived = nc.connected_url.netloc if nc.connected_url else "?"
            log.info("NATS server %s is in lame duck mode; moved to %s", leaving, arrived)
        finally:
            self._open.set()
