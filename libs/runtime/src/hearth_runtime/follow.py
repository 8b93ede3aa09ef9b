"""Following another service's stream: the only way services hear of each other."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping

from eventsourcing.persistence import IntegrityError, OperationalError
from eventsourcing.utils import Environment

from hearth_eventlog import NatsFactory, NatsSubscription, TracedNotification

from .application import FollowingApplication
from .telemetry import continue_trace

log = logging.getLogger(__name__)


class StreamFollower:
    """Feeds an upstream application's notifications to a `FollowingApplication`, in order.

    It resumes after the follower's recorded position; a conflict (another instance recorded
    the same position) or a lost connection restarts it from the recorded position again.
    """

    def __init__(
        self,
        follower: FollowingApplication,
        upstream: str,
        nats_url: str,
        upstream_env: Mapping[str, str] | None = None,
    ) -> None:
        self.follower = follower
        self.upstream = upstream
        env = {**(upstream_env or {}), "NATS_URL": nats_url}
        self._factory = NatsFactory(Environment(upstream, env))
        self._stop = threading.Event()
        self._subscription: NatsSubscription | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"follow-{upstream}-{follower.name}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._subscription is not None:
            self._subscription.stop()
        self._thread.join(timeout)
        self._factory.close()

    def wait_until(self, notification_id: int, timeout: float = 10.0) -> None:
        """Block until the follower has processed the upstream up to `notification_id`."""
        self.follower.process_recorder.wait(self.upstream, notification_id, timeout=timeout)

    def _run(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                self._follow()
                backoff = 0.1
            except IntegrityError as e:
                log.info("follower %s: %s; resuming from its record", self.follower.name, e)
            except OperationalError as e:
                log.warning("follower %s: %s; retrying in %.1fs", self.follower.name, e, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def _follow(self) -> None:
        recorder = self._factory.application_recorder()
        start = self.follower.position(self.upstream)
        subscription = recorder.subscribe(gt=start)
        assert isinstance(subscription, NatsSubscription)
        self._subscription = subscription
        with subscription:
            for notification in subscription:
                if self._stop.is_set():
                    return
                assert isinstance(notification, TracedNotification)
                with continue_trace(
                    f"follow {self.upstream} {notification.topic}",
                    notification.trace_context,
                    follower=self.follower.name,
                    upstream=self.upstream,
                    notification_id=notification.id,
                ):
                    self.follower.process(self.upstream, notification)
