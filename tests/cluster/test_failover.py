"""The event log on a three-node JetStream cluster when its stream leader dies or steps down.

Several writers save through connections that list all three servers. Killing the leader
(SIGKILL) must lose no acknowledged save and record none twice; saves that were not
acknowledged raise a clear error; the concurrency check still refuses a stale writer; writing
carries on once a new leader is elected (5-9 s). A lame-duck shutdown must fail no save. An
atomic save of several aggregates racing the leader change is all or nothing. The killed node,
restarted, catches up until the stream has three current replicas again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from hearth_eventlog import NatsFactory, read_trail, verify_chain
from tests.cluster.support import (
    Cluster,
    Writer,
    cluster_env,
    first_ack_after,
    lame_duck,
    stored,
)
from tests.conftest import unique_name
from tests.support.polling import wait_for

pytestmark = pytest.mark.slow
WRITERS = 3
BEFORE = 100  # acknowledged saves per writer before the leader goes
AFTER = 100  # and after


@pytest.fixture
def factories() -> Iterator[list[NatsFactory]]:
    made: list[NatsFactory] = []
    yield made
    for factory in made:
        factory.close()


def start_writers(
    cluster: Cluster, factories: list[NatsFactory], together: int = 1
) -> tuple[NatsFactory, list[Writer]]:
    """One factory (connection) per writer, each on its own aggregates of one new stream."""
    name = unique_name("app")
    factories.extend(NatsFactory(cluster_env(name, cluster.url)) for _ in range(WRITERS))
    writers = [Writer(f, together=together).start() for f in factories]
    return factories[0], writers


def check_nothing_lost_or_doubled(
    factory: NatsFactory, writers: list[Writer]
) -> list[tuple[UUID, int]]:
    pairs = stored(factory)
    assert len(pairs) == len(set(pairs)), "no save is recorded twice"
    acked = {p for w in writers for p in w.acked}
    missing = acked - set(pairs)
    assert not missing, f"{len(missing)} acknowledged saves were lost"
    for writer in writers:
        for pair in writer.taken_after_failure:
            assert pairs.count(pair) == 1
        for aggregate in writer.aggregates:
            versions = [v for a, v in pairs if a == aggregate]
            assert versions == list(range(1, len(versions) + 1)), "versions are contiguous"
            trail = read_trail(factory.application_recorder(), aggregate)
            assert verify_chain(trail).events == len(versions)
    return pairs


def test_leader_killed_mid_saves_loses_nothing_and_the_node_catches_up(
    cluster: Cluster, factories: list[NatsFactory]
) -> None:
    factory, writers = start_writers(cluster, factories)
    stream = factory.settings.stream
    try:
        for w in writers:
            w.wait_for(BEFORE)
        wait_for(lambda: cluster.current_replicas(stream) == 3, 10, "three replicas")
        leader = cluster.leader(stream)
        killed_at = time.monotonic()
        leader.kill()
        failover = first_ack_after(writers, killed_at)
        for w in writers:
            w.wait_for(len(w.acked) + AFTER)
    finally:
        for w in writers:
            w.finish()
    print(f"cluster failover: first save acknowledged {failover:.1f}s after the leader's kill")
    assert 1.0 < failover < 20.0, "a new leader is elected in seconds (5-9 s expected)"
    assert cluster.leader(stream) is not leader

    pairs = check_nothing_lost_or_doubled(factory, writers)
    failures = [e for w in writers for _, e in w.failed]
    assert failures, "saves in flight at the kill were not acknowledged"
    for error in failures:
        message = str(error)
        assert "NATS" in message or "JetStream" in message, message
    # A stale writer (one that read version 1 of an aggregate now at a later version) is refused.
    aggregate = writers[0].aggregates[0]
    assert writers[0].next_version[aggregate] > 2
    with pytest.raises(IntegrityError):
        writers[0].recorder.insert_events([StoredEvent(aggregate, 2, "stale", b"stale")])
    # The restarted node catches up: three current replicas holding every save.
    leader.start()
    caught_up = lambda: cluster.current_replicas(stream, no_lag=True) == 3  # noqa: E731
    wait_for(caught_up, 60, "three current replicas")
    info = cluster.stream_info(stream)
    assert info["state"]["messages"] == len(pairs)
    assert info["config"]["num_replicas"] == 3
    # And writing carries on through the whole cluster again.
    writers[0].recorder.insert_events([StoredEvent(uuid4(), 1, "after", b"a")])


def test_lame_duck_leader_fails_no_save(cluster: Cluster, factories: list[NatsFactory]) -> None:
    factory, writers = start_writers(cluster, factories)
    stream = factory.settings.stream
    try:
        for w in writers:
            w.wait_for(BEFORE)
        leader = cluster.leader(stream)
        lame_duck(leader)
        # Leadership moves at once; the lame duck closes its clients over its duration, exits.
        wait_for(lambda: cluster.leader(stream) is not leader, 30, "leadership moved")
        assert leader.process is not None
        leader.process.wait(timeout=60)
        for w in writers:
            w.wait_for(len(w.acked) + AFTER)
    finally:
        for w in writers:
            w.finish()
    check_nothing_lost_or_doubled(factory, writers)
    failures = [str(e) for w in writers for _, e in w.failed]
    assert not failures, f"{len(failures)} saves failed in a lame-duck shutdown: {failures[:3]}"


def test_atomic_multi_aggregate_save_racing_the_leader_change_is_all_or_nothing(
    cluster: Cluster, factories: list[NatsFactory]
) -> None:
    factory, writers = start_writers(cluster, factories, together=3)
    stream = factory.settings.stream
    try:
        for w in writers:
            w.wait_for(BEFORE * 3)
        leader = cluster.leader(stream)
        killed_at = time.monotonic()
        leader.kill()
        first_ack_after(writers, killed_at)
        for w in writers:
            w.wait_for(len(w.acked) + AFTER)
    finally:
        for w in writers:
            w.finish()
    pairs = set(check_nothing_lost_or_doubled(factory, writers))
    assert any(w.failed for w in writers), "some saves raced the leader change"
    for writer in writers:
        for save in writer.saves:
            recorded = [pair in pairs for pair in save]
            assert all(recorded) or not any(recorded), f"a save was split: {save} {recorded}"
    leader.start()
