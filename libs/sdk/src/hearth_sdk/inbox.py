"""A device's inbox: the mailbox stream read on a thread, envelopes opened, then acknowledged."""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import grpc

from hearth_crypto.x3dh import X3DHError
from hearth_proto.hearth.messaging.v1 import messaging_pb2 as pb
from hearth_proto.hearth.messaging.v1 import messaging_pb2_grpc

from .sessions import ReceivedMessage, SessionCrypto


@dataclass
class _Inbox:
    stream: Iterator[pb.ReceiveEnvelopesResponse]
    channel: grpc.Channel | None
    envelopes: queue.Queue[pb.Envelope | BaseException] = field(default_factory=queue.Queue)
    thread: threading.Thread | None = None


class Inbox(SessionCrypto):
    """The device's mailbox: the delivery stream, decryption of what arrives, and
    acknowledgement (the `MessagingDevice` layer that receives)."""

    address: str | None
    stub: messaging_pb2_grpc.MessagingServiceStub
    rejected: list[tuple[pb.Envelope, Exception]]
    _inbox: _Inbox | None

    @property
    def metadata(self) -> tuple[tuple[str, str]]:
        raise NotImplementedError  # the device gives a current session token

    def connect(self) -> None:
        """Open the mailbox stream: the backlog not yet acknowledged, then live envelopes."""
        if self._inbox is not None:
            return
        channel = grpc.insecure_channel(self.address) if self.address else None
        stub = messaging_pb2_grpc.MessagingServiceStub(channel) if channel else self.stub
        stream = stub.ReceiveEnvelopes(
            pb.ReceiveEnvelopesRequest(device_id=self.device_id), metadata=self.metadata
        )
        inbox = _Inbox(stream, channel)

        def pump() -> None:
            try:
                for response in stream:
                    inbox.envelopes.put(response.envelope)
            except BaseException as e:
                inbox.envelopes.put(e)

        inbox.thread = threading.Thread(target=pump, name=f"inbox-{self.device_id}", daemon=True)
        inbox.thread.start()
        self._inbox = inbox

    def disconnect(self) -> None:
        inbox, self._inbox = self._inbox, None
        if inbox is None:
            return
        if inbox.channel is not None:
            inbox.channel.close()
        elif isinstance(inbox.stream, grpc.Future):
            inbox.stream.cancel()
        if inbox.thread is not None:
            inbox.thread.join(timeout=5)

    def receive(
        self, count: int = 1, timeout: float = 10.0, *, acknowledge: bool = True
    ) -> list[ReceivedMessage]:
        """Up to `count` new messages; duplicates (same message id) are skipped, failures kept
        in `rejected`. What was handled is acknowledged, so it is not delivered again."""
        self.connect()
        assert self._inbox is not None
        received: list[ReceivedMessage] = []
        last = 0
        while len(received) < count:
            try:
                item = self._inbox.envelopes.get(timeout=timeout)
            except queue.Empty:
                break
            if isinstance(item, BaseException):
                self._inbox = None
                if isinstance(item, grpc.RpcError) and item.code() == grpc.StatusCode.CANCELLED:
                    break
                raise item
            last = item.sequence
            if item.message_id in self._seen:
                continue
            try:
                message = self.open(item)
            except (X3DHError, ValueError, Exception) as e:
                self.rejected.append((item, e))
                continue
            self._seen.add(item.message_id)
            received.append(message)
        if last:
            self.save()  # before the acknowledgement: what is acknowledged is never re-sent
        if acknowledge and last:
            self.acknowledge(last)
        return received

    def acknowledge(self, up_to_sequence: int) -> None:
        self.stub.AcknowledgeEnvelopes(
            pb.AcknowledgeEnvelopesRequest(
                request_id=str(uuid.uuid4()),
                device_id=self.device_id,
                up_to_sequence=up_to_sequence,
            ),
            metadata=self.metadata,
        )
