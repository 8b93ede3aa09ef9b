"""Delivery with acknowledgement and resume: nothing acknowledged is lost, nothing twice.

Each device has a mailbox on the platform. `receive` opens its stream (the backlog not yet
acknowledged, then live envelopes), decrypts, and acknowledges what it handled; what was not
acknowledged comes again when the device reconnects, and a message id already handled is
skipped. The device's state file is saved before each acknowledgement.

Run against `make up`: python examples/delivery.py [var/endpoints.json]
"""

import sys
import uuid

from hearth_proto.hearth.identity.v1.identity_pb2 import ROLE_YOUNG_PERSON
from hearth_sdk import Endpoints, IdentityClient, MessagingDevice, retrying

hearth = Endpoints.load(sys.argv[1] if len(sys.argv) > 1 else "var/endpoints.json")
run = hearth.data_dir / "devices" / f"delivery-{uuid.uuid4().hex[:8]}"


def phone(name: str) -> MessagingDevice:
    client = IdentityClient(hearth.channel("identity"), run / f"{name}.json")
    client.register(ROLE_YOUNG_PERSON, display_name=name)
    client.accept_house_rules()
    return MessagingDevice(
        hearth.channel("messaging"),
        client.session,
        client.account_id,
        address=hearth["messaging"],  # the mailbox stream on its own channel: disconnect ends it
        state_path=run / f"{name}-device.json",  # keys, sessions, handled ids: resume from here
    )


tam, sol = phone("Tam"), phone("Sol")  # the one who starts is the last to join
sol.publish()
tam.publish()
talk = retrying(lambda: sol.start_conversation([tam.account_id], request_id="sol-tam"))
for text in ("one", "two", "three"):
    sol.send(talk.conversation_id, text.encode())

# Tam's phone reads the first message but the app dies before acknowledging it.
first = tam.receive(1, acknowledge=False)
print("read, not acknowledged:", [m.body.decode() for m in first])
tam.disconnect()

# The app starts again from its state file: the mailbox sends everything not acknowledged.
tam = MessagingDevice(
    hearth.channel("messaging"),
    tam.token,
    tam.account_id,
    address=hearth["messaging"],
    state_path=run / "Tam-device.json",
)
# "one" was handled already (its id is in the state), so only the other two are returned.
again = tam.receive(2)
print("after the restart:", [m.body.decode() for m in again], "sequence", again[-1].sequence)

# Acknowledged up to "three": a fresh connection finds nothing waiting.
tam.disconnect()
print("waiting now:", len(tam.receive(1, timeout=1.0)))
tam.disconnect()
sol.disconnect()
