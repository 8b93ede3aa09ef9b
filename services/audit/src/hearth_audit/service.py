"""How the runtime builds the audit service (entry point `hearth.services: audit`)."""

from __future__ import annotations

from hearth_proto.hearth.audit.v1 import audit_pb2, audit_pb2_grpc
from hearth_runtime.access import roles
from hearth_runtime.config import Env, RuntimeConfig
from hearth_runtime.follow import StreamFollower
from hearth_runtime.server import ServiceParts

from .application import Audit
from .servicer import AuditServicer

SERVICE = audit_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name
RULES = {f"/{SERVICE}/GetLogState": roles("auditor", "safeguarding_lead")}


def build(config: RuntimeConfig) -> ServiceParts:
    followed = Env(config.environ, "audit").text("HEARTH_AUDIT_FOLLOW", "identity").split(",")
    app = Audit(env=config.application_env())
    followers = [
        StreamFollower(app, name.strip(), config.nats_url, config.environ)
        for name in followed
        if name.strip()
    ]
    return ServiceParts(
        name="audit",
        servicers=[(audit_pb2_grpc.add_AuditServiceServicer_to_server, AuditServicer(app))],
        service_names=[SERVICE],
        rules=RULES,
        applications=[app],
        followers=followers,
    )
