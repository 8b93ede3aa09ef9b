"""Device and login: a device key, registration, login, sessions, a second device, export.

Run against `make up`: python examples/identity_login.py [var/endpoints.json]
"""

import stat
import sys
import uuid

from nacl.signing import SigningKey

from hearth_proto.hearth.identity.v1.identity_pb2 import ROLE_YOUNG_PERSON
from hearth_sdk import Endpoints, IdentityClient

hearth = Endpoints.load(sys.argv[1] if len(sys.argv) > 1 else "var/endpoints.json")
state = hearth.data_dir / "devices" / f"robin-{uuid.uuid4().hex[:8]}.json"

# The first run makes an Ed25519 device key and keeps it in `state` (owner-only).
robin = IdentityClient(hearth.channel("identity"), state)
account_id = robin.register(ROLE_YOUNG_PERSON, display_name="Robin")
print("registered:", account_id)
print("state file mode:", oct(stat.S_IMODE(state.stat().st_mode)))

# A retry after a lost answer sends the same request id (kept in the state): same account.
assert robin.register(ROLE_YOUNG_PERSON, display_name="Robin") == account_id

# Login: identity sends a single-use challenge, the device signs it, a session comes back.
robin.login()
print("session expires at:", robin.state.session_expires_at)
# session() gives a usable token: the kept one, renewed near expiry, or a fresh login.
print("account:", robin.account().account_id, "devices:", robin.account().devices)

# The app restarts: the same file is the same device, and it logs in again by itself.
again = IdentityClient(hearth.channel("identity"), state)
print("after a restart:", again.account_id == account_id, "logged in:", bool(again.session()))

# A second device (a tablet) proves it holds its own key; the phone adds it.
tablet = SigningKey.generate()
print("devices now:", robin.add_device(tablet))

# Subject access: everything identity holds about the account.
print("export has:", sorted(robin.export()))
