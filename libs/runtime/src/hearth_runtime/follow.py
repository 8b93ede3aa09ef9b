"""Following another service's stream: the only way services hear of each other.

One loop for every follower, each on its own thread:
- it opens the upstream stream read-only (never creating or changing it; if the stream does
  not exist yet, it waits for it, saying so in the log) and subscribes, from its recorded
  position, to the event types its application declares (`FollowingApplication.topics`);
- it hands the notifications to the application's policy, one at a time or in batches
  (`FollowSettings.batch`, `linger`); what the policy changes is recorded atomically with the
  tracking record of the last notification;
- a notification that changes nothing records nothing: the position is recorded only after
  `track_every` upstream sequences or `track_idle` quiet seconds, so a restart may see a few
  no-op events again but never repeats an effect;
- an event the policy cannot handle (any exception but a write conflict or an outage) is
  recorded as a dead letter, logged and counted, and the follower carries on past it;
- a conflict (another instance recorded the same position) or an outage restarts it from the
  recorded position; anything else stops the thread, and the service's health says so
  (`ServiceHost` watches every follower).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from eventsourcing.persistence import IntegrityError, OperationalError

from hearth_eventlog import Env, NatsFactory, NatsSubscription, StreamMissing, TracedNotification

from .application import FollowingApplication

log = logging.getLogger(__name__)
MAX_BACKOFF = 5.0


@dataclass(frozen=True)
class FollowSettings:
    """How a follower takes in events and how often it records a position with no effect."""

    track_every: int = 1000  # upstream sequences passed with no effect before recording one
    track_idle: float = 5.0  # quiet seconds after a no-op event before recording its position
    batch: int = 1  # notifications handed to the policy at once (a batch-aware policy only)
    linger: float = 0.0  # seconds a partial batch waits for more

    @classmethod
    def from_env(cls, env: Env, *, batch: int = 1, linger: float = 0.0) -> FollowSettings:
        """`HEARTH_<SERVICE>_FOLLOW_TRACK_EVERY` and `_TRACK_IDLE` (or `HEARTH_FOLLOW_...`)."""
        return cls(
            track_every=env.whole("HEARTH_FOLLOW_TRACK_EVERY", cls.track_every, minimum=1),
            track_idle=env.seconds("HEARTH_FOLLOW_TRACK_IDLE", cls.track_idle),
            batch=batch,
            linger=linger,
        )


@dataclass(frozen=True)
class FollowerState:
    """What a follower reports to the service's health."""

    upstream: str
    running: bool
    waiting_for_stream: bool
    position: int  # the upstream notification id everything up to which is taken in
    dead_letters: int


class StreamFollower:
    """Feeds an upstream application's notifications to a `FollowingApplication`, in order."""

    def __init__(
        self,
        follower: FollowingApplication,
        upstream: str,
        environ: Mapping[str, str],
        *,
        settings: FollowSettings | None = None,
    ) -> None:
        self.follower = follower
        self.upstream = upstream
        self.settings = settings or FollowSettings()
        if self.settings.batch < 1 or self.settings.track_every < 1:
            raise ValueError("a follower's batch and track_every are at least 1")
        declared = "topics" in dir(type(follower))
        topics = type(follower).topics if declared else frozenset()
        if topics is not None and not topics:
            raise TypeError(
                f"{type(follower).__name__} declares no upstream event types (its `topics`)"
            )
        self.topics: tuple[str, ...] = () if topics is None else tuple(sorted(topics))
        self._upstream = NatsFactory.upstream(upstream, environ)
        self.stream = self._upstream.settings.stream
        self._stop = threading.Event()
        self._subscription: NatsSubscription | None = None
        self._progress = threading.Condition()
        self._position = 0
        self._dead_letters = 0
        self._waiting = False
        self._watchers: list[Callable[[StreamFollower], None]] = []
        self._thread = threading.Thread(
            target=self._run, name=f"follow-{upstream}-{follower.name}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._subscription is not None:
            self._subscription.stop()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._upstream.close()

    def watch(self, callback: Callable[[StreamFollower], None]) -> None:
        """Call `callback` (on the follower's thread) if it ever stops other than by `stop()`."""
        self._watchers.append(callback)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def state(self) -> FollowerState:
        with self._progress:
            return FollowerState(
                upstream=self.upstream,
                running=self.running,
                waiting_for_stream=self._waiting,
                position=self._position,
                dead_letters=self._dead_letters,
            )

    def wait_until(self, notification_id: int, timeout: float = 10.0) -> None:
        """Block until the follower has taken in the upstream up to `notification_id`."""
        with self._progress:
            reached = self._progress.wait_for(
                lambda: self._position >= notification_id or not self.running, timeout
            )
            if not reached or self._position < notification_id:
                state = "stopped" if not self.running else f"at {self._position}"
                raise TimeoutError(
                    f"follower of {self.upstream} did not reach {notification_id} ({state})"
                )

    def _advance(self, position: int) -> None:
        with self._progress:
            if position > self._position:
                self._position = position
                self._progress.notify_all()

    # The loop.

    def _run(self) -> None:
        backoff = 0.1
        try:
            while not self._stop.is_set():
                try:
                    self._follow()
                    backoff = 0.1
                except StreamMissing as e:
                    if not self._waiting:
                        log.warning(
                            "follower %s: %s (%s's stream); waiting for it to appear",
                            self.follower.name,
                            e,
                            self.upstream,
                        )
                        with self._progress:
                            self._waiting = True
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF)
                except IntegrityError as e:
                    log.info("follower %s: %s; resuming from its record", self.follower.name, e)
                except OperationalError as e:
                    log.warning(
                        "follower %s: %s; retrying in %.1fs", self.follower.name, e, backoff
                    )
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF)
        except BaseException:
            log.exception("follower %s of %s stopped", self.follower.name, self.upstream)
        finally:
            with self._progress:
                self._progress.notify_all()  # waiters see it stopped
            if not self._stop.is_set():
                for watcher in self._watchers:
                    watcher(self)

    def _follow(self) -> None:
        recorder = self._upstream.application_recorder()  # StreamMissing until it exists
        if self._waiting:
            log.info("follower %s: %s appeared; following it", self.follower.name, self.stream)
            with self._progress:
                self._waiting = False
        recorded = self.follower.position(self.upstream) or 0
        with self._progress:
            self._dead_letters = len(self.follower.dead_letters(self.upstream))
        self._advance(recorded)
        subscription = recorder.subscribe(gt=recorded or None, topics=self.topics)
        assert isinstance(subscription, NatsSubscription)
        self._subscription = subscription
        if self._stop.is_set():
            subscription.stop()  # stop() came before there was a subscription to stop
        settings = self.settings
        batch: list[TracedNotification] = []
        batch_due = 0.0  # when a partial batch is taken in
        quiet_since: float | None = None  # set while a no-op event's position is unrecorded
        with subscription:
            while not self._stop.is_set():
                now = time.monotonic()
                if batch:
                    timeout: float | None = max(0.0, batch_due - now)
                elif quiet_since is not None:
                    timeout = max(0.0, quiet_since + settings.track_idle - now)
                else:
                    timeout = None
                notification = subscription.poll(timeout)
                if self._stop.is_set() or subscription.stopped:
                    return
                now = time.monotonic()
                if notification is not None:
                    if not batch:
                        batch_due = now + settings.linger
                    batch.append(notification)
                    if quiet_since is not None:
                        quiet_since = now
                if batch and (len(batch) >= settings.batch or now >= batch_due):
                    taken, batch = batch, []
                    effect = self._take_in(taken)
                    if effect is not None:
                        recorded = effect
                    quiet_since = None if effect == taken[-1].id else now
                if batch:
                    continue
                covered = subscription.covered
                if covered > recorded and (
                    covered - recorded >= settings.track_every
                    or (quiet_since is not None and now - quiet_since >= settings.track_idle)
                ):
                    self.follower.record_position(self.upstream, covered)
                    recorded, quiet_since = covered, None
                self._advance(covered)

    def _take_in(self, batch: Sequence[TracedNotification]) -> int | None:
        """Hand `batch` to the policy; the last position recorded with an effect, if any."""
        try:
            if self.follower.process(self.upstream, batch):
                return batch[-1].id
            return None
        except (IntegrityError, OperationalError):
            raise
        except Exception as error:
            if len(batch) == 1:
                self._dead_letter(batch[0], error)
                return batch[0].id
            log.warning(
                "follower %s: a batch of %d %s events failed (%s); taking them one at a time",
                self.follower.name,
                len(batch),
                self.upstream,
                error,
            )
            recorded = None
            for notification in batch:
                recorded = self._take_in([notification]) or recorded
            return recorded

    def _dead_letter(self, notification: TracedNotification, error: Exception) -> None:
        letter = self.follower.record_dead_letter(self.upstream, notification, error)
        with self._progress:
            self._dead_letters += 1
        log.error(
            "follower %s: %s event %d (%s) is a dead letter, passed over: %s",
            self.follower.name,
            self.upstream,
            notification.id,
            notification.topic,
            letter.error,
            exc_info=error,
        )
