"""Quickstart: two young people's devices, and a first end-to-end encrypted message.

Run against `make up`: python examples/quickstart.py [var/endpoints.json]
"""

import sys

from hearth_proto.hearth.identity.v1.identity_pb2 import ROLE_YOUNG_PERSON
from hearth_sdk import Endpoints, IdentityClient, MessagingDevice, retrying

hearth = Endpoints.load(sys.argv[1] if len(sys.argv) > 1 else "var/endpoints.json")
phones = []
for name in ("ben", "ada"):
    person = IdentityClient(hearth.channel("identity"), hearth.data_dir / f"devices/{name}.json")
    person.register(ROLE_YOUNG_PERSON, display_name=name.title())
    person.accept_house_rules()
    phone = MessagingDevice(hearth.channel("messaging"), person.session, person.account_id)
    phone.publish()
    phones.append(phone)
ben, ada = phones
talk = retrying(lambda: ada.start_conversation([ben.account_id], request_id="quickstart"))
ada.send(talk.conversation_id, b"Hi Ben, it's Ada!")
print("Ben's phone decrypts:", ben.receive(1)[0].body.decode())
