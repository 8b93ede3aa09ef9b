"""Raw stream messages (subject, headers, data) read straight from JetStream, and written back
(the replay fixture keeps them as JSON lines)."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from pathlib import Path

import nats
import nats.js.errors

# Headers that steer one publish (batching, concurrency checks) rather than describe the event.
CONTROL_PREFIX = "Nats-"


@dataclass(frozen=True)
class RawMessage:
    stream: str
    sequence: int
    subject: str
    headers: dict[str, str]
    data: bytes

    def to_json(self) -> str:
        return json.dumps(
            {
                "stream": self.stream,
                "sequence": self.sequence,
                "subject": self.subject,
                "headers": self.headers,
                "data": base64.b64encode(self.data).decode(),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, line: str) -> RawMessage:
        raw = json.loads(line)
        return cls(
            raw["stream"],
            raw["sequence"],
            raw["subject"],
            raw["headers"],
            base64.b64decode(raw["data"]),
        )


def read_stream(nats_url: str, stream: str) -> list[RawMessage]:
    """Every message still held in `stream`, straight from JetStream (gaps skipped)."""

    async def read() -> list[RawMessage]:
        nc = await nats.connect(nats_url)
        try:
            js = nc.jetstream()
            info = await js.stream_info(stream)
            found: list[RawMessage] = []
            if not info.state.messages:
                return found
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                try:
                    msg = await js.get_msg(stream, seq)
                except nats.js.errors.NotFoundError:
                    continue  # deleted, or rolled up (a purged subject key)
                found.append(
                    RawMessage(
                        stream, seq, msg.subject or "", dict(msg.headers or {}), msg.data or b""
                    )
                )
            return found
        finally:
            await nc.close()

    return asyncio.run(read())


def write_stream(
    nats_url: str, stream: str, messages: list[RawMessage], prefix: tuple[str, str]
) -> None:
    """Publish `messages` in order to `stream`, their subjects moved from one prefix to another."""
    old, new = prefix

    async def write() -> None:
        nc = await nats.connect(nats_url)
        try:
            js = nc.jetstream()
            for message in messages:
                assert message.subject.startswith(f"{old}."), message.subject
                subject = new + message.subject.removeprefix(old)
                headers = {
                    k: v for k, v in message.headers.items() if not k.startswith(CONTROL_PREFIX)
                }
                await js.publish(subject, message.data, stream=stream, headers=headers or None)
        finally:
            await nc.close()

    asyncio.run(write())


def save(path: Path, messages: list[RawMessage]) -> None:
    path.write_text("".join(m.to_json() + "\n" for m in messages))


def load(path: Path) -> list[RawMessage]:
    return [RawMessage.from_json(line) for line in path.read_text().splitlines() if line]
