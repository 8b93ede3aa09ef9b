"""A client process holding idle delivery streams: `python -m tests.bench.idle_streams`.

It reads one JSON line per batch on stdin (`{"address", "streams": [[device_id, token], ...]}`),
opens those ReceiveEnvelopes streams (asyncio client, spread over connections of their own),
prints `opened N` once they are started, and holds them all until stdin closes. A stream that
ends is opened again, as a real device's client would; how many did is printed on stderr at
the end. The bench's server counts the streams it holds, so nothing else is reported.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys

import grpc
import grpc.aio

from hearth_proto.hearth.messaging.v1 import messaging_pb2, messaging_pb2_grpc

STREAMS_PER_CONNECTION = 500
ended: dict[str, int] = {}


async def keep_open(stub: messaging_pb2_grpc.MessagingServiceStub, device: str, token: str) -> None:
    request = messaging_pb2.ReceiveEnvelopesRequest(device_id=device)
    metadata = (("authorization", f"Bearer {token}"),)
    while True:
        call = stub.ReceiveEnvelopes(request, metadata=metadata)
        try:
            async for _ in call:
                pass
            reason = "finished"
        except grpc.aio.AioRpcError as e:
            reason = e.code().name
        ended[reason] = ended.get(reason, 0) + 1
        await asyncio.sleep(random.uniform(0.1, 1.0))


async def hold(lines: asyncio.Queue[str | None]) -> None:
    tasks: list[asyncio.Task[None]] = []
    channels: list[grpc.aio.Channel] = []
    while (line := await lines.get()) is not None:
        batch = json.loads(line)
        for device_id, token in batch["streams"]:
            if len(tasks) % STREAMS_PER_CONNECTION == 0:
                # A channel argument of its own keeps each channel on its own connection.
                options = [("hearth.bench.connection", len(channels))]
                channels.append(grpc.aio.insecure_channel(batch["address"], options=options))
            stub = messaging_pb2_grpc.MessagingServiceStub(channels[-1])
            tasks.append(asyncio.create_task(keep_open(stub, device_id, token)))
        print(f"opened {len(tasks)}", flush=True)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for channel in channels:
        await channel.close()
    print(f"idle streams: {len(tasks)} held; ended and reopened: {ended}", file=sys.stderr)


async def main() -> None:
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, None)

    reader = loop.run_in_executor(None, read)
    await hold(lines)
    await reader


if __name__ == "__main__":
    asyncio.run(main())
