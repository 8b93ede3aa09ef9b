"""Age verification and tokens: a document check, blind-signed tokens, one redemption.

The age service learns a band, never a birth date; the tokens are blind-signed, so it cannot
link a redemption to the verification. Against `make up` the development document authority
(var/keys/age/document-authority.seed) stands in for a real one.

Run against `make up`: python examples/age_tokens.py [var/endpoints.json]
"""

import sys
import time
import uuid
from datetime import date

import grpc

from hearth_proto.hearth.age.v1.types_pb2 import AgeBand, MethodClass
from hearth_proto.hearth.identity.v1.identity_pb2 import ROLE_YOUNG_PERSON
from hearth_sdk import Endpoints, IdentityClient, error_info
from hearth_sdk.age import AgeClient, TestIssuingAuthority, TokenWallet

hearth = Endpoints.load(sys.argv[1] if len(sys.argv) > 1 else "var/endpoints.json")
device = hearth.data_dir / "devices" / f"kai-{uuid.uuid4().hex[:8]}"
kai = IdentityClient(hearth.channel("identity"), device / "identity.json")
kai.register(ROLE_YOUNG_PERSON, display_name="Kai")

# The wallet keeps the finished tokens and their holder keys on the device (owner-only).
age = AgeClient(hearth.channel("age"), kai.session, TokenWallet(device / "age-tokens.json"))

# A (test) identity document for a 14-year-old, signed by the development authority.
authority = TestIssuingAuthority.from_seed_file(
    hearth.data_dir / "keys/age/document-authority.seed"
)
today = date.today()
document, signature = authority.issue(today.replace(year=today.year - 14, day=1))

verification = age.start_verification(MethodClass.METHOD_CLASS_DOCUMENT)
decision = age.submit_document(verification, document, signature)
print("decision:", AgeBand.Name(decision.band))

# Blind 5 token messages, have them signed, finalise and keep them.
print("tokens kept:", age.obtain_tokens(verification, decision, count=5))

# Redeem one for this account: identity hears of the band and puts it in the next session.
attested = age.redeem(decision.band)
print("attested:", AgeBand.Name(attested.band), "tokens left:", age.wallet.count())
for _ in range(100):  # identity follows age's events: it hears of the band a moment later
    if kai.account().attested_band == decision.band:
        break
    time.sleep(0.1)
print("identity shows:", AgeBand.Name(kai.account().attested_band))

# A token is single-use: presenting the same one again is refused, with a reason.
token = age.wallet.take(decision.band)
age.redeem_token(token, decision.band)
try:
    age.redeem_token(token, decision.band)
except grpc.RpcError as e:
    info = error_info(e)
    print("again:", e.code().name, info.reason if info else "")
