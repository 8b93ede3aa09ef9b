"""Helpers for identity tests: devices with their own state files, raw stream reads, and an
age stream writer that records AgeBandAttested as the age service would (from the schema)."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import Environment
from google.protobuf.message import Message

from hearth_eventlog import NatsFactory, StreamSettings
from hearth_eventlog.records import decode_record
from hearth_identity.application import Identity
from hearth_proto.hearth.age.v1 import events_pb2 as age_events
from hearth_proto.hearth.age.v1 import types_pb2
from hearth_proto.hearth.identity.v1 import identity_pb2
from hearth_runtime import admin
from hearth_runtime.admin import operator_metadata
from hearth_runtime.platform import Platform
from hearth_sdk.channel import connect
from hearth_sdk.identity import IdentityClient
from tests.conftest import ROLES
from tests.support.streams import read_stream

STAFF = {
    identity_pb2.ROLE_PRACTITIONER,
    identity_pb2.ROLE_MODERATOR,
    identity_pb2.ROLE_SAFEGUARDING_LEAD,
    identity_pb2.ROLE_AUDITOR,
    identity_pb2.ROLE_ORG_ADMIN,
    identity_pb2.ROLE_DATA_PROTECTION_OFFICER,
    identity_pb2.ROLE_RECORD_KEEPER,
}

WRAPPING = base64.b64encode(b"w" * 32).decode()  # the test platform's subject-key wrapping


class Devices:
    """Makes registered, logged-in devices, each with its own client state file."""

    def __init__(self, platform: Platform, directory: Path) -> None:
        self.platform = platform
        self.directory = directory
        self.channel = connect(platform.endpoint("identity"))

    def client(self, name: str) -> IdentityClient:
        return IdentityClient(self.channel, self.directory / f"{name}.json")

    def account(self, role: str, name: str | None = None, **personal: str) -> IdentityClient:
        """A logged-in account; staff roles come with an invitation from the operator."""
        client = self.client(name or f"{role}-{uuid.uuid4().hex[:8]}")
        code = invite(self.platform, role) if ROLES[role] in STAFF else ""
        client.register(ROLES[role], invitation_code=code, **personal)
        client.login()
        return client


def operator_session(platform: Platform) -> tuple[tuple[str, str]]:
    """Whoever holds the session signing key operates the platform: `hearth admin`'s token."""
    return operator_metadata(platform.signer)


def invite(platform: Platform, role: str) -> str:
    """The operator's invitation of platform-wide staff (`hearth admin invite-staff ROLE`)."""
    return admin.invite(connect(platform.endpoint("identity")), platform.signer, ROLES[role]).code


def export_of(platform: Platform, account_id: str) -> dict[str, Any]:
    """Identity's own export of an account, read in the service (an erased account's sessions
    can no longer ask for it)."""
    app = platform.hosts["identity"].parts.applications[0]
    assert isinstance(app, Identity)
    return app.export(uuid.UUID(account_id))


def identity_stream(platform: Platform) -> str:
    return StreamSettings.from_env(platform.hosts["identity"].config.environ, "identity").stream


def stored(platform: Platform) -> list[tuple[str, bytes]]:
    """Every message of identity's stream and of its subject-key bucket, raw."""
    stream = identity_stream(platform)
    held = [*read_stream(platform.nats_url, stream)]
    held += read_stream(platform.nats_url, f"KV_{stream}_SUBJECT_KEYS")
    return [(m.subject, m.data) for m in held]


def topics_of(platform: Platform) -> list[str]:
    topics = []
    for subject, payload in stored(platform):
        if ".events." in subject:
            topics.append(decode_record(payload).topic)
    return topics


def attest(
    platform: Platform,
    account_id: str,
    band: types_pb2.AgeBand.ValueType,
    expires_in: timedelta = timedelta(days=90),
) -> int:
    """Record AgeBandAttested on the age stream; returns its notification id."""
    message = age_events.AgeBandAttested(
        account_id=account_id,
        band=band,
        method_class=types_pb2.METHOD_CLASS_DOCUMENT,
        assurance_level=types_pb2.ASSURANCE_LEVEL_STANDARD,
        epoch="2026-q4",
    )
    message.timestamp.FromDatetime(datetime.now(UTC))
    message.expires_at.FromDatetime(datetime.now(UTC) + expires_in)
    return record(platform, "age", message)


def record(
    platform: Platform,
    app: str,
    message: Message,
    originator: uuid.UUID | None = None,
    version: int = 1,
) -> int:
    """Record one published event on `app`'s stream, as that service would; its id."""
    env = {**platform.hosts["identity"].config.environ}
    factory = NatsFactory(Environment(app, env))
    try:
        ids = factory.application_recorder().insert_events(
            [
                StoredEvent(
                    originator_id=originator or uuid.uuid4(),
                    originator_version=version,
                    topic=message.DESCRIPTOR.full_name,
                    state=message.SerializeToString(),
                )
            ]
        )
    finally:
        factory.close()
    assert ids
    return ids[-1]


def wait_for_follower(platform: Platform, notification_id: int) -> None:
    follower = platform.hosts["identity"].parts.followers[0]
    follower.wait_until(notification_id, timeout=15)
