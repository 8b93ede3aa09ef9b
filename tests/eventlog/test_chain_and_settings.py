"""Hash chains detect tampering; streams are created strong or refused; errors are clear."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import nats
import pytest
from eventsourcing.persistence import DataError, OperationalError, StoredEvent
from eventsourcing.utils import Environment

from hearth_eventlog import (
    BrokenChainError,
    ConfigError,
    NatsFactory,
    StreamSettings,
    StreamSettingsError,
    read_trail,
    verify_chain,
)
from hearth_eventlog.records import decode_record
from hearth_runtime.embedded_nats import free_port
from tests.conftest import unique_name
from tests.eventlog.support import fresh_env


@pytest.fixture
def trail(nats_url: str) -> list[bytes]:
    factory = NatsFactory(fresh_env(nats_url))
    try:
        recorder = factory.application_recorder()
        aggregate = uuid4()
        recorder.insert_events([StoredEvent(aggregate, 1, "opened", b"o")])
        recorder.insert_events(
            [StoredEvent(aggregate, v, "noted", f"n{v}".encode()) for v in range(2, 6)]
        )
        return read_trail(recorder, aggregate)
    finally:
        factory.close()


def test_complete_trail_verifies(trail: list[bytes]) -> None:
    verified = verify_chain(trail)
    assert verified.events == 5
    assert decode_record(trail[0]).previous_hash == b""


def test_removed_event_is_detected(trail: list[bytes]) -> None:
    with pytest.raises(BrokenChainError, match="event 2"):
        verify_chain(trail[:2] + trail[3:])


def test_removed_first_event_is_detected(trail: list[bytes]) -> None:
    with pytest.raises(BrokenChainError, match="event 0"):
        verify_chain(trail[1:])


def test_altered_event_is_detected(trail: list[bytes]) -> None:
    record = decode_record(trail[2])
    record.state = b"rewritten"
    altered = [*trail[:2], record.SerializeToString(), *trail[3:]]
    with pytest.raises(BrokenChainError, match="event 3"):
        verify_chain(altered)


def test_reordered_events_are_detected(trail: list[bytes]) -> None:
    with pytest.raises(BrokenChainError):
        verify_chain([trail[0], trail[2], trail[1], *trail[3:]])


def test_existing_weaker_stream_is_reported_not_used(nats_url: str) -> None:
    env = fresh_env(nats_url)
    name = env.name.lower()

    async def create_weak_stream() -> None:
        nc = await nats.connect(nats_url)
        await nc.jetstream().add_stream(
            name=f"HEARTH_{name.upper()}", subjects=[f"hearth.{name}.>"], max_age=3600.0
        )
        await nc.close()

    asyncio.run(create_weak_stream())
    factory = NatsFactory(env)
    with pytest.raises(StreamSettingsError) as caught:
        factory.application_recorder()
    message = str(caught.value)
    assert "deny_delete is off" in message
    assert "deny_purge is off" in message
    assert "allow_atomic is off" in message
    assert "max_age" in message


def test_stream_is_created_append_only(nats_url: str) -> None:
    env = fresh_env(nats_url)
    factory = NatsFactory(env)
    try:
        recorder = factory.application_recorder()
        recorder.insert_events([StoredEvent(uuid4(), 1, "t", b"x")])
        stream = factory.settings.stream

        async def try_to_erase() -> tuple[dict[str, object], bytes, bytes]:
            nc = await nats.connect(nats_url)
            info = await nc.jetstream().stream_info(stream)
            delete = await nc.request(f"$JS.API.STREAM.MSG.DELETE.{stream}", b'{"seq":1}')
            purge = await nc.request(f"$JS.API.STREAM.PURGE.{stream}", b"")
            await nc.close()
            return info.config.as_dict(), delete.data, purge.data

        config, delete, purge = asyncio.run(try_to_erase())
        assert config["deny_delete"] and config["deny_purge"]
        assert b"error" in delete and b"error" in purge
        assert recorder.max_notification_id() == 1
    finally:
        factory.close()


def test_oversized_event_is_refused_clearly_and_nothing_recorded(nats_url: str) -> None:
    factory = NatsFactory(fresh_env(nats_url))
    try:
        recorder = factory.application_recorder()
        aggregate = uuid4()
        with pytest.raises(DataError, match="exceeds the NATS server's limit"):
            recorder.insert_events(
                [
                    StoredEvent(aggregate, 1, "small", b"s"),
                    StoredEvent(aggregate, 2, "huge", b"x" * (2 * 1024 * 1024)),
                ]
            )
        assert recorder.select_events(aggregate) == []
        assert recorder.max_notification_id() is None
    finally:
        factory.close()


def test_save_beyond_the_atomic_batch_limit_is_refused(nats_url: str) -> None:
    factory = NatsFactory(fresh_env(nats_url))
    try:
        recorder = factory.application_recorder()
        aggregate = uuid4()
        with pytest.raises(DataError, match="atomic batch limit of 1000"):
            recorder.insert_events([StoredEvent(aggregate, v, "t", b"") for v in range(1001)])
        assert recorder.select_events(aggregate) == []
    finally:
        factory.close()


def test_unreachable_server_gives_a_clear_error() -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    factory = NatsFactory(Environment(unique_name(), {"NATS_URL": url}))
    with pytest.raises(OperationalError, match=f"cannot reach NATS at {url}"):
        factory.application_recorder()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("HEARTH_STREAM_REPLICAS", "three", "not a whole number"),
        ("HEARTH_STREAM_REPLICAS", "9", "outside 1..5"),
        ("HEARTH_STREAM_STORAGE", "tape", "must be one of file, memory"),
        ("HEARTH_NATS_TIMEOUT", "-1", "must be positive"),
    ],
)
def test_malformed_settings_name_the_variable(key: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"{key}.*{message}"):
        NatsFactory(Environment("app", {key: value}))


def test_settings_are_read_per_application_with_shared_defaults() -> None:
    environ = {
        "HEARTH_STREAM_REPLICAS": "3",
        "HEARTH_IDENTITY_STREAM": "ID_EVENTS",
        "HEARTH_IDENTITY_SUBJECT_PREFIX": "ids",
        "HEARTH_AGE_STREAM_REPLICAS": "5",
    }
    identity = StreamSettings.from_env(environ, "identity")
    age = StreamSettings.from_env(environ, "age")
    assert (identity.stream, identity.subject_prefix, identity.replicas) == ("ID_EVENTS", "ids", 3)
    assert (age.stream, age.subject_prefix, age.replicas) == ("HEARTH_AGE", "hearth.age", 5)
    with pytest.raises(ConfigError, match=r"HEARTH_AGE_STREAM_REPLICAS=9 is outside 1\.\.5"):
        StreamSettings.from_env({"HEARTH_AGE_STREAM_REPLICAS": "9"}, "age")
    # The old, eventsourcing-prefixed form is refused by name rather than silently ignored.
    with pytest.raises(ConfigError, match="IDENTITY_HEARTH_STREAM is no longer read"):
        StreamSettings.from_env({"IDENTITY_HEARTH_STREAM": "OLD"}, "identity")
