"""Local state and its protection: what the device keeps, and how it is written.

The device's secrets (its Ed25519 login key, its messaging identity key, prekeys and Double
Ratchet sessions, its age tokens) live in files on the device only. Each is written owner-only
(0600), flushed and atomically replaced (`hearth_sdk.local_state.write_private_json`), after
every change and before anything is acknowledged, so a crash never leaves a torn file and a
restart decrypts the next message. Keep the directory in the app's private storage, out of
backups that leave the device; an OS keystore may wrap it further.

Run against `make up`: python examples/local_state.py [var/endpoints.json]
"""

import json
import stat
import sys
import uuid

from hearth_proto.hearth.identity.v1.identity_pb2 import ROLE_YOUNG_PERSON
from hearth_sdk import Endpoints, IdentityClient, MessagingDevice, retrying

hearth = Endpoints.load(sys.argv[1] if len(sys.argv) > 1 else "var/endpoints.json")
run = hearth.data_dir / "devices" / f"state-{uuid.uuid4().hex[:8]}"


def device(name: str) -> tuple[IdentityClient, MessagingDevice]:
    client = IdentityClient(hearth.channel("identity"), run / f"{name}.json")
    client.register(ROLE_YOUNG_PERSON, display_name=name)
    client.accept_house_rules()
    state = run / f"{name}-device.json"
    return client, MessagingDevice(
        hearth.channel("messaging"), client.session, client.account_id, state_path=state
    )


(vic, vic_phone), (_, una) = device("Vic"), device("Una")  # Una starts: she joins last
una.publish()
vic_phone.publish()
talk = retrying(lambda: una.start_conversation([vic.account_id], request_id="una-vic"))
una.send(talk.conversation_id, b"first")
print("Vic reads:", vic_phone.receive(1)[0].body.decode())

for path in sorted(run.iterdir()):
    print(f"{path.name}: mode {oct(stat.S_IMODE(path.stat().st_mode))}")
kept = json.loads((run / "Vic-device.json").read_text())
print("Vic's device file holds:", ", ".join(sorted(kept)))

# The app is killed and starts again: the same file is the same device, sessions and all.
vic_phone.disconnect()
restarted = MessagingDevice(
    hearth.channel("messaging"), vic.session, vic.account_id, state_path=run / "Vic-device.json"
)
print("same device:", restarted.device_id == vic_phone.device_id)
una.send(talk.conversation_id, b"second, on the same ratchet")
print("after the restart Vic reads:", restarted.receive(1)[0].body.decode())

# A state file is one account's: another account's client refuses it rather than mix keys.
try:
    MessagingDevice(
        hearth.channel("messaging"), vic.session, una.account_id, state_path=run / "Vic-device.json"
    )
except ValueError as e:
    print("refused:", e)
restarted.disconnect()
una.disconnect()
