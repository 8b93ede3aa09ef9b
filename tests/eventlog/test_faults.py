"""nats-server killed (SIGKILL) in the middle of a stream of appends, then restarted.

Every acknowledged append must be present exactly once, none twice, every unacknowledged one
must have raised a clear error to its caller, and the recorder must carry on afterwards.
"""

from __future__ import annotations

import threading
import time
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError, OperationalError, StoredEvent
from eventsourcing.utils import Environment

from hearth_eventlog import NatsFactory, read_trail, verify_chain
from hearth_runtime.embedded_nats import EmbeddedNats
from tests.conftest import unique_name

CRASHES = 3
APPENDS_BETWEEN = 150


class Writer:
    """Appends the next version of a few aggregates in a loop, noting every outcome."""

    def __init__(self, factory: NatsFactory) -> None:
        self.recorder = factory.application_recorder()
        self.aggregates = [uuid4() for _ in range(4)]
        self.next_version = dict.fromkeys(self.aggregates, 1)
        self.acked: list[tuple[UUID, int]] = []
        self.failed: list[tuple[UUID, int, Exception]] = []
        self.taken_after_failure: list[tuple[UUID, int]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            aggregate = self.aggregates[i % len(self.aggregates)]
            i += 1
            version = self.next_version[aggregate]
            event = StoredEvent(aggregate, version, "noted", f"{aggregate}:{version}".encode())
            try:
                self.recorder.insert_events([event])
            except IntegrityError:
                # Only possible when an earlier, unacknowledged attempt did land.
                self.taken_after_failure.append((aggregate, version))
                self.next_version[aggregate] = version + 1
            except OperationalError as e:
                self.failed.append((aggregate, version, e))
                time.sleep(0.05)
            else:
                self.acked.append((aggregate, version))
                self.next_version[aggregate] = version + 1

    def wait_for(self, count: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acked) < count:
            assert time.monotonic() < deadline, f"only {len(self.acked)} of {count} acked"
            time.sleep(0.01)


def test_sigkill_mid_appends_loses_and_duplicates_nothing(own_nats: EmbeddedNats) -> None:
    env = Environment(unique_name("fault"), {"NATS_URL": own_nats.url, "HEARTH_NATS_TIMEOUT": "1"})
    factory = NatsFactory(env)
    writer = Writer(factory)
    writer.thread.start()
    try:
        for crash in range(CRASHES):
            writer.wait_for(APPENDS_BETWEEN * (crash + 1))
            own_nats.kill()
            # Down longer than HEARTH_NATS_TIMEOUT, so an append does fail (a short outage
            # the link rides out proves nothing about failed appends).
            time.sleep(1.5)
            own_nats.start()
        writer.wait_for(APPENDS_BETWEEN * (CRASHES + 1))
    finally:
        writer.stop.set()
        writer.thread.join(timeout=30)

    recorder = writer.recorder
    stored = recorder.select_notifications(None, 1_000_000)
    pairs = [(n.originator_id, n.originator_version) for n in stored]
    assert len(pairs) == len(set(pairs)), "no append is recorded twice"
    missing = set(writer.acked) - set(pairs)
    assert not missing, f"{len(missing)} acknowledged appends were lost"
    assert writer.failed, "the crashes made some appends fail"
    for _aggregate, _version, error in writer.failed:
        message = str(error)
        assert "NATS" in message and ("did not answer" in message or "unavailable" in message)
    # Every failure either left nothing, or its event is recorded once (and then refused).
    for aggregate, version in writer.taken_after_failure:
        assert pairs.count((aggregate, version)) == 1
    for aggregate in writer.aggregates:
        versions = [v for a, v in pairs if a == aggregate]
        assert versions == list(range(1, len(versions) + 1)), "versions are contiguous"
        assert verify_chain(read_trail(recorder, aggregate)).events == len(versions)
    # The recorder carries on after the crashes.
    recorder.insert_events([StoredEvent(uuid4(), 1, "after", b"a")])
    factory.close()
