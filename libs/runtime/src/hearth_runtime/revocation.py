"""Revoked sessions: accounts whose unexpired session tokens a service no longer honours.

A session token is valid until it expires; its lifetime must not be the only defence. When
identity erases an account, every service stops honouring that account's sessions within
about a second: each service's follower of identity declares `REVOKING_TOPICS` among its
topics, and the one follower loop (`FollowingApplication.process`) records a `Revocation` for
the account in the service's own stream, atomically with the tracking record. Identity records
its own when it erases. The access interceptor asks `Revocations.reason` after it has verified
a token, and a revoked account's call answers UNAUTHENTICATED (reason SESSION_REVOKED).

A revocation is read from the service's own store, so every instance of a service sees the
one its follower recorded: a revoked account is remembered for good, an account not revoked is
asked again after `RECHECK` seconds. Safety's suspensions will come the same way (another
topic, another reason).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from typing import Any

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event

from hearth_eventlog.published import aggregate_name, decode_published, published
from hearth_proto.hearth.identity.v1 import events_pb2 as identity_events
from hearth_proto.hearth.runtime.v1 import events_pb2

NAMESPACE = uuid.UUID("0b6c1f4e-8a51-4f5e-9c3d-2e7a9d41c6b3")
ERASED = identity_events.AccountErased.DESCRIPTOR.full_name
# The upstream events that revoke an account's sessions, and why.
REVOKING_TOPICS = frozenset({ERASED})
RECHECK = 0.5  # seconds an account found not revoked is believed before the store is asked again
MAX_REMEMBERED = 100_000  # accounts found not revoked kept in memory at once


@aggregate_name("runtime.Revocation")
class Revocation(Aggregate):
    """One account's sessions are no longer honoured by this service."""

    @staticmethod
    def create_id(account_id: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"revocation/{account_id}")

    @published(events_pb2.SessionsRevoked)
    class Revoked(Aggregate.Created):
        account_id: str
        reason: str

    @event(Revoked)
    def __init__(self, account_id: str, reason: str) -> None:
        self.account_id = account_id
        self.reason = reason


def revoking(topic: str, state: bytes) -> tuple[str, str] | None:
    """The (account, reason) an upstream event revokes, if it revokes one."""
    if topic not in REVOKING_TOPICS:
        return None
    message = decode_published(topic, state)
    if isinstance(message, identity_events.AccountErased) and message.account_id:
        return message.account_id, "erased"
    return None


class Revocations:
    """The revocations recorded in one application's store, as the access check reads them."""

    def __init__(self, app: Application[Any], *, recheck: float = RECHECK) -> None:
        self.app = app
        self.recheck = recheck
        self._lock = threading.Lock()
        self._revoked: dict[str, str] = {}
        self._not_revoked: OrderedDict[str, float] = OrderedDict()  # account -> checked at

    def new(self, account_id: str, reason: str) -> Revocation | None:
        """The record to save for a revocation, or None when the account is revoked already."""
        if self._stored(account_id) is not None:
            return None
        return Revocation(account_id, reason)

    def saved(self, revocation: Revocation) -> None:
        """Believe a revocation this instance has just recorded without asking the store."""
        with self._lock:
            self._revoked[revocation.account_id] = revocation.reason
            self._not_revoked.pop(revocation.account_id, None)

    def reason(self, account_id: str) -> str | None:
        """Why the account's sessions are revoked; None while they are honoured."""
        known, reason = self.cached(account_id)
        if known:
            return reason
        found = self._stored(account_id)
        with self._lock:
            if found is not None:
                self._revoked[account_id] = found
                self._not_revoked.pop(account_id, None)
            else:
                self._not_revoked[account_id] = time.monotonic()
                self._not_revoked.move_to_end(account_id)
                while len(self._not_revoked) > MAX_REMEMBERED:
                    self._not_revoked.popitem(last=False)
        return found

    def cached(self, account_id: str) -> tuple[bool, str | None]:
        """(known without the store, the reason): an async caller asks the store only when the
        answer is not known."""
        with self._lock:
            if account_id in self._revoked:
                return True, self._revoked[account_id]
            checked = self._not_revoked.get(account_id)
            if checked is not None and time.monotonic() - checked < self.recheck:
                return True, None
        return False, None

    def _stored(self, account_id: str) -> str | None:
        try:
            revocation: Revocation = self.app.repository.get(Revocation.create_id(account_id))
        except AggregateNotFoundError:
            return None
        return revocation.reason
