"""Helpers for age tests: clients for a role, raw reads of what landed in JetStream."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TypeVar

from google.protobuf.message import Message

from hearth_eventlog.published import decode_published
from hearth_eventlog.records import decode_record
from hearth_runtime.platform import Platform
from hearth_sdk.age import AgeClient, TestIssuingAuthority, TokenWallet
from hearth_sdk.channel import connect
from tests.support.streams import read_stream

M = TypeVar("M", bound=Message)


def age_client(platform: Platform, tmp_path: Path, role: str = "young_person") -> AgeClient:
    account_id = str(uuid.uuid4())
    token = platform.signer.issue(account_id, {role})
    wallet = TokenWallet(tmp_path / f"wallet-{account_id}.json")
    return AgeClient(connect(platform.endpoint("age")), token, wallet, account_id=account_id)


def authority(platform: Platform) -> TestIssuingAuthority:
    key_dir = Path(platform.hosts["age"].config.environ["HEARTH_AGE_KEY_DIR"])
    return TestIssuingAuthority.from_seed_file(key_dir / "document-authority.seed")


def stream_name(platform: Platform) -> str:
    return platform.hosts["age"].config.environ["HEARTH_AGE_STREAM"]


def raw_stream(platform: Platform, stream: str | None = None) -> list[tuple[int, str, bytes]]:
    """Every message of the age stream (or another), read straight from JetStream."""
    found = read_stream(platform.nats_url, stream or stream_name(platform))
    return [(m.sequence, m.subject, m.data) for m in found]


def raw_kv(platform: Platform) -> list[tuple[int, str, bytes]]:
    """Every entry of the spent-token bucket, read raw from its backing stream."""
    return raw_stream(platform, f"KV_{stream_name(platform)}_SPENT")


def events_of(platform: Platform, kind: type[M]) -> list[M]:
    """Every published event of one schema in the age stream, decoded from the raw bytes."""
    found = []
    for _, _, payload in raw_stream(platform):
        record = decode_record(payload)
        message = decode_published(record.topic, record.state)
        if message is not None and record.topic == kind.DESCRIPTOR.full_name:
            found.append(kind.FromString(message.SerializeToString()))
    return found
