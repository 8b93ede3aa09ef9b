"""Event log throughput: appends and replays through the recorders, beside raw nats-py.

Every eventlog figure is measured through `NatsApplicationRecorder` directly (not
`Application.save`), so the numbers are the persistence module's own, not the mapper's.
Raw baselines run nats-py in pure asyncio on their own connection, against a stream made
with the same `stream_config`, sending the same bytes the recorder sends.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import nats
from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactory,
    StoredEvent,
)
from eventsourcing.utils import Environment

from hearth_eventlog import NatsApplicationRecorder, NatsFactory, StreamSettings
from hearth_eventlog.records import encode_event, originator_token
from hearth_eventlog.stream import stream_config
from tests.bench.report import Report, best_by, best_of

ROUNDS = 3  # best of: the machine is shared, and noise only ever slows a round down
SINGLE = 2_000  # one-event saves per round
WARMUP = 200  # saves before a round's clock starts: connections, caches, the stream's files
WRITERS = 8
PER_WRITER = 750
BATCH = 10
BATCH_SAVES = 300
REPLAY = 100_000
LOAD_BATCH = 1_000  # JetStream's atomic batch limit: the quickest way to load the replay stream
PAGE = 1_000
REPLAY_ROUNDS = 2  # each round reads the replay stream three ways
QUICK = {"ROUNDS": 1, "SINGLE": 100, "WARMUP": 10, "PER_WRITER": 50, "BATCH_SAVES": 20}
QUICK |= {"REPLAY": 2_000, "REPLAY_ROUNDS": 1}  # `--quick`: every figure once, small
TOPIC = "hearth_identity.domain:Member.Registered"
# A typical small event state: what the mapper makes of a few attributes.
STATE = json.dumps(
    {"timestamp": "2025-01-01T00:00:00+00:00", "role": "guardian", "request_id": "r" * 36}
).encode()
EVENTS_PER_S = "events/s"


def run(report: Report) -> None:
    """Append and replay figures, each after the baseline it is compared with."""
    url = report.nats_url
    append_single(report, url)
    append_concurrent(report, url)
    append_batch(report, url)
    replay(report, url)


# Appends.


def new_event(version: int = 1, originator: uuid.UUID | None = None) -> StoredEvent:
    return StoredEvent(originator or uuid.uuid4(), version, TOPIC, STATE)


@contextmanager
def nats_recorder(url: str, name: str) -> Iterator[NatsApplicationRecorder]:
    """An application recorder on a fresh stream of the bench's server."""
    factory = NatsFactory(_env(name, {"PERSISTENCE_MODULE": "hearth_eventlog", "NATS_URL": url}))
    try:
        yield factory.application_recorder()
    finally:
        factory.close()


@dataclass(frozen=True)
class Timed:
    """A round of operations: how many per second, and the CPU seconds this process spent
    on each (every thread: the recorder's loop thread too)."""

    rate: float
    cpu: float


@contextmanager
def timed(operations: int, into: list[Timed]) -> Iterator[None]:
    started, cpu = time.perf_counter(), time.process_time()
    yield
    elapsed, spent = time.perf_counter() - started, time.process_time() - cpu
    into.append(Timed(operations / elapsed, spent / operations))


def append_single(report: Report, url: str) -> None:
    env = _env("bench_raw", {"NATS_URL": url})
    settings = StreamSettings.from_env(env, env.name)
    with ExitStack() as stack:
        measures: dict[str, Callable[[], Timed]] = {
            "nats.publish.sync": lambda: asyncio.run(raw_publish(url, settings)),
        }
        eventlog = stack.enter_context(nats_recorder(url, "bench_single"))
        measures["eventlog.append.single"] = lambda: single_inserts(eventlog)
        sqlite = stack.enter_context(sqlite_recorder(report))
        measures["sqlite.append.single"] = lambda: single_inserts(sqlite)
        postgres = stack.enter_context(postgres_recorder(report))
        if postgres is not None:
            measures["postgres.append.single"] = lambda: single_inserts(postgres)
        best = best_by(ROUNDS, lambda t: t.rate, *measures.values())
        rounds = dict(zip(measures, best, strict=True))
    raw, appended = rounds.pop("nats.publish.sync"), rounds.pop("eventlog.append.single")
    report.figure("nats.publish.sync", raw.rate, EVENTS_PER_S)
    report.figure(
        "eventlog.append.single", appended.rate, EVENTS_PER_S, baseline="nats.publish.sync"
    )
    for name, other in rounds.items():
        report.figure(name, other.rate, EVENTS_PER_S)
    for name in rounds:
        report.compare("eventlog.append.single", name)
    # CPU per operation: steadier than a rate on a shared machine.
    report.figure("nats.cpu.us_per_publish", raw.cpu * 1e6, "us")
    report.figure(
        "eventlog.cpu.us_per_append", appended.cpu * 1e6, "us", baseline="nats.cpu.us_per_publish"
    )


async def raw_publish(url: str, settings: StreamSettings) -> Timed:
    """`js.publish` of one-event saves, each awaited before the next: the recorder's floor."""
    nc = await nats.connect(url)
    try:
        await nc.request(
            f"$JS.API.STREAM.CREATE.{settings.stream}",
            json.dumps(stream_config(settings)).encode(),
        )  # an answer that the stream exists already is fine: same config every round
        js = nc.jetstream()
        # What the recorder sends for version 1 of a new aggregate: the encoded record on the
        # aggregate's subject, checked against an empty subject (no trace context: no SDK).
        sends = []
        for _ in range(WARMUP + SINGLE):
            event = new_event()
            subject = f"{settings.events_subject}.{originator_token(event.originator_id)}"
            sends.append((subject, encode_event(event, b"")))
        headers = {"Nats-Expected-Last-Subject-Sequence": "0"}
        for subject, payload in sends[:WARMUP]:
            await js.publish(subject, payload, headers=headers)
        measured: list[Timed] = []
        with timed(SINGLE, measured):
            for subject, payload in sends[WARMUP:]:
                await js.publish(subject, payload, headers=headers)
        return measured[0]
    finally:
        await nc.drain()


def single_inserts(recorder: ApplicationRecorder) -> Timed:
    """One-event saves of new aggregates, one writer, after a warm-up."""
    events = [new_event() for _ in range(WARMUP + SINGLE)]
    for event in events[:WARMUP]:
        recorder.insert_events([event])
    measured: list[Timed] = []
    with timed(SINGLE, measured):
        for event in events[WARMUP:]:
            recorder.insert_events([event])
    return measured[0]


@contextmanager
def sqlite_recorder(report: Report) -> Iterator[ApplicationRecorder]:
    """eventsourcing's SQLite recorder on a file database in the bench's temp dir."""
    path = report.workdir / "bench.sqlite"
    factory = InfrastructureFactory.construct(
        _env("bench", {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)})
    )
    try:
        yield factory.application_recorder()
    finally:
        factory.close()


@contextmanager
def postgres_recorder(report: Report) -> Iterator[ApplicationRecorder | None]:
    """eventsourcing's PostgreSQL recorder in a schema of its own, dropped afterwards; None
    when no server answers."""
    if importlib.util.find_spec("psycopg_pool") is None:
        report.note(
            "postgres.append.single skipped: eventsourcing.postgres needs psycopg_pool, "
            "which is not among the workspace's dependencies"
        )
        yield None
        return
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    params = {
        "host": os.environ.get("POSTGRES_HOST", "127.0.0.1"),
        "port": os.environ.get("POSTGRES_PORT", "5432"),
        "user": os.environ.get("POSTGRES_USER", "postgres"),
        "password": os.environ.get("POSTGRES_PASSWORD", ""),
        "dbname": os.environ.get("POSTGRES_DBNAME", "test"),
    }
    schema = f"hearth_bench_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(make_conninfo(**params), connect_timeout=3, autocommit=True)
    except psycopg.Error as e:
        report.note(
            f"postgres.append.single skipped: no PostgreSQL at "
            f"{params['host']}:{params['port']} ({str(e).strip()})"
        )
        yield None
        return
    with admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            env = {f"POSTGRES_{key.upper()}": value for key, value in params.items()}
            factory = InfrastructureFactory.construct(
                _env(
                    "bench",
                    {
                        **env,
                        "PERSISTENCE_MODULE": "eventsourcing.postgres",
                        "POSTGRES_SCHEMA": schema,
                    },
                )
            )
            try:
                yield factory.application_recorder()
            finally:
                factory.close()
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def append_concurrent(report: Report, url: str) -> None:
    with nats_recorder(url, "bench_writers") as recorder:
        (best,) = best_by(ROUNDS, lambda t: t.rate, lambda: concurrent_inserts(recorder))
    name = f"eventlog.append.{WRITERS}writers"
    report.figure(name, best.rate, EVENTS_PER_S)
    report.compare(name, "eventlog.append.single")
    report.figure(
        f"eventlog.cpu.us_per_append.{WRITERS}writers",
        best.cpu * 1e6,
        "us",
        baseline="eventlog.cpu.us_per_append",
    )


def concurrent_inserts(recorder: ApplicationRecorder) -> Timed:
    """Writer threads sharing one recorder (as an application's request threads do), each
    saving its own new aggregates one event at a time; total events/s."""
    for _ in range(WARMUP):
        recorder.insert_events([new_event()])
    work = [[new_event() for _ in range(PER_WRITER)] for _ in range(WRITERS)]
    start = threading.Barrier(WRITERS + 1)
    failures: list[BaseException] = []

    def writer(events: list[StoredEvent]) -> None:
        start.wait()
        try:
            for event in events:
                recorder.insert_events([event])
        except BaseException as e:  # reported below: a silent failure would flatter the rate
            failures.append(e)

    threads = [threading.Thread(target=writer, args=(events,)) for events in work]
    for thread in threads:
        thread.start()
    measured: list[Timed] = []
    start.wait()
    with timed(WRITERS * PER_WRITER, measured):
        for thread in threads:
            thread.join()
    if failures:
        raise failures[0]
    return measured[0]


def append_batch(report: Report, url: str) -> None:
    with nats_recorder(url, "bench_batch") as recorder:
        (rate,) = best_of(ROUNDS, lambda: batch_inserts(recorder, BATCH, BATCH_SAVES))
    report.figure(f"eventlog.append.batch{BATCH}", rate, EVENTS_PER_S)


def batch_inserts(recorder: ApplicationRecorder, size: int, saves: int) -> float:
    """Saves of `size` events of one new aggregate each (an atomic batch of `size` messages)."""
    work = []
    for _ in range(saves):
        originator = uuid.uuid4()
        work.append([new_event(v, originator) for v in range(1, size + 1)])
    started = time.perf_counter()
    for events in work:
        recorder.insert_events(events)
    return size * saves / (time.perf_counter() - started)


# Replays.


def replay(report: Report, url: str) -> None:
    with nats_recorder(url, "bench_replay") as recorder:
        # Load in atomic batches of 100 aggregates x 10 events: quick, and many subjects.
        rate = _load(recorder)
        report.note(f"loaded {REPLAY} events at {rate:.0f} events/s (batches of {LOAD_BATCH})")
        settings = recorder.settings
        raw, select, subscribe = best_by(
            REPLAY_ROUNDS,
            lambda t: t.rate,
            lambda: asyncio.run(raw_ordered(url, settings)),
            lambda: replay_select(recorder),
            lambda: replay_subscribe(recorder),
        )
    report.figure("nats.replay.ordered", raw.rate, EVENTS_PER_S)
    for name, read in (("select", select), ("subscribe", subscribe)):
        report.figure(
            f"eventlog.replay.{name}", read.rate, EVENTS_PER_S, baseline="nats.replay.ordered"
        )
    report.note(
        f"CPU per replayed event: nats.replay.ordered {raw.cpu * 1e6:.1f} us, select "
        f"{select.cpu * 1e6:.1f} us, subscribe {subscribe.cpu * 1e6:.1f} us"
    )


def _load(recorder: ApplicationRecorder) -> float:
    started = time.perf_counter()
    per_aggregate = BATCH
    for _ in range(REPLAY // LOAD_BATCH):
        events: list[StoredEvent] = []
        for _ in range(LOAD_BATCH // per_aggregate):
            originator = uuid.uuid4()
            events.extend(new_event(v, originator) for v in range(1, per_aggregate + 1))
        recorder.insert_events(events)
    return REPLAY / (time.perf_counter() - started)


def replay_select(recorder: ApplicationRecorder) -> Timed:
    """Every event through `select_notifications`, a page at a time."""
    measured: list[Timed] = []
    with timed(REPLAY, measured):
        count, start = 0, 1
        while count < REPLAY:
            page = recorder.select_notifications(start, PAGE)
            if not page:
                raise RuntimeError(f"select_notifications ended after {count} of {REPLAY} events")
            count += len(page)
            start = page[-1].id + 1
    return measured[0]


def replay_subscribe(recorder: ApplicationRecorder) -> Timed:
    """Every event through `subscribe()`, from its creation to the last event."""
    measured: list[Timed] = []
    with timed(REPLAY, measured):
        count = 0
        with recorder.subscribe() as subscription:
            for _ in subscription:
                count += 1
                if count == REPLAY:
                    break
    return measured[0]


async def raw_ordered(url: str, settings: StreamSettings) -> Timed:
    """A nats-py ordered push consumer over the same subjects, counting messages."""
    nc = await nats.connect(url)
    try:
        done = asyncio.get_running_loop().create_future()
        count = 0

        async def on_message(msg: Any) -> None:
            nonlocal count
            count += 1
            if count == REPLAY and not done.done():
                done.set_result(None)

        measured: list[Timed] = []
        with timed(REPLAY, measured):
            sub = await nc.jetstream().subscribe(
                f"{settings.events_subject}.>",
                stream=settings.stream,
                ordered_consumer=True,
                cb=on_message,
                pending_msgs_limit=-1,  # as the recorder's subscription: never drop as slow
                pending_bytes_limit=-1,
            )
            await asyncio.wait_for(done, 120)
        await sub.unsubscribe()
        return measured[0]
    finally:
        await nc.drain()


def _env(name: str, values: dict[str, str]) -> Environment:
    return Environment(name, values)
