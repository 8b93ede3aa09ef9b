"""The on-device scanner and reporting: warnings decided on the child's device, and a franked
report gathered there.

The guard scans each message before it is shown (or sent) and follows the conversation's risk;
it has no network at all. A report the child chooses to make is gathered on the device as a
`ReportEvidence`: the reported message and its context, each with the franking proof the relay
stamped, so the safety service can verify what was said without the platform ever holding
plaintext. Sending the evidence comes with the safety service's report RPC.

Run against `make up`: python examples/safety_report.py [var/endpoints.json]
"""

import sys
import uuid

from hearth_crypto.franking import verify_frank
from hearth_proto.hearth.identity.v1.identity_pb2 import ROLE_YOUNG_PERSON
from hearth_scanner.taxonomy import Participant
from hearth_sdk import Endpoints, IdentityClient, MessagingDevice, retrying
from hearth_sdk.safety import SafetyGuard
from hearth_sdk.safety_report import gather_report, send_recorded

hearth = Endpoints.load(sys.argv[1] if len(sys.argv) > 1 else "var/endpoints.json")
run = hearth.data_dir / "devices" / f"safety-{uuid.uuid4().hex[:8]}"


def phone(name: str) -> MessagingDevice:
    client = IdentityClient(hearth.channel("identity"), run / f"{name}.json")
    client.register(ROLE_YOUNG_PERSON, display_name=name)
    client.accept_house_rules()
    device = MessagingDevice(hearth.channel("messaging"), client.session, client.account_id)
    device.publish()
    return device


ava, lee = phone("Ava"), phone("Lee")
talk = retrying(lambda: lee.start_conversation([ava.account_id], request_id="lee-ava"))
conversation = talk.conversation_id

# Who is in the conversation, as identity vouches for them (role and age band).
people = {"ava": Participant("young_person", "13_15"), "lee": Participant("young_person", "13_15")}
guard = SafetyGuard(people["ava"])  # Ava's device: the scanner and rules it ships with

said = ["hey how was school", "dont tell ur mum about us ok", "send me a pic, just for me"]
received = []
for text in said:
    lee.send(conversation, text.encode())
    (message,) = ava.receive(1)
    received.append(message)
    outcome = guard.incoming(conversation, "lee", message.body.decode(), people)
    shown = outcome.warning.text if outcome.warning else "(shown as it is)"
    print(f"{text!r}: risk {outcome.risk.score:.2f} ({outcome.risk.level}); {shown}")

# Ava's reply is never blocked; send_recorded keeps what a report about it would need.
reply = guard.outgoing(conversation, "ava", "no. leave me alone", people)
print("may send:", reply.may_send)
sent = [send_recorded(ava, conversation, b"no. leave me alone")]

# Ava reports the last message: gathered and checked on the device, nothing sent yet.
evidence = gather_report(
    ava.account_id, received[-1].message_id, received, sent, category="grooming"
)
print("report:", evidence.category, "about", evidence.reported.body.decode())
print("context:", [m.body.decode() for m in evidence.context])
for m in (evidence.reported, *evidence.context):
    report = m.franking_report()  # what the safety service checks under the relay's key
    verify_frank(report.body, report.franking_key, report.metadata, m.franking_commitment)
print("every frank opens; the relay's stamps ride along for the safety service to check")
ava.disconnect()
lee.disconnect()
