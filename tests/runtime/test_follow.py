"""The one follower loop: declared event types, sparse tracking, dead letters, health, waiting.

A stand-in upstream ("ledger") is written raw, so each test picks its event types; the
follower ("tally") acts on `Credited`, passes over `Noted`, cannot handle `Poison` and never
declares `Other`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any, ClassVar
from uuid import UUID

import grpc
import pytest
from eventsourcing.application import ProcessingEvent
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import Environment
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hearth_eventlog import PERSISTENCE, NatsFactory, TracedNotification
from hearth_eventlog.link import STREAM_NOT_FOUND, JetStreamError
from hearth_runtime.application import FollowingApplication
from hearth_runtime.config import RuntimeConfig
from hearth_runtime.dead_letters import DeadLetter
from hearth_runtime.follow import FollowSettings, StreamFollower
from hearth_runtime.server import ServiceHost, ServiceParts
from hearth_runtime.sessions import SessionVerifier
from tests.conftest import stream_environ, unique_name
from tests.support.polling import wait_for

CREDITED, NOTED, POISON, OTHER = "test.Credited", "test.Noted", "test.Poison", "test.Other"
QUIET = FollowSettings(track_every=1000, track_idle=60.0)


class Credit(Aggregate):
    @event("Recorded")
    def __init__(self, upstream_id: int) -> None:
        self.upstream_id = upstream_id


class Tally(FollowingApplication):
    name = "tally"
    topics: ClassVar[frozenset[str] | None] = frozenset({CREDITED, NOTED, POISON})

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env)
        self.seen: list[str] = []

    def policy(
        self, upstream: str, notification: TracedNotification, processing: ProcessingEvent[UUID]
    ) -> None:
        self.seen.append(notification.topic)
        if notification.topic == POISON:
            raise ValueError("cannot read this event")
        if notification.topic == CREDITED:
            processing.collect_events(Credit(notification.id))

    def credits(self) -> int:
        found = self.recorder.select_notifications(start=None, limit=10_000)
        return sum(1 for n in found if n.topic.endswith("Credit.Recorded"))

    def tracking_records(self) -> int:
        recorder = self.process_recorder
        link, settings = recorder.link, recorder.settings
        info = link.run(
            link.api(
                f"$JS.API.STREAM.INFO.{settings.stream}",
                {"subjects_filter": f"{settings.tracking_subject}.>"},
            )
        )
        subjects: dict[str, int] = info["state"].get("subjects") or {}
        return sum(subjects.values())


class Ledger:
    """The upstream, written raw: each call appends events of the given topics."""

    def __init__(self, env: dict[str, str]) -> None:
        self.factory = NatsFactory(Environment("ledger", env))
        self.last = 0

    def append(self, *topics: str) -> int:
        ids = self.factory.application_recorder().insert_events(
            [StoredEvent(uuid.uuid4(), 1, topic, b"{}") for topic in topics]
        )
        assert ids
        self.last = max(ids)
        return self.last

    def close(self) -> None:
        self.factory.close()


@pytest.fixture
def env(nats_url: str) -> dict[str, str]:
    return {
        **stream_environ(unique_name("f"), "ledger", "tally"),
        "NATS_URL": nats_url,
        **PERSISTENCE,
        # The test's own `Credit` has no protobuf schema: the tally stores it as eventsourcing does.
        "TALLY_MAPPER_TOPIC": "eventsourcing.persistence:Mapper",
    }


@pytest.fixture
def ledger(env: dict[str, str]) -> Iterator[Ledger]:
    upstream = Ledger(env)
    yield upstream
    upstream.close()


@pytest.fixture
def follow(env: dict[str, str]) -> Iterator[Callable[..., tuple[Tally, StreamFollower]]]:
    running: list[tuple[Tally, StreamFollower]] = []

    def start(
        settings: FollowSettings = QUIET, app_class: type[Tally] = Tally
    ) -> tuple[Tally, StreamFollower]:
        app = app_class(env)
        follower = StreamFollower(app, "ledger", env, settings=settings)
        follower.start()
        running.append((app, follower))
        return app, follower

    yield start
    for app, follower in running:
        follower.stop()
        app.close()


def test_only_declared_events_reach_the_policy_and_no_op_events_record_nothing(
    ledger: Ledger, follow: Callable[..., tuple[Tally, StreamFollower]]
) -> None:
    ledger.append(*[OTHER] * 20, *[NOTED] * 12)
    tally, follower = follow()
    follower.wait_until(ledger.last)
    assert tally.seen == [NOTED] * 12
    assert tally.tracking_records() == 0
    ledger.append(OTHER, CREDITED, OTHER)
    follower.wait_until(ledger.last)
    assert tally.seen == [NOTED] * 12 + [CREDITED]
    assert (tally.credits(), tally.tracking_records()) == (1, 1)  # the effect's own record


def test_positions_without_an_effect_are_recorded_every_n_events_or_after_quiet(
    ledger: Ledger, follow: Callable[..., tuple[Tally, StreamFollower]]
) -> None:
    tally, follower = follow(FollowSettings(track_every=10, track_idle=0.5))
    ledger.append(*[NOTED] * 50)
    follower.wait_until(ledger.last)
    every_ten = tally.tracking_records()
    assert 1 <= every_ten <= 5  # not one per event
    ledger.append(NOTED, NOTED, NOTED)
    wait_for(lambda: tally.position("ledger") == ledger.last, timeout=15)  # recorded once quiet
    assert tally.tracking_records() == every_ten + 1


def test_a_restart_may_see_no_op_events_again_but_never_repeats_an_effect(
    ledger: Ledger, follow: Callable[..., tuple[Tally, StreamFollower]]
) -> None:
    ledger.append(CREDITED, NOTED, NOTED, NOTED)
    second = ledger.append(CREDITED)
    ledger.append(NOTED, NOTED)
    tally, follower = follow()
    follower.wait_until(ledger.last)
    follower.stop()
    assert tally.credits() == 2
    assert tally.position("ledger") == second  # the no-op events after it are not recorded

    again, follower = follow()
    follower.wait_until(ledger.last)
    assert again.seen == [NOTED, NOTED]  # seen again: harmless
    assert again.credits() == 2
    ledger.append(CREDITED)
    follower.wait_until(ledger.last)
    assert again.credits() == 3


def test_a_poison_event_is_recorded_as_a_dead_letter_and_the_follower_carries_on(
    ledger: Ledger, follow: Callable[..., tuple[Tally, StreamFollower]]
) -> None:
    poison = ledger.append(NOTED, POISON)
    ledger.append(CREDITED)
    tally, follower = follow()
    follower.wait_until(ledger.last)
    assert tally.credits() == 1
    letter = DeadLetter("ledger", poison, POISON, "ValueError: cannot read this event")
    assert tally.dead_letters("ledger") == [letter]
    assert follower.state().dead_letters == 1
    assert follower.running
    follower.stop()

    again, follower = follow()  # recorded with its position: not taken in twice
    follower.wait_until(ledger.last)
    assert again.seen == [] and again.dead_letters("ledger") == [letter]
    assert follower.state().dead_letters == 1


def test_a_batch_that_meets_a_poison_event_is_taken_in_one_event_at_a_time(
    ledger: Ledger, follow: Callable[..., tuple[Tally, StreamFollower]]
) -> None:
    ledger.append(CREDITED, CREDITED, POISON, CREDITED)
    tally, follower = follow(FollowSettings(batch=10, linger=0.2))
    follower.wait_until(ledger.last)
    assert tally.credits() == 3
    assert [d.topic for d in tally.dead_letters("ledger")] == [POISON]


class Unrecordable(Tally):
    """Its dead letters cannot be recorded either: the follower has nowhere left to go."""

    def record_dead_letter(
        self, upstream: str, notification: TracedNotification, error: BaseException
    ) -> Any:
        raise RuntimeError("the dead letters cannot be written")


def host_of(env: dict[str, str], follower: StreamFollower) -> ServiceHost:
    config = RuntimeConfig.from_env("tally", {**env, "HEARTH_GRPC_PORT": "0"})
    parts = ServiceParts(
        name="tally",
        servicers=[],
        service_names=["test.Tally"],
        rules={},
        followers=[follower],
    )
    return ServiceHost(config, parts, SessionVerifier({}))


def check(host: ServiceHost, service: str = "") -> tuple[int, dict[str, str]]:
    with grpc.insecure_channel(host.address) as channel:
        response, call = health_pb2_grpc.HealthStub(channel).Check.with_call(
            health_pb2.HealthCheckRequest(service=service), timeout=5
        )
        return response.status, dict(call.trailing_metadata())


def test_health_counts_dead_letters_and_turns_not_serving_when_a_follower_stops(
    env: dict[str, str], ledger: Ledger
) -> None:
    serving, not_serving = (
        health_pb2.HealthCheckResponse.SERVING,
        health_pb2.HealthCheckResponse.NOT_SERVING,
    )
    tally = Tally(env)
    host = host_of(env, StreamFollower(tally, "ledger", env, settings=QUIET)).start()
    try:
        ledger.append(POISON, CREDITED)
        host.parts.followers[0].wait_until(ledger.last)
        status, details = check(host)
        assert (status, details["hearth-dead-letters"]) == (serving, "1")
        status, details = check(host, "hearth.follow.ledger")
        assert (status, details["hearth-follow-position"]) == (serving, str(ledger.last))
    finally:
        host.stop(grace=0)
        tally.close()

    broken = Unrecordable({**env, "HEARTH_TALLY_STREAM": f"{env['HEARTH_TALLY_STREAM']}_B"})
    follower = StreamFollower(broken, "ledger", env, settings=QUIET)
    host = host_of(env, follower).start()
    try:
        wait_for(lambda: not follower.running, timeout=15)
        assert check(host)[0] == not_serving
        assert check(host, "test.Tally")[0] == not_serving
        assert check(host, "hearth.follow.ledger")[0] == not_serving
    finally:
        host.stop(grace=0)
        broken.close()


def test_a_follower_waits_for_its_upstream_stream_and_never_creates_it(
    env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hearth_runtime.follow")
    tally = Tally(env)
    follower = StreamFollower(tally, "ledger", env, settings=QUIET)
    host = host_of(env, follower).start()
    try:
        wait_for(lambda: follower.state().waiting_for_stream, timeout=15)
        link = tally.process_recorder.link
        with pytest.raises(JetStreamError) as missing:
            link.run(link.api(f"$JS.API.STREAM.INFO.{env['HEARTH_LEDGER_STREAM']}"))
        assert missing.value.err_code == STREAM_NOT_FOUND
        assert "waiting for it to appear" in caplog.text
        status, details = check(host, "hearth.follow.ledger")
        assert status == health_pb2.HealthCheckResponse.SERVING  # waiting is no fault
        assert "hearth-follow-waiting" in details

        ledger = Ledger(env)  # the upstream's own service starts, later
        try:
            ledger.append(CREDITED)
            follower.wait_until(ledger.last, timeout=20)
            assert tally.credits() == 1 and not follower.state().waiting_for_stream
            assert "hearth-follow-waiting" not in check(host, "hearth.follow.ledger")[1]
        finally:
            ledger.close()
    finally:
        host.stop(grace=0)
        tally.close()


def test_a_follower_reads_the_upstream_as_it_is_and_never_reconfigures_it(
    env: dict[str, str], ledger: Ledger, follow: Callable[..., tuple[Tally, StreamFollower]]
) -> None:
    ledger.append(CREDITED)  # the ledger's stream: one replica
    # The follower's process is told the ledger has three; a creator would refuse or change it.
    env["HEARTH_LEDGER_STREAM_REPLICAS"] = "3"
    tally, follower = follow()
    follower.wait_until(ledger.last)
    assert tally.credits() == 1
    link = tally.process_recorder.link
    info = link.run(link.api(f"$JS.API.STREAM.INFO.{env['HEARTH_LEDGER_STREAM']}"))
    assert info["config"]["num_replicas"] == 1
