"""Writers for the multi-process race test (importable, so spawned processes can run them)."""

from __future__ import annotations

from threading import Barrier
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.utils import Environment

from hearth_eventlog import NatsFactory


def race(
    nats_url: str, app_name: str, aggregate: str, versions: int, barrier: Barrier
) -> list[int]:
    """Try to write every version of one aggregate; return the versions this writer won."""
    env = Environment(app_name, {"NATS_URL": nats_url})
    factory = NatsFactory(env)
    recorder = factory.application_recorder()
    won: list[int] = []
    try:
        for version in range(1, versions + 1):
            barrier.wait(timeout=30)
            event = StoredEvent(UUID(aggregate), version, "raced", f"v{version}".encode())
            try:
                recorder.insert_events([event])
            except IntegrityError:
                continue
            won.append(version)
    finally:
        factory.close()
    return won
