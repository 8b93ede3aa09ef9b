"""Per-device mailboxes: ciphertext waiting for a device, in a JetStream stream that ages out.

This is deliberately not the event log: the event stream is append-only forever, while a
mailbox holds ciphertext only until its device acknowledges it (then it is purged) or until
the retention limit (default 30 days) passes. One subject per device keeps its order.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import Any

from hearth_eventlog.link import (
    STREAM_NOT_FOUND,
    JetStreamError,
    JetStreamLink,
    Outgoing,
    StoredMessage,
)

DAY_NS = 24 * 3600 * 10**9


class Mailboxes:
    """The mailbox stream: deliver copies, read a device's backlog, purge what it acknowledged."""

    def __init__(
        self,
        nats_url: str,
        *,
        stream: str,
        subject_prefix: str,
        retention_days: int = 30,
        replicas: int = 1,
    ) -> None:
        self.stream = stream
        self.prefix = subject_prefix
        self.config: dict[str, Any] = {
            "name": stream,
            "subjects": [f"{subject_prefix}.>"],
            "retention": "limits",
            "storage": "file",
            "num_replicas": replicas,
            "max_age": retention_days * DAY_NS,
            "discard": "old",
            "allow_direct": True,
            "deny_delete": False,
            "deny_purge": False,
        }
        self.link = JetStreamLink(nats_url, name="hearth-messaging-mailbox")
        try:
            self.link.run(self._ensure())
        except BaseException:
            self.link.close()
            raise

    async def _ensure(self) -> None:
        try:
            await self.link.api(f"$JS.API.STREAM.INFO.{self.stream}")
            await self.link.api(f"$JS.API.STREAM.UPDATE.{self.stream}", self.config)
        except JetStreamError as e:
            if e.err_code != STREAM_NOT_FOUND:
                raise
            await self.link.api(f"$JS.API.STREAM.CREATE.{self.stream}", self.config)

    def subject(self, device_id: str) -> str:
        return f"{self.prefix}.{device_id}"

    def deliver(self, copies: Sequence[tuple[str, bytes]]) -> None:
        """Put each (device, bytes) in its mailbox; returns once JetStream stored them all."""
        self.link.run(self._deliver(copies))

    async def _deliver(self, copies: Sequence[tuple[str, bytes]]) -> None:
        # One acknowledged publish per copy, all in flight at once, on the link's own inbox.
        await asyncio.gather(
            *(self.link.append([Outgoing(self.subject(d), data)]) for d, data in copies)
        )

    def read(self, device_id: str, from_sequence: int, limit: int = 256) -> list[StoredMessage]:
        return self.link.run(self._read(device_id, from_sequence, limit))

    async def read_async(
        self, device_id: str, from_sequence: int, limit: int = 256
    ) -> list[StoredMessage]:
        """`read` for an async caller: waits on the link's loop without holding a thread."""
        return await self.link.run_async(self._read(device_id, from_sequence, limit))

    async def _read(self, device_id: str, from_sequence: int, limit: int) -> list[StoredMessage]:
        request = {"seq": max(from_sequence, 1), "next_by_subj": self.subject(device_id)}
        return await self.link.read_batch(self.stream, request, limit)

    def acknowledge(self, device_id: str, up_to_sequence: int) -> None:
        """Purge the device's mailbox up to and including `up_to_sequence`."""
        self.link.run(
            self.link.api(
                f"$JS.API.STREAM.PURGE.{self.stream}",
                {"filter": self.subject(device_id), "seq": up_to_sequence + 1},
            )
        )

    async def watch(self, device_id: str, wake: Callable[[], None]) -> Callable[[], None]:
        """Call `wake` (on the link's loop thread) whenever something lands in the device's
        mailbox; returns the unwatch, which never blocks (many streams may end at once)."""

        async def on_message(_: Any) -> None:
            wake()

        subscribe = self.link.nc.subscribe(self.subject(device_id), cb=on_message)
        subscription = await self.link.run_async(subscribe)
        done = threading.Event()

        async def unsubscribe() -> None:
            # When the connection is closing there is nothing left to unwatch.
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()

        def unwatch() -> None:
            if not done.is_set():
                done.set()
                with contextlib.suppress(Exception):
                    self.link.call_soon(unsubscribe)

        return unwatch

    def close(self) -> None:
        self.link.close()
