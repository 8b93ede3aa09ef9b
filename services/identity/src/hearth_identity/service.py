"""How the runtime builds the identity service (entry point `hearth.services: identity`)."""

from __future__ import annotations

from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.access import ANY_SESSION, PUBLIC
from hearth_runtime.config import RuntimeConfig
from hearth_runtime.server import ServiceParts

from .application import Identity
from .servicer import IdentityServicer

SERVICE = identity_pb2.DESCRIPTOR.services_by_name["IdentityService"].full_name
RULES = {
    f"/{SERVICE}/RegisterAccount": PUBLIC,
    f"/{SERVICE}/GetAccount": ANY_SESSION,
}


def build(config: RuntimeConfig) -> ServiceParts:
    app = Identity(env=config.application_env())
    return ServiceParts(
        name="identity",
        servicers=[
            (identity_pb2_grpc.add_IdentityServiceServicer_to_server, IdentityServicer(app))
        ],
        service_names=[SERVICE],
        rules=RULES,
        applications=[app],
    )
