"""One NATS connection on its own asyncio thread, with a synchronous face for recorders.

`eventsourcing` is synchronous and nats-py is asyncio; each recorder family shares one
`JetStreamLink`, whose loop thread owns the connection. Errors come out as the
`eventsourcing.persistence` exceptions an application already knows how to handle. A server
entering lame duck mode is left without losing an answer (`handover`). Over 400 lines because
every JetStream call the recorders make lives here, each with its own error mapping.

The loop is uvloop's where it is installed (a dependency on CPython off Windows): the link's
loop parses every NATS message, and uvloop does its I/O in C. Without it, asyncio's own.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import itertools
import json
import logging
import re
import threading
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit

import nats
import nats.errors
import nats.js.errors
from eventsourcing.persistence import (
    DataError,
    IntegrityError,
    OperationalError,
    ProgrammingError,
)
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import KeyValueConfig, StorageType
from nats.js.kv import KeyValue

from .handover import Handover
from .settings import StreamSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

WRONG_LAST_SEQUENCE = 10071
NO_MESSAGE_FOUND = 10037
STREAM_NOT_FOUND = 10059
STREAM_NAME_IN_USE = 10058
BATCH_LIMIT = 1000  # nats-server's atomic batch maximum (err 10199 beyond it)
NO_RESPONDERS = "503"
NO_LEADER_RETRY = 0.1  # seconds between sends while a stream has no leader
END_OF_BATCH = ("204", "404", "408")  # direct get: batch done, nothing (more) found, expired
# nats-py's errors that mean the server cannot be reached now (not that it refused a request):
# nats-py's own calls (buckets) raise them through `run`.
UNREACHABLE = (
    nats.errors.TimeoutError,
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.ConnectionDrainingError,
    nats.errors.NoServersError,
    nats.errors.NoRespondersError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.StaleConnectionError,
    nats.js.errors.ServiceUnavailableError,
)


def new_loop() -> asyncio.AbstractEventLoop:
    """An event loop for a link's thread: uvloop's when it is installed, else asyncio's."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - a platform uvloop does not support
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


# A publish acknowledgement with nothing but its stream and sequence (no error, duplicate,
# domain or batch fields): nats-server writes exactly this.
_PLAIN_ACK = re.compile(rb'\{"stream":"[^"\\]*","seq":(\d+)\}')


@dataclass(frozen=True)
class Outgoing:
    """One message of an append: where it goes, its bytes, its concurrency check."""

    subject: str
    payload: bytes
    expected_last_subject_seq: int | None = None
    headers: Mapping[str, str] | None = None


class StoredMessage(NamedTuple):
    """A message read back from a stream (a tuple: a read makes one per message)."""

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


class NoAnswer(OperationalError):
    """A request was sent and no answer came in time: it may or may not have taken effect."""


class _Answers:
    """Stands in for the future of the link's inbox subscription: nats-py completes a
    subscription's future in its read loop as it parses each message, where a callback
    would cost a queue and a task wake-up per message. Every answer (an append's
    acknowledgement, each message of a direct batch get) goes straight to its waiter."""

    def __init__(self, pending: Mapping[str, Callable[[Msg], None]]) -> None:
        self._pending = pending

    def cancelled(self) -> bool:
        return False

    def done(self) -> bool:
        return False

    def set_result(self, msg: Msg) -> None:
        sink = self._pending.get(msg.subject)
        if sink is not None:
            sink(msg)


@dataclass
class _BatchRead:
    """Collects a direct batch get's answers on the loop; wakes the reader once, at the end."""

    done: asyncio.Future[tuple[str, str]]
    messages: list[Msg] = field(default_factory=list)

    def __call__(self, msg: Msg) -> None:
        if self.done.done():
            return
        headers = msg.headers
        status = headers.get("Status") if headers else None
        if status:
            self.done.set_result((status, (headers or {}).get("Description", "")))
        else:
            self.messages.append(msg)


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
        self._loop = new_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"{name}-loop", daemon=True
        )
        self._thread.start()
        self._closed = False
        self._closing = False
        # Work handed to the loop by other threads; one wake-up drains a burst of it.
        self._submitted: collections.deque[Callable[[], None]] = collections.deque()
        self._submit_lock = threading.Lock()
        self._wake_pending = False
        self._spawned: set[asyncio.Task[None]] = set()
        # One wildcard inbox for every answer: a request costs a dict entry, not a subscription.
        self._inbox_prefix = f"_INBOX.{uuid.uuid4().hex}"
        self._tokens = itertools.count(1)
        self._pending: dict[str, Callable[[Msg], None]] = {}
        self._handover = Handover(request_timeout)
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

        async def on_lame_duck() -> None:
            self._handover.lame_duck(self.nc)

        await self._probe(connect_timeout)
        try:
            nc = await nats.connect(
                # A comma-separated NATS_URL names a cluster's servers: nats-py takes a list.
                [server.strip() for server in self.url.split(",") if server.strip()],
                name=name,
                connect_timeout=connect_timeout,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.2,
                error_cb=on_error,
                disconnected_cb=on_disconnect,
                reconnected_cb=on_reconnect,
                lame_duck_mode_cb=on_lame_duck,
            )
        except (TimeoutError, OSError, nats.errors.Error) as e:
            raise OperationalError(
                f"cannot reach NATS at {self.url}: {e or type(e).__name__}"
            ) from e
        answers: Any = _Answers(self._pending)  # duck-typed: what nats-py calls of a future
        await nc.subscribe(f"{self._inbox_prefix}.*", future=answers)
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

    def _reply_subject(self) -> str:
        return f"{self._inbox_prefix}.{next(self._tokens)}"

    # The synchronous face.

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a coroutine on the link's loop and wait for its result.

        A bare lock, released by the task itself as it ends: every save and read crosses
        threads here, and this costs about half of `run_coroutine_threadsafe`'s concurrent
        future and condition variable, and a loop turn less than a done callback (measured
        by `make bench`). Concurrent callers share one wake-up of the loop.
        """
        if self._closed:
            coro.close()
            raise ProgrammingError("the event log connection is closed")
        finished = threading.Lock()
        finished.acquire()
        outcome: list[Any] = []  # [result] or [None, exception]

        async def call() -> None:
            try:
                outcome.append(await coro)
            except asyncio.CancelledError:
                outcome[:] = [None, ProgrammingError("the event log connection was closed")]
                raise
            except BaseException as e:
                outcome[:] = [None, e]
            finally:
                finished.release()

        self._submit(lambda: self._start_task(call()))
        if not finished.acquire(timeout=-1 if timeout is None else timeout):
            raise TimeoutError(f"the event log did not answer within {timeout}s")
        if len(outcome) == 2:
            raise outcome[1]
        result: T = outcome[0]
        return result

    def _submit(self, start: Callable[[], None]) -> None:
        self._submitted.append(start)
        with self._submit_lock:
            if self._wake_pending:
                return  # the wake-up already scheduled will find this one too
            self._wake_pending = True
        try:
            self._loop.call_soon_threadsafe(self._start_submitted)
        except BaseException:
            with self._submit_lock:
                self._wake_pending = False
            raise

    def _start_submitted(self) -> None:
        with self._submit_lock:
            self._wake_pending = False  # anything submitted from here on wakes the loop again
        while self._submitted:
            self._submitted.popleft()()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Start a coroutine on the link's loop and return at once, from any thread: for
        work whose caller does not wait (it handles its own failures). Started in the order
        spawned, on the same cheap wake-up as `run`."""
        if self._closed:
            coro.close()
            raise ProgrammingError("the event log connection is closed")

        self._submit(lambda: self._start_task(coro))

    def _start_task(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = self._loop.create_task(coro)
        self._spawned.add(task)  # the loop keeps only a weak reference
        task.add_done_callback(self._spawned.discard)

    async def run_async(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await a coroutine on the link's loop from another event loop, holding no thread."""
        if self._closed:
            coro.close()
            raise ProgrammingError("the event log connection is closed")
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    def call_soon(self, fn: Callable[[], Awaitable[None]]) -> None:
        asyncio.run_coroutine_threadsafe(fn(), self._loop)  # type: ignore[arg-type]

    def key_value(
        self, bucket: str, settings: StreamSettings, *, ttl: float | None = None
    ) -> KeyValue:
        """A key-value bucket kept like `settings`' stream (its storage and replicas), on this
        connection; created when it is missing. One value per key (history 1)."""
        config = KeyValueConfig(
            bucket=bucket,
            history=1,
            # Direct get, like the event streams: an auditor's raw read of every stream and
            # bucket (tests/messaging/test_privacy) reads buckets the same way.
            direct=True,
            ttl=ttl,
            replicas=settings.replicas,
            storage=StorageType.MEMORY if settings.storage == "memory" else StorageType.FILE,
        )

        async def open_bucket() -> KeyValue:
            js = self.nc.jetstream(timeout=self.request_timeout)
            try:
                return await js.key_value(config.bucket)
            except nats.js.errors.BucketNotFoundError:
                return await js.create_key_value(config)

        return self.run(open_bucket())

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
        # Calls still running (another thread's read, say) end now rather than wait forever.
        async def cancel_calls() -> None:
            calls = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for call in calls:
                call.cancel()
            await asyncio.gather(*calls, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(cancel_calls(), self._loop).result(timeout=5)
        except Exception as e:  # stopping must go on whatever the calls do
            log.debug("cancelling calls on close: %s", e)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()

    # JetStream API calls (run on the loop).

    async def api(self, subject: str, request: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A JetStream JSON API request; an error answer raises `JetStreamError`."""
        payload = json.dumps(request).encode() if request is not None else b""
        async with self._handover.call():
            msg = await self._answered(lambda: self._request(subject, payload, None), subject)
        answer: dict[str, Any] = json.loads(msg.data)
        error = answer.get("error")
        if error:
            raise JetStreamError(
                error.get("description", ""), error.get("err_code", 0), error.get("code", 0)
            )
        return answer

    async def _request(self, subject: str, payload: bytes, headers: dict[str, str] | None) -> Msg:
        """Publish with a reply subject on the link's own inbox and await the one answer.

        Lighter than nats-py's `request()` (no per-call inbox token, done callback or
        `wait_for` task), which is most of an append's cost on the loop.
        """
        reply = self._reply_subject()
        answer: asyncio.Future[Msg] = self._loop.create_future()

        def deliver(msg: Msg) -> None:
            if not answer.done():
                answer.set_result(msg)

        def expire() -> None:
            if not answer.done():
                answer.set_exception(TimeoutError())

        self._pending[reply] = deliver
        timer = self._loop.call_later(self.request_timeout, expire)
        try:
            await self.nc.publish(subject, payload, reply=reply, headers=headers)
            msg = await answer
        except TimeoutError as e:
            raise NoAnswer(
                f"NATS at {self.url} did not answer within {self.request_timeout}s"
            ) from e
        except nats.errors.MaxPayloadError as e:
            raise DataError(
                f"message of {len(payload)} bytes exceeds the server's limit of "
                f"{self.max_payload} bytes"
            ) from e
        except (nats.errors.ConnectionClosedError, nats.errors.OutboundBufferLimitError) as e:
            raise OperationalError(f"NATS connection to {self.url} unavailable: {e}") from e
        finally:
            timer.cancel()
            del self._pending[reply]
        return msg

    async def _answered(self, send: Callable[[], Awaitable[Msg]], subject: str) -> Msg:
        """`send()` again while no JetStream answers (status 503), until `request_timeout`.

        A stream has no leader for a moment while leadership moves (a lame-duck shutdown, a
        rolling upgrade); a 503 means nothing received the message, so sending it again can
        never record it twice.
        """
        deadline = self._loop.time() + self.request_timeout
        while True:
            msg = await send()
            if not (msg.headers and msg.headers.get("Status") == NO_RESPONDERS):
                return msg
            if self._closing or self._loop.time() + NO_LEADER_RETRY >= deadline:
                raise OperationalError(
                    f"no JetStream answered on {subject} within {self.request_timeout}s "
                    f"(is JetStream enabled on {self.url}, and has the stream a leader?)"
                )
            await asyncio.sleep(NO_LEADER_RETRY)

    async def append(
        self, messages: Sequence[Outgoing], *, confirm_in: str | None = None
    ) -> list[int]:
        """Append messages atomically; returns their stream sequences.

        One message is a plain publish; more use an atomic batch, whose commit is the only
        message that is acknowledged. A failed concurrency check raises `IntegrityError`; a
        missing acknowledgement raises `OperationalError` (the append may or may not be
        recorded; a retry of the same version is refused by the concurrency check, so it can
        never be recorded twice).

        With `confirm_in` (the stream, when it is replicated) a lost answer is looked into
        first: a stream leader that steps down drops the proposals it has not replicated yet,
        answering nothing. If the last message is on its subject the append was recorded; if
        the subject is still where every message's check expects it, nothing was, and the
        append is sent once more (the checks make a double impossible).
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
        checked = all(m.expected_last_subject_seq is not None for m in messages)
        try:
            return self._sequences(await self._send(messages), len(messages))
        except NoAnswer as lost:
            if confirm_in is None or not checked:
                raise
            return await self._confirm(confirm_in, messages, lost)

    async def _send(self, messages: Sequence[Outgoing]) -> Msg:
        async with self._handover.call():
            return await self._answered(lambda: self._publish(messages), messages[-1].subject)

    @staticmethod
    def _sequences(reply: Msg, count: int) -> list[int]:
        plain = _PLAIN_ACK.fullmatch(reply.data)  # most answers: parsed without json
        if plain is not None:
            last_seq = int(plain[1])
            return list(range(last_seq - count + 1, last_seq + 1))
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
        return list(range(last_seq - count + 1, last_seq + 1))

    async def _confirm(
        self, stream: str, messages: Sequence[Outgoing], lost: NoAnswer
    ) -> list[int]:
        """Whether an unanswered append was recorded; sent once more when it was not."""
        last = messages[-1]

        async def recorded() -> list[int] | None:
            stored = await self.last_on_subject(stream, last.subject)
            if stored is not None and stored.payload == last.payload:
                return list(range(stored.seq - len(messages) + 1, stored.seq + 1))
            if (stored.seq if stored else 0) != last.expected_last_subject_seq:
                raise lost  # the subject moved on without it: a concurrent writer, or unknown
            return None

        try:
            found = await recorded()
            if found is not None:
                return found
            log.info("an append to %s was not answered nor recorded: sending it again", stream)
            try:
                return self._sequences(await self._send(messages), len(messages))
            except IntegrityError:
                # The first send landed after all, just before the second.
                found = await recorded()
                if found is None:
                    raise
                return found
        except NoAnswer:
            raise lost from None
        except OperationalError as e:
            if e is lost:
                raise
            raise lost from e

    async def _publish(self, messages: Sequence[Outgoing]) -> Msg:
        """Publish an append's messages (a new batch id each time); the last one's answer is
        the append's."""
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
            return await self._request(messages[last].subject, messages[last].payload, headers)
        except (nats.errors.ConnectionClosedError, nats.errors.OutboundBufferLimitError) as e:
            raise OperationalError(f"NATS connection to {self.url} unavailable: {e}") from e

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
        """Read up to `limit` messages with one direct batch get (`next_by_subj` etc.).

        The read times out only when no answer has come for `request_timeout`. A stream whose
        replicas do not answer direct gets yet (just created, or electing a leader) answers
        503: the read is sent again until `request_timeout`.
        """
        deadline = self._loop.time() + self.request_timeout
        while True:
            status, description, messages = await self._read_batch_once(stream, request, limit)
            late = self._closing or self._loop.time() + NO_LEADER_RETRY >= deadline
            if status != NO_RESPONDERS or late:
                break
            await asyncio.sleep(NO_LEADER_RETRY)
        if status not in END_OF_BATCH:
            raise OperationalError(f"direct get on {stream} failed: {status} {description}")
        found: list[StoredMessage] = []
        for msg in messages:
            headers = msg.headers or {}
            found.append(
                StoredMessage(
                    seq=int(headers["Nats-Sequence"]),
                    subject=headers["Nats-Subject"],
                    payload=msg.data,
                    headers=headers,
                )
            )
        return found

    async def _read_batch_once(
        self, stream: str, request: Mapping[str, Any], limit: int
    ) -> tuple[str, str, list[Msg]]:
        reply = self._reply_subject()
        batch = _BatchRead(self._loop.create_future())
        self._pending[reply] = batch
        seen = -1

        def watch() -> None:
            nonlocal seen
            if batch.done.done():
                return
            if len(batch.messages) == seen:
                batch.done.set_exception(TimeoutError())
                return
            seen = len(batch.messages)
            timers.append(self._loop.call_later(self.request_timeout, watch))

        timers = [self._loop.call_later(0, watch)]
        try:
            body = json.dumps({**request, "batch": limit}).encode()
            async with self._handover.call():
                await self.nc.publish(f"$JS.API.DIRECT.GET.{stream}", body, reply=reply)
                status, description = await batch.done
        except TimeoutError as e:
            raise OperationalError(
                f"NATS at {self.url} did not finish a read within {self.request_timeout}s"
            ) from e
        finally:
            timers[-1].cancel()
            del self._pending[reply]
        return status, description, batch.messages


def _parse_headers(raw: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in raw.decode(errors="replace").split("\r\n")[1:]:
        if ":" in line:
            key, _, value = line.partition(":")
            headers[key.strip()] = value.strip()
    return headers
