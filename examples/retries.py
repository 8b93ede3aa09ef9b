"""Retries and idempotency: every call that changes something carries a request id.

A lost answer (a timeout, a dropped connection) leaves the client not knowing whether the call
happened. Sending the same request again, with the same request id, is always safe: the
service finds what the first attempt did and answers the same, or refuses a second effect
(ALREADY_EXISTS). `hearth_sdk.retrying` sends a call again while its refusal says a retry may
cure it: UNAVAILABLE (the store was unreachable), ABORTED (a concurrent writer won), or a fact
another service has recorded but this one has not heard of yet (HOUSE_RULES_NOT_ACCEPTED
right after accepting them).

Run against `make up`: python examples/retries.py [var/endpoints.json]
"""

import sys
import uuid

import grpc

from hearth_proto.hearth.identity.v1.identity_pb2 import ROLE_YOUNG_PERSON
from hearth_sdk import Endpoints, IdentityClient, MessagingDevice, reason, retryable, retrying

hearth = Endpoints.load(sys.argv[1] if len(sys.argv) > 1 else "var/endpoints.json")
run = hearth.data_dir / "devices" / f"retries-{uuid.uuid4().hex[:8]}"


def phone(name: str) -> MessagingDevice:
    client = IdentityClient(hearth.channel("identity"), run / f"{name}.json")
    # register() keeps its request id in the state file before calling: a retry, even after
    # the app restarts, finds the same account.
    first = client.register(ROLE_YOUNG_PERSON, display_name=name)
    assert client.register(ROLE_YOUNG_PERSON, display_name=name) == first
    client.accept_house_rules()
    device = MessagingDevice(hearth.channel("messaging"), client.session, client.account_id)
    device.publish()
    return device


xan, wyn = phone("Xan"), phone("Wyn")  # Wyn starts the conversation: he joins last

# Right after accepting the house rules, messaging may not have heard yet: retryable.
request_id = str(uuid.uuid4())  # chosen once, before the first attempt
talk = retrying(lambda: wyn.start_conversation([xan.account_id], request_id=request_id))
again = wyn.start_conversation([xan.account_id], request_id=request_id)
print("same request id, same conversation:", again.conversation_id == talk.conversation_id)

# A message id is relayed once: sending the same message again is refused, not delivered twice.
message_id = str(uuid.uuid4())
wyn.send(talk.conversation_id, b"only once", message_id=message_id)
try:
    wyn.send(talk.conversation_id, b"only once", message_id=message_id)
except grpc.RpcError as e:
    print("the same message id again:", e.code().name, reason(e), "retryable:", retryable(e))
print("Xan gets:", [m.body.decode() for m in xan.receive(2, timeout=2.0)])

# A refusal that a retry cannot cure is raised at once, not retried.
try:
    retrying(lambda: wyn.start_conversation([wyn.account_id]))
except grpc.RpcError as e:
    print("not retried:", e.code().name, reason(e), "retryable:", retryable(e))
wyn.disconnect()
xan.disconnect()
