"""Helpers for age tests: clients for a role, raw reads of what landed in JetStream."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import TypeVar

import grpc
import nats
import nats.js.errors
import pytest
from google.protobuf.message import Message

from hearth_eventlog.published import decode_published
from hearth_eventlog.records import decode_record
from hearth_runtime.platform import Platform
from hearth_sdk.age import AgeClient, TestIssuingAuthority, TokenWallet
from hearth_sdk.channel import connect

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


async def _read_stream(url: str, stream: str) -> list[tuple[int, str, bytes]]:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        state = (await js.stream_info(stream)).state
        found = []
        if state.messages:
            for seq in range(state.first_seq, state.last_seq + 1):
                try:
                    msg = await js.get_msg(stream, seq)
                except nats.js.errors.NotFoundError:
                    continue  # deleted (a KV delete leaves a marker at a later sequence)
                found.append((seq, msg.subject or "", msg.data or b""))
        return found
    finally:
        await nc.close()


def raw_stream(platform: Platform, stream: str | None = None) -> list[tuple[int, str, bytes]]:
    """Every message of the age stream (or another), read straight from JetStream."""
    return asyncio.run(_read_stream(platform.nats_url, stream or stream_name(platform)))


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


def refused(code: grpc.StatusCode, call: object, *args: object, **kwargs: object) -> str:
    """Call, expect a refusal with `code`, return its message."""
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    error = caught.value
    assert error.code() == code, f"{error.code()}: {error.details()}"
    return str(error.details())
