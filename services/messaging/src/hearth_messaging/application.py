"""The messaging application: prekey directory, policy-checked conversations, the relay.

It also follows identity's published events into `ContactFacts`, the contact policy's view
of every account. What the relay checks on every message is cached in memory, and kept fresh
across replicas by following messaging's own stream (`caches`); writes race through the event
log's concurrency checks, which surface here as retries or ALREADY_EXISTS. The servicer has
checked the shape of every field (ids are UUIDs) before a method here sees it.

The application is built in layers, one job to a module, each using the ones below it:
`follow` (identity's events, repository plumbing), `directory` (prekeys and devices),
`conversations` (contact policy, house rules, blocking and muting, the record keeper's
membership), `relay` (envelopes, with `limits`), `records` (the keeper's case records). This
module wires them together.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from hearth_crypto.franking import RelayKey
from hearth_eventlog import NatsFactory

from .caches import CacheFeed, Fresh
from .domain import ContactFacts
from .limits import RelayLimits, TokenBucket
from .mailbox import Mailboxes
from .policy import ContactPolicy
from .recording import RecordKeeping
from .records import Records


class Messaging(Records):
    name = "messaging"

    def __init__(
        self,
        env: Mapping[str, str] | None,
        *,
        mailboxes: Mailboxes,
        policy: ContactPolicy,
        relay_key: RelayKey,
        limits: RelayLimits,
        house_rules_version: int = 1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(env)
        self.mailboxes = mailboxes
        self.contact_policy = policy
        self.relay_key = relay_key
        self.limits = limits
        self.house_rules_version = house_rules_version
        self.rate = TokenBucket(limits.rate_per_second, limits.burst)
        self.clock = clock
        self._device_owner: dict[str, str] = {}
        self._cached = Fresh()
        self._cache_lock = threading.RLock()
        self._sender_locks: dict[str, threading.Lock] = {}
        self._pending_facts: dict[str, ContactFacts] = {}
        self._pending_conversations: list[str] = []
        self._pending_keepers: dict[str, RecordKeeping] = {}
        factory = self.factory
        assert isinstance(factory, NatsFactory)
        # The keeper's sealed records: ciphertext under keys only the keeper holds.
        self.record_store = factory.link.key_value(
            f"{factory.settings.stream}_RECORDS", factory.settings
        )
        self.record_link = factory.link
        self._cache_feed = CacheFeed(self.process_recorder, self._cached, self.name)

    def close(self) -> None:
        self._cache_feed.stop()
        super().close()
