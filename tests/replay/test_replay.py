"""Streams recorded before events had stable names still replay with today's code.

The fixture (`python -m tests.replay.record`, run at the commit in `states.json`) holds 19
event types under eventsourcing's `module:Class` topics with JSON state, and published events
whose state still carries the retired `originator_topic` field. Loaded into fresh streams, every
aggregate rebuilds to the state it had when it was recorded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from hearth_eventlog import StreamSettings
from hearth_eventlog.records import decode_record
from tests.conftest import stream_environ, unique_name
from tests.replay import script
from tests.replay.record import FIXTURE
from tests.support.streams import load, write_stream

# Attributes added to an aggregate since the fixture was recorded, with the value an old
# stream replays them as. Enum members renamed by the shared AgeBand are renamed in
# states.json itself (same values: ADULT and AGE_18_PLUS are both 4).
ADDED_SINCE: dict[tuple[str, str], dict[str, Any]] = {
    ("identity", "Invitation"): {'"organisation_name"': ""},
    ("audit", "AuditLog"): {'"durations"': {}},
    ("audit", "Disclosure"): {'"due_at"': None, '"legal_basis"': "", '"recipient"': ""},
    # Identity follows the safety team's restrictions (issue 11); passkeys (issue 14).
    ("identity", "Account"): {'"restrictions"': script.state_of({}), '"passkeys"': {}},
    # A case remembers which requests added its notes (AddCaseNote, issue 11).
    ("safety", "SafeguardingCase"): {'"note_requests"': {"set": []}},
}
# Fields added since inside an aggregate's nested value: messaging's AccountFacts took the
# safety service's actions in force (issue 11).
EMPTY_SET: dict[str, list[str]] = {"set": []}
ADDED_INSIDE: dict[tuple[str, str], tuple[str, str, dict[str, Any]]] = {
    ("messaging", "ContactFacts"): (
        '"facts"',
        "AccountFacts",
        {'"suspended"': EMPTY_SET, '"restricted"': EMPTY_SET, '"safety_blocks"': EMPTY_SET},
    ),
}


def expected_state(service: str, state: dict[str, Any]) -> dict[str, Any]:
    expected = {**state, **ADDED_SINCE.get((service, state["type"]), {})}
    inside = ADDED_INSIDE.get((service, state["type"]))
    if inside is not None:
        attribute, kind, added = inside
        nested = expected[attribute][kind]
        expected[attribute] = {kind: dict(sorted({**nested, **added}.items()))}
    return expected


def recorded() -> dict[str, Any]:
    result: dict[str, Any] = json.loads((FIXTURE / "states.json").read_text())
    return result


def test_the_fixture_holds_the_old_topics() -> None:
    assert recorded()["commit"].startswith("16caf27")  # the code before the change
    topics = {decode_record(m.data).topic for m in load(FIXTURE / "stream.jsonl")}
    legacy = sorted(t for t in topics if ":" in t)
    assert len(legacy) == 19
    assert "hearth_messaging.domain:AccountSettings.Blocked" in legacy
    assert "hearth.identity.v1.AccountRegistered" in topics


def replay(nats_url: str, fixture_dir: Path) -> int:
    """Load a recorded fixture into fresh streams; every aggregate rebuilds to its recorded
    state. How many aggregates replayed."""
    fixture: dict[str, Any] = json.loads((fixture_dir / "states.json").read_text())
    messages = load(fixture_dir / "stream.jsonl")
    services = tuple(fixture["prefixes"])  # the services the fixture was recorded with
    environ = {"NATS_URL": nats_url, **stream_environ(unique_name("replay"), *services)}
    replayed = 0
    for service in services:
        settings = StreamSettings.from_env(environ, service)
        old_stream = StreamSettings.from_env({}, service).stream
        app = script.application(service, environ)
        try:
            app.recorder.max_notification_id()  # creates the fresh stream
            mine = [m for m in messages if m.stream == old_stream]
            write_stream(
                nats_url,
                settings.stream,
                mine,
                (fixture["prefixes"][service], settings.subject_prefix),
            )
            for aggregate_id, state in fixture["states"][service].items():
                aggregate: Aggregate = app.repository.get(UUID(aggregate_id))
                expected = expected_state(service, state)
                assert script.state_of(aggregate) == expected, (service, state["type"])
                replayed += 1
        finally:
            app.close()
    assert replayed == sum(len(states) for states in fixture["states"].values())
    return replayed


def test_every_recorded_aggregate_replays_to_its_recorded_state(nats_url: str) -> None:
    assert replay(nats_url, FIXTURE) == 18


def test_safetys_recorded_streams_replay_with_todays_code(nats_url: str) -> None:
    """Recorded when safety's events were first published (`python -m tests.replay.record
    safety`): every safety aggregate, with every event type it stores, still rebuilds."""
    fixture = json.loads((FIXTURE / "safety" / "states.json").read_text())
    assert list(fixture["prefixes"]) == ["safety"]
    topics = {decode_record(m.data).topic for m in load(FIXTURE / "safety" / "stream.jsonl")}
    assert len(topics) == 39 and all(t.startswith("hearth.safety.v1.") for t in topics)
    assert replay(nats_url, FIXTURE / "safety") == 11
