"""Messaging's in-process caches, kept fresh across replicas by messaging's own stream.

Every replica of messaging serves from memory what the relay checks on each message: the
conversations (members), each account's settings (blocks, mutes) and contact facts (roles,
bands, house rules, the safety team's suspensions and blocks) and each organisation's record
keeper (with its open requests). Any replica may change them,
and only one replica's follower records a fact. So each replica follows its own service's
stream (`CacheFeed`, an ordered consumer from the stream's end when it starts) and, for every
recorded event of those aggregates, whoever recorded it, forgets the aggregate's entry if it
is older than that event: the next use reads it from the store. Absence is cached too, and
forgotten the same way when the aggregate's first event is recorded.

A value read from the store while an event arrived is not kept (`Fresh.get`), since it may
predate the event. Device owners are cached elsewhere without this: a device's owner never
changes. The send rate (`limits.TokenBucket`) is per replica by design.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from hearth_eventlog import NatsApplicationRecorder
from hearth_proto.hearth.messaging.v1 import events_pb2

log = logging.getLogger(__name__)
# The events of the cached aggregates (Conversation, AccountSettings, ContactFacts,
# RecordKeeping).
CACHED_TOPICS = frozenset(
    m.DESCRIPTOR.full_name
    for m in (
        events_pb2.ConversationStarted,
        events_pb2.ConversationMemberAdded,
        events_pb2.ConversationMemberLeft,
        events_pb2.AccountSettingsStarted,
        events_pb2.AccountBlocked,
        events_pb2.AccountUnblocked,
        events_pb2.ConversationMuted,
        events_pb2.ConversationUnmuted,
        events_pb2.ContactFactsStarted,
        events_pb2.ContactFactNoted,
        events_pb2.RecordKeeperDeclared,
        events_pb2.RecordsRequested,
        events_pb2.RecordsRequestAnswered,
    )
)
MAX_ENTRIES = 200_000  # aggregates remembered at once; past it the oldest are forgotten


class Fresh:
    """Aggregates (or their absence, None) by id, as recorded in the store."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._values: dict[UUID, Aggregate | None] = {}
        self._lock = threading.Lock()  # never held across I/O: the feed takes it too
        self._forgotten = 0  # how many forgets so far: a load that saw one keeps nothing

    def get(self, key: UUID, load: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._values:
                return self._values[key]
            before = self._forgotten
        value = load()
        with self._lock:
            if self._forgotten == before:  # nothing was recorded meanwhile that it may miss
                self._keep(key, value)
        return value

    def put(self, key: UUID, value: Aggregate) -> None:
        """This replica recorded `value`: keep it unless something newer is known."""
        with self._lock:
            held = self._values.get(key)
            if held is None or held.version <= value.version:
                self._keep(key, value)

    def forget(self, key: UUID, version: int | None = None) -> None:
        """The log has `version` of the aggregate (None: unknown): drop an older entry."""
        with self._lock:
            self._forgotten += 1
            if key not in self._values:
                return
            held = self._values[key]
            if version is None or held is None or held.version < version:
                del self._values[key]

    def clear(self) -> None:
        with self._lock:
            self._forgotten += 1
            self._values.clear()

    def _keep(self, key: UUID, value: Aggregate | None) -> None:
        self._values[key] = value
        while len(self._values) > self.max_entries:
            del self._values[next(iter(self._values))]


class CacheFeed:
    """Follows the service's own stream from its end, forgetting what other writers changed."""

    def __init__(self, recorder: NatsApplicationRecorder, cache: Fresh, name: str) -> None:
        self.cache = cache
        start = recorder.max_notification_id() or 0
        self._subscription = recorder.subscribe(gt=start, topics=sorted(CACHED_TOPICS))
        self._thread = threading.Thread(target=self._run, name=f"{name}-cache-feed", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for notification in self._subscription:
                key = notification.originator_id
                self.cache.forget(
                    key if isinstance(key, UUID) else UUID(key), notification.originator_version
                )
        except Exception:
            log.exception("the cache feed stopped: caches are cleared and no longer kept")
        finally:
            # Without the feed nothing would say an entry is stale: stop caching altogether.
            self.cache.max_entries = 0
            self.cache.clear()

    def stop(self) -> None:
        self._subscription.stop()
        self._thread.join(5)
