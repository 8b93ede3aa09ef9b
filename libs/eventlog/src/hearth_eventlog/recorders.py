"""eventsourcing recorders on NATS JetStream.

One stream per application. Each aggregate's events live on their own subject
(`<prefix>.events.<aggregate>`), snapshots on `<prefix>.snapshots.<aggregate>`, and each
follower's position on `<prefix>.tracking.<upstream>`. Notification ids are stream sequences.

Optimistic concurrency rides on `Nats-Expected-Last-Subject-Sequence`: the recorder keeps the
head (last sequence, version, hash) of the subjects it has read or written, so an append is
one round trip; when its knowledge is stale the server refuses, the recorder reads the head
from the stream leader, and either retries (it had merely not seen the subject) or raises
`IntegrityError` (another writer took that version).

Over 400 lines because the aggregate, application and tracking recorders share the one
head-of-subject bookkeeping above, and splitting them would scatter the concurrency rule.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    IntegrityError,
    Notification,
    ProcessRecorder,
    StoredEvent,
    Subscription,
    Tracking,
    TrackingRecorder,
)
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy
from opentelemetry import propagate, trace

from .link import JetStreamLink, Outgoing, StoredMessage
from .records import (
    TracedNotification,
    decode_event,
    decode_notification,
    decode_record,
    decode_tracking,
    encode_event,
    encode_tracking,
    event_hash,
    notification_of,
    originator_token,
    subject_token,
)
from .settings import StreamSettings

tracer = trace.get_tracer("hearth_eventlog")
HEAD_CACHE_SIZE = 100_000
READ_PAGE = 1000
TRACE_HEADERS = ("traceparent", "tracestate")


@dataclass(frozen=True)
class Head:
    """What the recorder knows of a subject's last message."""

    seq: int
    version: int  # originator version, or notification id for tracking subjects
    digest: bytes = b""


EMPTY = Head(seq=0, version=-1)


class NatsRecorder:
    """State shared by every recorder: the link, the settings, the heads it knows."""

    def __init__(self, link: JetStreamLink, settings: StreamSettings) -> None:
        self.link = link
        self.settings = settings
        self._heads: OrderedDict[str, Head] = OrderedDict()
        self._heads_lock = threading.Lock()
        self._seen_seq = 0  # highest sequence written or read, for read-your-writes

    def _head(self, subject: str) -> Head | None:
        with self._heads_lock:
            head = self._heads.get(subject)
            if head is not None:
                self._heads.move_to_end(subject)
            return head

    def _remember(self, subject: str, head: Head | None) -> None:
        with self._heads_lock:
            if head is None:
                self._heads.pop(subject, None)
                return
            self._heads[subject] = head
            self._heads.move_to_end(subject)
            while len(self._heads) > HEAD_CACHE_SIZE:
                self._heads.popitem(last=False)
            self._seen_seq = max(self._seen_seq, head.seq)

    def _read_head(self, subject: str, tracking: bool) -> Head:
        """The subject's head as the stream leader has it."""
        message = self.link.run(self.link.last_on_subject(self.settings.stream, subject))
        if message is None:
            head = EMPTY
        elif tracking:
            head = Head(message.seq, decode_tracking(message.payload).notification_id)
        else:
            record = decode_record(message.payload)
            head = Head(message.seq, record.originator_version, event_hash(message.payload))
        self._remember(subject, head)
        return head

    def _read_subject(self, subject: str) -> list[StoredMessage]:
        """Every message on one subject, in order, seeing this recorder's own writes."""
        found: list[StoredMessage] = []
        start = 1
        while True:
            request: dict[str, Any] = {"seq": start, "next_by_subj": subject}
            if self._seen_seq:
                request["min_last_seq"] = self._seen_seq
            page = self.link.run(self.link.read_batch(self.settings.stream, request, READ_PAGE))
            found.extend(page)
            if len(page) < READ_PAGE:
                return found
            start = page[-1].seq + 1

    def _insert(
        self, subject_base: str, stored_events: Sequence[StoredEvent], tracking: Tracking | None
    ) -> list[int]:
        groups: dict[str, list[StoredEvent]] = {}
        for event in stored_events:
            groups.setdefault(f"{subject_base}.{originator_token(event.originator_id)}", []).append(
                event
            )
        for subject, events in groups.items():
            versions = [e.originator_version for e in events]
            if any(b <= a for a, b in itertools.pairwise(versions)):
                raise IntegrityError(f"versions {versions} on {subject} are not increasing")
        tracking_subject = (
            f"{self.settings.tracking_subject}.{subject_token(tracking.application_name)}"
            if tracking
            else None
        )
        if not tracing_installed():
            # No SDK: a span would record nothing, but the caller's context still travels.
            return self._append(groups, tracking, tracking_subject, len(stored_events))
        with tracer.start_as_current_span(
            f"eventlog.append {self.settings.stream}", kind=trace.SpanKind.PRODUCER
        ) as span:
            span.set_attribute("messaging.system", "nats")
            span.set_attribute("messaging.destination.name", self.settings.stream)
            span.set_attribute("messaging.batch.message_count", len(stored_events))
            return self._append(groups, tracking, tracking_subject, len(stored_events))

    def _append(
        self,
        groups: dict[str, list[StoredEvent]],
        tracking: Tracking | None,
        tracking_subject: str | None,
        event_count: int,
    ) -> list[int]:
        headers: dict[str, str] = {}
        propagate.inject(headers)
        # At most one refresh per subject: after it, a refusal is a real conflict.
        for _attempt in range(len(groups) + 2):
            heads = {s: self._head(s) or EMPTY for s in groups}
            tracking_head = (self._head(tracking_subject) if tracking_subject else None) or EMPTY
            self._check_known(groups, heads, tracking, tracking_head)
            messages, new_heads = self._outgoing(groups, heads, headers)
            if tracking and tracking_subject:
                messages.append(
                    Outgoing(
                        tracking_subject,
                        encode_tracking(tracking.application_name, tracking.notification_id),
                        tracking_head.seq,
                    )
                )
            try:
                # A replicated stream's leader can change under a save: look into lost answers.
                confirm = self.settings.stream if self.settings.replicas > 1 else None
                seqs = self.link.run(self.link.append(messages, confirm_in=confirm))
            except IntegrityError:
                if not self._refresh(groups, heads, tracking_subject, tracking_head):
                    raise
                continue
            except BaseException:
                for subject in [*groups, *([tracking_subject] if tracking_subject else [])]:
                    self._remember(subject, None)  # outcome unknown: read next time
                raise
            self._record_heads(groups, new_heads, seqs, tracking, tracking_subject)
            return seqs[:event_count]
        raise IntegrityError("concurrent appends kept moving the heads of this save")

    @staticmethod
    def _check_known(
        groups: dict[str, list[StoredEvent]],
        heads: dict[str, Head],
        tracking: Tracking | None,
        tracking_head: Head,
    ) -> None:
        for subject, events in groups.items():
            if events[0].originator_version <= heads[subject].version:
                raise IntegrityError(
                    f"version {events[0].originator_version} of {subject} is already recorded"
                )
        if tracking and tracking.notification_id <= tracking_head.version:
            raise IntegrityError(
                f"tracking {tracking.application_name} at {tracking.notification_id} is not "
                f"beyond the recorded position {tracking_head.version}"
            )

    @staticmethod
    def _outgoing(
        groups: dict[str, list[StoredEvent]], heads: dict[str, Head], headers: dict[str, str]
    ) -> tuple[list[Outgoing], dict[str, Head]]:
        messages: list[Outgoing] = []
        new_heads: dict[str, Head] = {}
        for subject, events in groups.items():
            previous = heads[subject].digest
            for i, event in enumerate(events):
                payload = encode_event(event, previous)
                previous = event_hash(payload)
                messages.append(
                    Outgoing(subject, payload, heads[subject].seq if i == 0 else None, headers)
                )
            new_heads[subject] = Head(0, events[-1].originator_version, previous)
        return messages, new_heads

    def _refresh(
        self,
        groups: dict[str, list[StoredEvent]],
        heads: dict[str, Head],
        tracking_subject: str | None,
        tracking_head: Head,
    ) -> bool:
        """After a refusal: read the true heads; True when stale knowledge explains it."""
        changed = False
        for subject in groups:
            fresh = self._read_head(subject, tracking=False)
            changed |= fresh != heads[subject]
        if tracking_subject:
            changed |= self._read_head(tracking_subject, tracking=True) != tracking_head
        return changed

    def _record_heads(
        self,
        groups: dict[str, list[StoredEvent]],
        new_heads: dict[str, Head],
        seqs: list[int],
        tracking: Tracking | None,
        tracking_subject: str | None,
    ) -> None:
        position = 0
        for subject, events in groups.items():
            position += len(events)
            head = new_heads[subject]
            self._remember(subject, Head(seqs[position - 1], head.version, head.digest))
        if tracking and tracking_subject:
            self._remember(tracking_subject, Head(seqs[-1], tracking.notification_id))


class NatsAggregateRecorder(NatsRecorder, AggregateRecorder):
    """Aggregate events (or snapshots) on per-aggregate subjects."""

    def __init__(
        self, link: JetStreamLink, settings: StreamSettings, purpose: str = "events"
    ) -> None:
        super().__init__(link, settings)
        self.subject_base = (
            settings.snapshots_subject if purpose == "snapshots" else settings.events_subject
        )

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        self._insert(self.subject_base, stored_events, None)
        return None

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        subject = f"{self.subject_base}.{originator_token(originator_id)}"
        messages = self._read_subject(subject)
        if messages:
            last = messages[-1]
            record = decode_record(last.payload)
            self._remember(
                subject, Head(last.seq, record.originator_version, event_hash(last.payload))
            )
        events = [decode_event(m.payload) for m in messages]
        events = [
            e
            for e in events
            if (gt is None or e.originator_version > gt)
            and (lte is None or e.originator_version <= lte)
        ]
        if desc:
            events.reverse()
        return events[:limit] if limit is not None else events


class NatsApplicationRecorder(NatsAggregateRecorder, ApplicationRecorder):
    """Aggregate events plus the application sequence: the stream itself."""

    def __init__(self, link: JetStreamLink, settings: StreamSettings) -> None:
        super().__init__(link, settings, "events")

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        return self._insert(self.subject_base, stored_events, kwargs.get("tracking"))

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        first = 1 if start is None else (start if inclusive_of_start else start + 1)
        first = max(first, 1)
        found: list[Notification] = []
        wildcard = f"{self.subject_base}.>"
        while len(found) < limit and (stop is None or first <= stop):
            request: dict[str, Any] = {"seq": first, "next_by_subj": wildcard}
            if self._seen_seq:
                request["min_last_seq"] = self._seen_seq
            page_size = min(max(limit - len(found), 1) if not topics else READ_PAGE, READ_PAGE)
            page = self.link.run(self.link.read_batch(self.settings.stream, request, page_size))
            for message in page:
                if stop is not None and message.seq > stop:
                    return found
                notification = decode_notification(
                    message.seq, message.payload, _trace_context(message.headers)
                )
                if topics and notification.topic not in topics:
                    continue
                found.append(notification)
                if len(found) == limit:
                    return found
            if len(page) < page_size:
                return found
            first = page[-1].seq + 1
        return found

    def max_notification_id(self) -> int | None:
        message = self.link.run(
            self.link.last_on_subject(self.settings.stream, f"{self.subject_base}.>")
        )
        if message is None:
            return None
        self._seen_seq = max(self._seen_seq, message.seq)
        return message.seq

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        return NatsSubscription(self, gt=gt, topics=topics)


class NatsTrackingRecorder(NatsRecorder, TrackingRecorder):
    """A follower's position per upstream application, on its own subjects."""

    def insert_tracking(self, tracking: Tracking) -> None:
        self._insert(self.settings.events_subject, [], tracking)

    def max_tracking_id(self, application_name: str) -> int | None:
        subject = f"{self.settings.tracking_subject}.{subject_token(application_name)}"
        head = self._read_head(subject, tracking=True)
        return None if head is EMPTY else head.version


class NatsProcessRecorder(NatsTrackingRecorder, NatsApplicationRecorder, ProcessRecorder):
    """Events recorded atomically with the tracking record of what caused them."""

    def __init__(self, link: JetStreamLink, settings: StreamSettings) -> None:
        NatsApplicationRecorder.__init__(self, link, settings)


class NatsSubscription(Subscription[ApplicationRecorder]):
    """`subscribe()`: an ordered push consumer from a position, with a blocking iterator.

    With `topics`, only notifications of those topics are handed over; the others are decoded
    far enough to be passed over. `covered` is the stream sequence up to which every
    notification has been handed over or passed over, so a follower can record how far it has
    read without seeing the events it does not act on.
    """

    def __init__(
        self,
        recorder: NatsApplicationRecorder,
        gt: int | None = None,
        topics: Sequence[str] = (),
    ) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._link = recorder.link
        self._topic_set = frozenset(topics)
        # Bursts of notifications, each with the last stream sequence it covers.
        self._ready: queue.SimpleQueue[_Burst | BaseException | None] = queue.SimpleQueue()
        self._batch: list[TracedNotification] = []
        self._seen = gt or 0  # on the loop: the last sequence delivered, handed over or not
        self._flushed = self._seen
        self._flush_scheduled = False
        self._current = _Burst([], self._seen)
        self._index = 0
        self.covered = self._seen
        self._nats_sub = self._link.run(
            self._start(recorder.settings.stream, f"{recorder.subject_base}.>", gt)
        )

    async def _start(self, stream: str, subject: str, gt: int | None) -> Any:
        js = self._link.nc.jetstream()
        if gt:
            config = ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=gt + 1
            )
        else:
            config = ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        return await js.subscribe(
            subject,
            stream=stream,
            ordered_consumer=True,
            config=config,
            cb=self._on_message,
            pending_msgs_limit=-1,
            pending_bytes_limit=-1,
        )

    async def _on_message(self, msg: Msg) -> None:
        seq = _stream_sequence(msg.reply)
        self._seen = seq
        if self._topic_set:
            record = decode_record(msg.data)
            if record.topic in self._topic_set:
                self._batch.append(
                    notification_of(seq, record, msg.data, _trace_context(msg.headers))
                )
        else:
            self._batch.append(decode_notification(seq, msg.data, _trace_context(msg.headers)))
        if not self._flush_scheduled:
            # Hand notifications over in bursts: one queue operation per burst, not per event.
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        batch, self._batch = self._batch, []
        if batch or self._seen > self._flushed:
            self._flushed = self._seen
            self._ready.put(_Burst(batch, self._seen))

    def __next__(self) -> Notification:
        while True:
            notification = self.poll(None)
            if notification is not None:
                return notification
            if self._has_been_stopped:
                raise StopIteration

    @property
    def stopped(self) -> bool:
        return self._has_been_stopped

    def poll(self, timeout: float | None) -> TracedNotification | None:
        """The next notification, or None: when none came within `timeout` (None: no limit),
        when the subscription stopped, or when what came was all passed over (`covered`
        moved on)."""
        if self._index >= len(self._current.notifications):
            if self._has_been_stopped:
                return None
            try:
                item = self._ready.get(timeout=timeout)
            except queue.Empty:
                return None
            if item is None:
                return None
            if isinstance(item, BaseException):
                raise item
            self._current, self._index = item, 0
            if not item.notifications:
                self.covered = max(self.covered, item.through)
                return None
        if self._has_been_stopped:
            return None
        burst = self._current
        notification = burst.notifications[self._index]
        self._index += 1
        # Handed over with the last of its burst: whatever the burst passed over after it.
        last = self._index == len(burst.notifications)
        self.covered = max(notification.id, burst.through) if last else notification.id
        return notification

    def stop(self) -> None:
        if self._has_been_stopped:
            return
        super().stop()
        self._ready.put(None)
        sub = self._nats_sub

        async def unsubscribe() -> None:
            with contextlib.suppress(Exception):  # the connection may already be gone
                await sub.unsubscribe()

        with contextlib.suppress(RuntimeError):
            self._link.call_soon(unsubscribe)


@dataclass(frozen=True)
class _Burst:
    """Notifications handed over at once, and the last stream sequence they account for."""

    notifications: list[TracedNotification]
    through: int


_tracing_seen = [False, 0.0]  # an SDK once installed stays; its absence is re-checked


def tracing_installed() -> bool:
    """Whether an OpenTelemetry SDK is installed. It may come later, so its absence is
    looked into again at most once a second (the look reads the environment: a cost per
    save)."""
    if _tracing_seen[0]:
        return True
    now = time.monotonic()
    if now < _tracing_seen[1]:
        return False
    installed = not isinstance(
        trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider
    )
    _tracing_seen[:] = [installed, now + 1.0]
    return installed


def _stream_sequence(ack_subject: str) -> int:
    """The stream sequence in a JetStream ack subject, without `msg.metadata`'s full parse.

    `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>...` has 9 tokens; the newer form adds
    `<domain>.<account hash>` after `$JS.ACK`, and may end in a further token.
    """
    tokens = ack_subject.split(".")
    return int(tokens[5] if len(tokens) == 9 else tokens[7])


def _trace_context(headers: Any) -> tuple[tuple[str, str], ...]:
    if not headers or "traceparent" not in headers:  # no tracestate without a traceparent
        return ()
    return tuple((k, headers[k]) for k in TRACE_HEADERS if k in headers)


def read_trail(recorder: NatsAggregateRecorder, originator_id: UUID | str) -> list[bytes]:
    """The stored payloads of one aggregate, as `verify_chain` takes them."""
    subject = f"{recorder.subject_base}.{originator_token(originator_id)}"
    return [m.payload for m in recorder._read_subject(subject)]
