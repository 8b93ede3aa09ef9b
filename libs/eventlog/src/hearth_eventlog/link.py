"""One NATS connection on its own asyncio thread, with a synchronous face for recorders.

`eventsourcing` is synchronous and nats-py is asyncio; each recorder family shares one
`JetStreamLink`, whose loop thread owns the connection. Errors come out as the
`eventsourcing.persistence` exceptions an application already knows how to handle.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import nats
import nats.errors
from eventsourcing.persistence import (
    DataError,
    IntegrityError,
    OperationalError,
    ProgrammingError,
)
from nats.aio.client import Client
from nats.aio.msg import Msg

log = logging.getLogger(__name__)
T = TypeVar("T")

WRONG_LAST_SEQUENCE = 10071
NO_MESSAGE_FOUND = 10037
STREAM_NOT_FOUND = 10059
STREAM_NAME_IN_USE = 10058
BATCH_LIMIT = 1000  # nats-server's atomic batch maximum (err 10199 beyond it)


@dataclass(frozen=True)
class Outgoing:
    """One message of an append: where it goes, its bytes, its concurrency check."""

    subject: str
    payload: bytes
    expected_last_subject_seq: int | None = None
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True)
class StoredMessage:
    """A message read back from a stream."""

    seq: int
    subject: str
    payload: bytes
    headers: Mapping[str, str]


class JetStreamError(OperationalError):
    """JetStream answered an API call with an error."""

    def __init__(self, description: str, err_code: int, code: int) -> None:
        super().__init__(f"JetStream error {err_code}: {description}")
        self.err_code = err_code
        self.code = code


class JetStreamLink:
    """A NATS connection, its loop thread, and the JetStream calls the recorders make."""

    def __init__(
        self,
        url: str,
        *,
        name: str = "hearth-eventlog",
        request_timeout: float = 5.0,
        connect_timeout: float = 2.0,
    ) -> None:
        self.url = url
        self.request_timeout = request_timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"{name}-loop", daemon=True
        )
        self._thread.start()
        self._closed = False
        self._closing = False
        self._inbox_prefix = f"_INBOX.{uuid.uuid4().hex}"
        self._pending: dict[str, asyncio.Queue[Msg]] = {}
        try:
            self.nc: Client = self.run(self._connect(name, connect_timeout))
        except BaseException:
            self._stop_loop()
            raise
        self.max_payload: int = self.nc.max_payload

    async def _connect(self, name: str, connect_timeout: float) -> Client:
        async def on_error(e: Exception) -> None:
            log.warning("NATS connection error: %s", e)

        async def on_disconnect() -> None:
            if self._closing:
                return
            log.warning("NATS disconnected from %s; reconnecting", self.url)

        async def on_reconnect() -> None:
            log.info("NATS reconnected to %s", self.url)

        await self._probe(connect_timeout)
        try:
            nc = await nats.connect(
                self.url,
                name=name,
                connect_timeout=connect_timeout,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.2,
                error_cb=on_error,
                disconnected_cb=on_disconnect,
                reconnected_cb=on_reconnect,
            )
        except (TimeoutError, OSError, nats.errors.Error) as e:
            raise OperationalError(
                f"cannot reach NATS at {self.url}: {e or type(e).__name__}"
            ) from e
        await nc.subscribe(f"{self._inbox_prefix}.*", cb=self._route)
        return nc

    async def _probe(self, timeout: float) -> None:
        """Fail fast when no server in the URL answers: nats-py would retry the first
        connection forever, since reconnects after it must be unlimited."""
        failures: list[str] = []
        for server in self.url.split(","):
            parsed = urlsplit(server.strip() if "://" in server else f"nats://{server.strip()}")
            host, port = parsed.hostname or "127.0.0.1", parsed.port or 4222
            try:
                _reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port), timeout
                )
            except (TimeoutError, OSError) as e:
                failures.append(f"{host}:{port} ({e or type(e).__name__})")
                continue
            writer.close()
            return
        raise OperationalError(f"cannot reach NATS at {self.url}: {'; '.join(failures)}")

    async def _route(self, msg: Msg) -> None:
        queue = self._pending.get(msg.subject)
        if queue is not None:
            queue.put_nowait(msg)

    # The synchronous face.

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a coroutine on the link's loop and wait for its result."""
        if self._closed:
            coro.close()
            raise ProgrammingError("the event log connection is closed")
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout)

    def call_soon(self, fn: Callable[[], Awaitable[None]]) -> None:
        asyncio.run_coroutine_threadsafe(fn(), self._loop)  # type: ignore[arg-type]

    def close(self) -> None:
        if self._closed:
            return
        self._closing = True
        try:
            self.run(self._drain(), timeout=self.request_timeout + 1)
        except Exception as e:  # closing must not fail the caller's shutdown
            log.debug("NATS drain on close: %s", e)
        self._closed = True
        self._stop_loop()

    async def _drain(self) -> None:
        if not self.nc.is_closed:
            try:
                await self.nc.drain()
            except nats.errors.Error:
                await self.nc.close()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()

    # JetStream API calls (run on the loop).

    async def api(self, subject: str, request: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A JetStream JSON API request; an error answer raises `JetStreamError`."""
        payload = json.dumps(request).encode() if request is not None else b""
        msg = await self._request(subject, payload, None)
        answer: dict[str, Any] = json.loads(msg.data)
        error = answer.get("error")
        if error:
            raise JetStreamError(
                error.get("description", ""), error.get("err_code", 0), error.get("code", 0)
            )
        return answer

    async def _request(self, subject: str, payload: bytes, headers: dict[str, str] | None) -> Msg:
        try:
            return await self.nc.request(
                subject, payload, timeout=self.request_timeout, headers=headers
            )
        except nats.errors.NoRespondersError as e:
            raise OperationalError(
                f"no JetStream answered on {subject} (is JetStream enabled on {self.url}?)"
            ) from e
        except nats.errors.TimeoutError as e:
            raise OperationalError(
                f"NATS at {self.url} did not answer within {self.request_timeout}s"
            ) from e
        except nats.errors.MaxPayloadError as e:
            raise DataError(
                f"message of {len(payload)} bytes exceeds the server's limit of "
                f"{self.max_payload} bytes"
            ) from e
        except (nats.errors.ConnectionClosedError, nats.errors.OutboundBufferLimitError) as e:
            raise OperationalError(f"NATS connection to {self.url} unavailable: {e}") from e

    async def append(self, messages: Sequence[Outgoing]) -> list[int]:
        """Append messages atomically; returns their stream sequences.

        One message is a plain publish; more use an atomic batch, whose commit is the only
        message that is acknowledged. A failed concurrency check raises `IntegrityError`; a
        missing acknowledgement raises `OperationalError` (the append may or may not be
        recorded; a retry of the same version is refused by the concurrency check, so it can
        never be recorded twice).
        """
        if not messages:
            return []
        if len(messages) > BATCH_LIMIT:
            raise DataError(
                f"a save of {len(messages)} records exceeds JetStream's atomic batch limit "
                f"of {BATCH_LIMIT}"
            )
        for m in messages:
            if len(m.payload) + 512 > self.max_payload:
                raise DataError(
                    f"an event of {len(m.payload)} bytes exceeds the NATS server's limit of "
                    f"{self.max_payload} bytes per message"
                )
        batch_id = uuid.uuid4().hex if len(messages) > 1 else None
        last = len(messages) - 1
        try:
            for i, m in enumerate(messages):
                headers = dict(m.headers or {})
                if m.expected_last_subject_seq is not None:
                    headers["Nats-Expected-Last-Subject-Sequence"] = str(
                        m.expected_last_subject_seq
                    )
                if batch_id is not None:
                    headers["Nats-Batch-Id"] = batch_id
                    headers["Nats-Batch-Sequence"] = str(i + 1)
                    if i == last:
                        headers["Nats-Batch-Commit"] = "1"
                if i < last:
                    await self.nc.publish(m.subject, m.payload, headers=headers)
                else:
                    reply = await self._request(m.subject, m.payload, headers)
        except (nats.errors.ConnectionClosedError, nats.errors.OutboundBufferLimitError) as e:
            raise OperationalError(f"NATS connection to {self.url} unavailable: {e}") from e
        answer = json.loads(reply.data) if reply.data else {}
        error = answer.get("error")
        if error:
            code = error.get("err_code", 0)
            if code == WRONG_LAST_SEQUENCE:
                raise IntegrityError(f"concurrent append: {error.get('description')}")
            raise JetStreamError(error.get("description", ""), code, error.get("code", 0))
        if "seq" not in answer:
            raise OperationalError(f"unexpected answer to an append: {reply.data!r}")
        last_seq = int(answer["seq"])
        return list(range(last_seq - len(messages) + 1, last_seq + 1))

    async def last_on_subject(self, stream: str, subject: str) -> StoredMessage | None:
        """The last message on a subject, from the stream leader (sees every write)."""
        try:
            answer = await self.api(f"$JS.API.STREAM.MSG.GET.{stream}", {"last_by_subj": subject})
        except JetStreamError as e:
            if e.err_code == NO_MESSAGE_FOUND:
                return None
            raise
        m = answer["message"]
        raw_headers = base64.b64decode(m["hdrs"]) if m.get("hdrs") else b""
        return StoredMessage(
            seq=int(m["seq"]),
            subject=m["subject"],
            payload=base64.b64decode(m.get("data", "")),
            headers=_parse_headers(raw_headers),
        )

    async def read_batch(
        self, stream: str, request: Mapping[str, Any], limit: int
    ) -> list[StoredMessage]:
        """Read up to `limit` messages with one direct batch get (`next_by_subj` etc.)."""
        token = f"{self._inbox_prefix}.{uuid.uuid4().hex}"
        queue: asyncio.Queue[Msg] = asyncio.Queue()
        self._pending[token] = queue
        found: list[StoredMessage] = []
        try:
            body = json.dumps({**request, "batch": limit}).encode()
            await self.nc.publish(f"$JS.API.DIRECT.GET.{stream}", body, reply=token)
            while True:
                msg = await asyncio.wait_for(queue.get(), self.request_timeout)
                headers = msg.headers or {}
                status = headers.get("Status")
                if status:
                    if status in ("204", "404", "408"):
                        return found
                    raise OperationalError(
                        f"direct get on {stream} failed: {status} {headers.get('Description', '')}"
                    )
                found.append(
                    StoredMessage(
                        seq=int(headers["Nats-Sequence"]),
                        subject=headers["Nats-Subject"],
                        payload=msg.data,
                        headers=headers,
                    )
                )
        except TimeoutError as e:
            raise OperationalError(
                f"NATS at {self.url} did not finish a read within {self.request_timeout}s"
            ) from e
        finally:
            del self._pending[token]


def _parse_headers(raw: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in raw.decode(errors="replace").split("\r\n")[1:]:
        if ":" in line:
            key, _, value = line.partition(":")
            headers[key.strip()] = value.strip()
    return headers
