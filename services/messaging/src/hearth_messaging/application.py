"""The messaging application: prekey directory, policy-checked conversations, the relay.

It also follows identity's published events into `ContactFacts`, the contact policy's view
of every account. Caches are per process: one messaging instance owns its aggregates (a
second instance would still be kept correct by the event log's concurrency checks, which
surface here as retries or ALREADY_EXISTS). The servicer has checked the shape of every
field (ids are UUIDs) before a method here sees it.

The application is built in layers, one job to a module, each using the ones below it:
`follow` (identity's events, repository plumbing), `directory` (prekeys and devices),
`conversations` (contact policy, house rules, blocking and muting), `relay` (envelopes,
with `limits`). This module wires them together.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from .domain import AccountSettings, ContactFacts, Conversation
from .limits import RelayLimits, TokenBucket
from .mailbox import Mailboxes
from .policy import ContactPolicy
from .relay import Relay


class Messaging(Relay):
    name = "messaging"

    def __init__(
        self,
        env: Mapping[str, str] | None,
        *,
        mailboxes: Mailboxes,
        policy: ContactPolicy,
        franking_key: bytes,
        limits: RelayLimits,
        house_rules_version: int = 1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(env)
        self.mailboxes = mailboxes
        self.contact_policy = policy
        self._franking_key = franking_key
        self.limits = limits
        self.house_rules_version = house_rules_version
        self.rate = TokenBucket(limits.rate_per_second, limits.burst)
        self.clock = clock
        self._device_owner: dict[str, str] = {}
        self._conversations: dict[str, Conversation] = {}
        self._settings: dict[str, AccountSettings | None] = {}
        self._facts: dict[str, ContactFacts | None] = {}
        self._cache_lock = threading.RLock()
        self._sender_locks: dict[str, threading.Lock] = {}
        self._pending_facts: dict[str, ContactFacts] = {}
