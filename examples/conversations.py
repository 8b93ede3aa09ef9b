"""Conversations and policy refusals: who may talk is the contact policy's, with a reason.

Every refusal carries an `ErrorInfo`: a stable reason an app can branch on and show, the
domain of the service that refused, and metadata (a contact refusal names the policy version).

Run against `make up`: python examples/conversations.py [var/endpoints.json]
"""

import sys
import uuid

import grpc

from hearth_proto.hearth.identity.v1.identity_pb2 import ROLE_CHILD, ROLE_YOUNG_PERSON
from hearth_proto.hearth.messaging.v1.messaging_pb2 import CONVERSATION_KIND_GROUP
from hearth_sdk import Endpoints, IdentityClient, MessagingDevice, error_info, retrying

hearth = Endpoints.load(sys.argv[1] if len(sys.argv) > 1 else "var/endpoints.json")
run = hearth.data_dir / "devices" / f"conversations-{uuid.uuid4().hex[:8]}"


def person(name: str, role: int) -> tuple[IdentityClient, MessagingDevice]:
    client = IdentityClient(hearth.channel("identity"), run / f"{name}.json")
    client.register(role, display_name=name)  # type: ignore[arg-type]
    phone = MessagingDevice(hearth.channel("messaging"), client.session, client.account_id)
    phone.publish()
    return client, phone


def refusal(call: grpc.RpcError) -> str:
    info = error_info(call)
    assert info is not None, "every refusal of a Hearth service carries an ErrorInfo"
    return f"{call.code().name} {info.reason} ({info.domain}) {dict(info.metadata)}"


(zoe, zoe_phone), (yan, _) = person("Zoe", ROLE_YOUNG_PERSON), person("Yan", ROLE_YOUNG_PERSON)
(xia, _), (mo, _) = person("Xia", ROLE_YOUNG_PERSON), person("Mo", ROLE_CHILD)

# Nobody talks before accepting the house rules.
try:
    zoe_phone.start_conversation([yan.account_id])
except grpc.RpcError as e:
    print("before the house rules:", refusal(e))
for client in (yan, xia, mo, zoe):
    client.accept_house_rules()

# Two young people of the same or adjacent age bands may talk. Messaging hears of the
# acceptance from identity's events: `retrying` sends the same request again until it has.
direct = retrying(lambda: zoe_phone.start_conversation([yan.account_id], request_id="zoe-yan"))
print("direct:", direct.conversation_id, "members:", len(direct.member_account_ids))
group = zoe_phone.start_conversation(
    [yan.account_id, xia.account_id], kind=CONVERSATION_KIND_GROUP, request_id="zoe-group"
)
print("group:", len(group.member_account_ids), "members")

# A young person may not start talking to an under-13 child.
try:
    zoe_phone.start_conversation([mo.account_id])
except grpc.RpcError as e:
    print("to a child:", refusal(e))

# After a block, the blocked account cannot reach the one who blocked it.
zoe_phone.block(xia.account_id)
try:
    xia_phone = person("Xia", ROLE_YOUNG_PERSON)[1]  # the same account, a new device
    xia_phone.start_conversation([zoe.account_id])
except grpc.RpcError as e:
    print("after a block:", refusal(e))
