"""Following: tracking records a follower writes per 1,000 upstream events, and its pace.

The upstream is shaped like the age stream identity follows: the 12 issuer keys of start-up,
then, per 1,000 events, 900 of kinds the follower does not act on (sessions, decisions, token
batches), 50 attestations it acts on and 50 it passes over (an account it does not know).
`follow.tracking.per1000.every-event` is the old behaviour, measured in the same run: every
event handed to the policy and a tracking record for each. `follow.tracking.per1000` is the
runtime's follower as services run it: declared event types only, a tracking record with each
effect, and otherwise one per `track_every` events or `track_idle` quiet seconds.
"""

from __future__ import annotations

import time
import uuid
from typing import ClassVar
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import Environment
from google.protobuf.message import Message

from hearth_eventlog import PERSISTENCE, NatsFactory, TracedNotification
from hearth_eventlog.published import decode_published
from hearth_proto.hearth.age.v1 import events_pb2 as age_events
from hearth_runtime.application import FollowingApplication
from hearth_runtime.follow import FollowSettings, StreamFollower
from tests.bench.report import Report, best_of

ATTESTED = age_events.AgeBandAttested.DESCRIPTOR.full_name
PASSED_OVER = [
    age_events.VerificationStarted.DESCRIPTOR.full_name,
    age_events.VerificationDecided.DESCRIPTOR.full_name,
    age_events.TokensIssued.DESCRIPTOR.full_name,
]
BLOCKS = 10  # of 1,000 upstream events
KNOWN = "known"  # an attestation for this account is an effect; any other is passed over
ROUNDS = 2
QUICK = {"BLOCKS": 2, "ROUNDS": 1}  # `--quick`: every figure once, small


class BandNoted(Aggregate):
    @event("Noted")
    def __init__(self, account_id: str) -> None:
        self.account_id = account_id


class Bands(FollowingApplication):
    """A follower of attestations, as identity is: an effect for the accounts it knows."""

    name = "bands"
    topics: ClassVar[frozenset[str] | None] = frozenset({ATTESTED})

    def policy(
        self, upstream: str, notification: TracedNotification, processing: ProcessingEvent[UUID]
    ) -> None:
        message = decode_published(notification.topic, notification.state)
        if isinstance(message, age_events.AgeBandAttested) and message.account_id == KNOWN:
            processing.collect_events(BandNoted(message.account_id))


class EveryEvent(Bands):
    """The old follower: subscribed to every upstream event."""

    name = "bands"  # eventsourcing names a subclass after itself otherwise
    topics: ClassVar[frozenset[str] | None] = None


def run(report: Report) -> None:
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    env = {
        **PERSISTENCE,
        "NATS_URL": report.nats_url,
        "HEARTH_AGE_STREAM": f"{prefix}_AGE".upper(),
        "HEARTH_AGE_SUBJECT_PREFIX": f"{prefix}.age",
    }
    factory = NatsFactory(Environment("age", env))
    try:
        upstream = factory.application_recorder()
        upstream.insert_events([stored(age_events.IssuerKeyPublished()) for _ in range(12)])
        for _ in range(BLOCKS):
            block = [stored(PASSED_OVER[i % 3]) for i in range(900)]
            block += [attested(KNOWN if i % 2 else "someone-else") for i in range(100)]
            upstream.insert_events(block)
        last = upstream.max_notification_id()
        assert last is not None
        rounds = iter(range(100))
        counts: dict[str, int] = {}

        def follow(app_class: type[Bands], settings: FollowSettings, label: str) -> float:
            n = next(rounds)
            own = {
                **env,
                "HEARTH_BANDS_STREAM": f"{prefix}_BANDS{n}".upper(),
                "HEARTH_BANDS_SUBJECT_PREFIX": f"{prefix}.bands{n}",
                # The bench's own `BandNoted` has no schema: stored as eventsourcing does.
                "BANDS_MAPPER_TOPIC": "eventsourcing.persistence:Mapper",
            }
            app = app_class(env=own)
            follower = StreamFollower(app, "age", own, settings=settings)
            try:
                started = time.perf_counter()
                follower.start()
                follower.wait_until(last, timeout=600)
                rate = (BLOCKS * 1000 + 12) / (time.perf_counter() - started)
                counts[label] = tracking_records(app)
                return rate
            finally:
                follower.stop()
                app.close()

        before, after = best_of(
            ROUNDS,
            lambda: follow(EveryEvent, FollowSettings(track_every=1), "before"),
            lambda: follow(Bands, FollowSettings(), "after"),
        )
    finally:
        factory.close()
    scale = 1000 / (BLOCKS * 1000 + 12)
    report.figure("follow.tracking.per1000.every-event", counts["before"] * scale, "records")
    report.figure(
        "follow.tracking.per1000",
        counts["after"] * scale,
        "records",
        baseline="follow.tracking.per1000.every-event",
    )
    report.figure("follow.catchup.every-event", before, "events/s")
    report.figure("follow.catchup", after, "events/s", baseline="follow.catchup.every-event")
    report.note(
        "per 1,000 upstream events: 900 not declared, 50 declared with an effect, 50 declared "
        "and passed over; tracking records counted in the follower's own stream"
    )


def stored(message: Message | str) -> StoredEvent:
    if isinstance(message, str):
        return StoredEvent(uuid.uuid4(), 1, message, b"")
    return StoredEvent(uuid.uuid4(), 1, message.DESCRIPTOR.full_name, message.SerializeToString())


def attested(account_id: str) -> StoredEvent:
    return stored(age_events.AgeBandAttested(account_id=account_id))


def tracking_records(app: FollowingApplication) -> int:
    recorder = app.process_recorder
    link, settings = recorder.link, recorder.settings
    info = link.run(
        link.api(
            f"$JS.API.STREAM.INFO.{settings.stream}",
            {"subjects_filter": f"{settings.tracking_subject}.>"},
        )
    )
    subjects: dict[str, int] = info["state"].get("subjects") or {}
    return sum(subjects.values())
