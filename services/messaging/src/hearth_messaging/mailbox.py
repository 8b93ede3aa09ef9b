"""Per-device mailboxes: ciphertext waiting for a device, in a JetStream stream that ages out.

This is deliberately not the event log: the event stream is append-only forever, while a
mailbox holds ciphertext only until its device acknowledges it (then it is purged) or until
the retention limit (default 30 days) passes. One subject per device keeps its order.

The relay answers a sender once its message's metadata event is recorded (the one NATS round
trip the sender waits for); the copies are put in the mailboxes after that, in the order
their messages were recorded, and JetStream's answers are waited for here, not by the sender.
So a device never receives a ciphertext whose metadata event was not recorded. A copy whose
store fails is tried again (`DELIVERY_ATTEMPTS`) and then logged with its device and message
ids; `settle` waits for the copies in flight (shutdown drains them, tests wait on it).

Each copy carries its message id in a header: a watching delivery stream hears the id the
moment the copy is published, so it reads the mailbox only for a message it has not yet
delivered (one read per burst, none wasted on an empty mailbox).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from hearth_eventlog.link import (
    STREAM_NOT_FOUND,
    JetStreamError,
    JetStreamLink,
    Outgoing,
    StoredMessage,
)

log = logging.getLogger(__name__)
DAY_NS = 24 * 3600 * 10**9
MESSAGE_ID = "Hearth-Message-Id"  # header: the copy's message id, for watching streams
DELIVERY_ATTEMPTS = 5  # stores of one copy before it is logged as lost
DELIVERY_RETRY = 0.5  # seconds between them (a stream leader election takes a few)


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
        self._in_flight = 0  # copies handed to the loop, not yet stored (or given up)
        self._settled = threading.Condition()
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

    def deliver(self, message_id: str, copies: Sequence[tuple[str, bytes]]) -> None:
        """Put each (device, bytes) of one message in its mailbox, without waiting: the
        copies are published in the order `deliver` is called, and stored in the background."""
        if not copies:
            return
        with self._settled:
            self._in_flight += len(copies)
        self.link.spawn(self._deliver(message_id, copies))

    async def _deliver(self, message_id: str, copies: Sequence[tuple[str, bytes]]) -> None:
        # One acknowledged publish per copy, all in flight at once, on the link's own inbox.
        headers = {MESSAGE_ID: message_id}
        await asyncio.gather(
            *(self._store(Outgoing(self.subject(d), data, headers=headers)) for d, data in copies)
        )

    async def _store(self, copy: Outgoing) -> None:
        try:
            for attempt in range(1, DELIVERY_ATTEMPTS + 1):
                try:
                    await self.link.append([copy])
                    return
                except Exception as e:  # any failure: tried again, then logged with the ids
                    if attempt == DELIVERY_ATTEMPTS:
                        log.error(
                            "mailbox %s: message %s was not stored after %d attempts: %s",
                            copy.subject.rsplit(".", 1)[-1],
                            (copy.headers or {}).get(MESSAGE_ID, "?"),
                            attempt,
                            e,
                        )
                        return
                    await asyncio.sleep(DELIVERY_RETRY)
        finally:
            with self._settled:
                self._in_flight -= 1
                if not self._in_flight:
                    self._settled.notify_all()

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until every copy handed to `deliver` is stored (or given up); False if some
        still are not after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._settled:
            while self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._settled.wait(left)
        return True

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

    async def watch(self, device_id: str, wake: Callable[[str], None]) -> Callable[[], None]:
        """Call `wake(message id)` (on the link's loop thread) whenever a copy is published to
        the device's mailbox (it may be stored a moment later); returns the unwatch, which
        never blocks (many streams may end at once)."""

        async def on_message(msg: Any) -> None:
            wake((msg.headers or {}).get(MESSAGE_ID, ""))

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
        if not self.settle(self.link.request_timeout):
            log.warning("closing with mailbox copies not yet stored")
        self.link.close()
