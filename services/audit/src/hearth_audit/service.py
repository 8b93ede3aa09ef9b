"""How the runtime builds the audit service (entry point `hearth.services: audit`)."""

from __future__ import annotations

from hearth_proto.hearth.audit.v1 import audit_pb2, audit_pb2_grpc
from hearth_runtime.access import Access, roles
from hearth_runtime.config import ConfigError, Env, RuntimeConfig
from hearth_runtime.follow import FollowSettings, StreamFollower
from hearth_runtime.server import ServiceParts

from .application import Audit, CheckpointPolicy
from .domain import AUDIT_STREAM
from .keys import checkpoint_signer, pseudonym_key
from .servicer import AuditServicer

SERVICE = audit_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name
DEFAULT_FOLLOW = "identity,age,messaging,safety"
# Checkpoints and proofs are for anyone checking the log (auditors, the staff it concerns,
# witnesses run by regulators); trails and figures for auditors; disclosure for the two roles.
LOG_READERS = roles("auditor", "safeguarding_lead", "data_protection_officer")
RULES: dict[str, Access] = {
    f"/{SERVICE}/GetLogState": roles("auditor", "safeguarding_lead"),
    f"/{SERVICE}/GetCheckpoint": LOG_READERS,
    f"/{SERVICE}/GetInclusionProof": LOG_READERS,
    f"/{SERVICE}/GetConsistencyProof": LOG_READERS,
    f"/{SERVICE}/WitnessCheckpoint": LOG_READERS,
    f"/{SERVICE}/GetTrail": roles("auditor", "safeguarding_lead"),
    f"/{SERVICE}/GetTransparencyFigures": roles("auditor", "safeguarding_lead"),
    # A record keeper asks for its records' disclosure (a coroner's request) and, once the
    # lead and the data protection officer approved, exports the bundle it builds on.
    f"/{SERVICE}/RequestDisclosure": roles("auditor", "safeguarding_lead", "record_keeper"),
    f"/{SERVICE}/ApproveDisclosure": roles("safeguarding_lead", "data_protection_officer"),
    f"/{SERVICE}/ExportBundle": roles("auditor", "safeguarding_lead", "record_keeper"),
}


def followed_streams(env: Env) -> list[str]:
    names = [n.strip() for n in env.text("HEARTH_AUDIT_FOLLOW", DEFAULT_FOLLOW).split(",")]
    names = [n for n in names if n]
    if AUDIT_STREAM in names:
        raise ConfigError("HEARTH_AUDIT_FOLLOW must not name audit itself")
    return names


def build(config: RuntimeConfig) -> ServiceParts:
    env = Env(config.environ, "audit")
    followed = followed_streams(env)
    policy = CheckpointPolicy(
        every=env.whole("HEARTH_AUDIT_CHECKPOINT_EVERY", 1000, minimum=1),
        interval=env.number("HEARTH_AUDIT_CHECKPOINT_INTERVAL", 5.0, minimum=0.05),
    )
    upstream_env = config.application_env()
    app = Audit(
        env=config.application_env(),
        signer=checkpoint_signer(config),
        pseudonym_key=pseudonym_key(config),
        policy=policy,
        upstream_env=upstream_env,
        disclosure_days=env.whole("HEARTH_AUDIT_DISCLOSURE_DAYS", 30, minimum=1, maximum=366),
    )
    app.start_checkpoints()
    # Every event is an effect (a leaf), so audit takes them in batches: one recorded event
    # and one tracking record per batch. A followed stream that does not exist yet (its
    # service starts later, or is not installed) is waited for, never created here.
    settings = FollowSettings.from_env(
        env,
        batch=env.whole("HEARTH_FOLLOW_BATCH", 500, minimum=1, maximum=1000),
        linger=env.seconds("HEARTH_FOLLOW_LINGER", 0.02),
    )
    followers = [StreamFollower(app, name, upstream_env, settings=settings) for name in followed]
    return ServiceParts(
        name="audit",
        servicers=[(audit_pb2_grpc.add_AuditServiceServicer_to_server, AuditServicer(app))],
        service_names=[SERVICE],
        rules=RULES,
        applications=[app],
        revocations=app.revocations,
        followers=followers,
    )
