"""Optimistic concurrency: racing writers, atomic saves, read-your-writes, subscriptions."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from eventsourcing.utils import Environment

from hearth_eventlog import NatsFactory, read_trail, verify_chain
from tests.conftest import unique_name
from tests.eventlog.racers import race
from tests.eventlog.support import fresh_env, isolated_app_env

VERSIONS = 25


def test_racing_threads_exactly_one_writer_wins_each_version(nats_url: str) -> None:
    env = fresh_env(nats_url)
    factories = [NatsFactory(env) for _ in range(6)]
    aggregate = uuid4()
    barrier = threading.Barrier(len(factories))
    wins: list[list[int]] = [[] for _ in factories]

    def writer(i: int) -> None:
        recorder = factories[i].application_recorder()
        for version in range(1, VERSIONS + 1):
            barrier.wait(timeout=30)
            try:
                recorder.insert_events([StoredEvent(aggregate, version, "raced", b"x")])
            except IntegrityError:
                continue
            wins[i].append(version)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(len(factories))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        all_wins = sorted(v for w in wins for v in w)
        assert all_wins == list(range(1, VERSIONS + 1)), "each version won exactly once"
        recorder = factories[0].application_recorder()
        stored = recorder.select_events(aggregate)
        assert [e.originator_version for e in stored] == list(range(1, VERSIONS + 1))
        assert verify_chain(read_trail(recorder, aggregate)).events == VERSIONS
    finally:
        for f in factories:
            f.close()


def test_racing_processes_exactly_one_writer_wins_each_version(nats_url: str) -> None:
    app_name = unique_name("race")
    aggregate = uuid4()
    ctx = multiprocessing.get_context("spawn")
    writers = 4
    with ctx.Manager() as manager:
        barrier = manager.Barrier(writers)
        with ProcessPoolExecutor(writers, mp_context=ctx) as pool:
            futures = [
                pool.submit(race, nats_url, app_name, str(aggregate), VERSIONS, barrier)
                for _ in range(writers)
            ]
            wins = [f.result(timeout=180) for f in futures]
    assert sorted(v for w in wins for v in w) == list(range(1, VERSIONS + 1))
    check = NatsFactory(Environment(app_name, {"NATS_URL": nats_url}))
    try:
        recorder = check.application_recorder()
        stored = recorder.select_events(aggregate)
        assert [e.originator_version for e in stored] == list(range(1, VERSIONS + 1))
        verify_chain(read_trail(recorder, aggregate))
    finally:
        check.close()


def test_conflict_in_one_aggregate_records_nothing_of_the_save(nats_url: str) -> None:
    env = fresh_env(nats_url)
    first, second = NatsFactory(env), NatsFactory(env)
    try:
        existing, fresh = uuid4(), uuid4()
        writer = first.application_recorder()
        writer.insert_events([StoredEvent(existing, 1, "made", b"a")])
        before = writer.max_notification_id()

        # A second process that has not seen `existing` saves it again beside a new one.
        stale = second.application_recorder()
        with pytest.raises(IntegrityError):
            stale.insert_events(
                [
                    StoredEvent(fresh, 1, "made", b"b"),
                    StoredEvent(fresh, 2, "changed", b"c"),
                    StoredEvent(existing, 1, "made", b"again"),
                ]
            )
        assert stale.select_events(fresh) == []
        assert writer.max_notification_id() == before
        assert [e.state for e in writer.select_events(existing)] == [b"a"]
    finally:
        first.close()
        second.close()


def test_tracking_conflict_records_none_of_the_events(nats_url: str) -> None:
    env = fresh_env(nats_url)
    first, second = NatsFactory(env), NatsFactory(env)
    try:
        one = first.process_recorder()
        one.insert_events([StoredEvent(uuid4(), 1, "t", b"1")], tracking=Tracking("up", 5))
        other = second.process_recorder()  # has not seen position 5
        lost = uuid4()
        with pytest.raises(IntegrityError):
            other.insert_events([StoredEvent(lost, 1, "t", b"2")], tracking=Tracking("up", 5))
        assert other.select_events(lost) == []
        assert other.max_tracking_id("up") == 5
        other.insert_events([StoredEvent(lost, 1, "t", b"2")], tracking=Tracking("up", 6))
        assert one.max_tracking_id("up") == 6
    finally:
        first.close()
        second.close()


class Counter(Aggregate):
    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    @event("Incremented")
    def increment(self) -> None:
        self.count += 1


def test_application_save_of_two_aggregates_is_atomic(nats_url: str) -> None:
    app = Application[UUID](env=isolated_app_env(nats_url, "Application"))
    a, b = Counter("a"), Counter("b")
    app.save(a, b)
    current_b: Counter = app.repository.get(b.id)
    current_b.increment()
    app.save(current_b)
    # A save of `a` together with a stale copy of `b` must record neither.
    a_now: Counter = app.repository.get(a.id)
    a_now.increment()
    stale_b: Counter = app.repository.get(b.id, version=1)
    stale_b.increment()
    with pytest.raises(IntegrityError):
        app.save(a_now, stale_b)
    assert app.repository.get(a.id).count == 0, "a's change was not recorded"
    assert app.repository.get(b.id).count == 1
    app.close()


def test_read_your_writes_and_subscribe_from_any_position(nats_url: str) -> None:
    factory = NatsFactory(fresh_env(nats_url))
    try:
        recorder = factory.application_recorder()
        ids = [uuid4() for _ in range(30)]
        for i, originator in enumerate(ids):
            recorder.insert_events([StoredEvent(originator, 1, "t", str(i).encode())])
            assert recorder.select_events(originator)[0].state == str(i).encode()
        with recorder.subscribe(gt=20) as subscription:
            got = []
            for n in subscription:
                got.append(n)
                if len(got) == 10:
                    break
            assert [n.id for n in got] == list(range(21, 31))
            recorder.insert_events([StoredEvent(uuid4(), 1, "late", b"l")])
            late = next(subscription)
            assert (late.id, late.topic) == (31, "late")
        with recorder.subscribe() as everything:
            assert next(everything).id == 1
    finally:
        factory.close()
