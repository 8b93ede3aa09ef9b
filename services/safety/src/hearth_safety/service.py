"""How the runtime builds the safety service (entry point `hearth.services: safety`)."""

from __future__ import annotations

import base64
import binascii
import threading

from hearth_proto.hearth.safety.v1 import safety_pb2, safety_pb2_grpc
from hearth_runtime.access import Access, roles
from hearth_runtime.config import ConfigError, Env, RuntimeConfig
from hearth_runtime.follow import FollowSettings, StreamFollower
from hearth_runtime.server import ServiceParts

from .application import Safety
from .servicer import SafetyServicer

SERVICE = safety_pb2.DESCRIPTOR.services_by_name["SafetyService"].full_name
PARTICIPANTS = ("child", "young_person", "guardian", "practitioner")
STAFF = roles("moderator", "safeguarding_lead")
REPORTERS = roles(*PARTICIPANTS, "moderator", "safeguarding_lead", "org_admin")
EVERYONE = roles(
    *PARTICIPANTS,
    "moderator",
    "safeguarding_lead",
    "org_admin",
    "auditor",
    "data_protection_officer",
)
CASE_WORK = (
    "ListQueue",
    "GetCase",
    "ReadReportedContent",
    "EscalateCase",
    "TakeAction",
    "LiftAction",
    "RecordOutcome",
    "CloseCase",
    "ReopenCase",
    "StartShift",
    "RecordShiftConcern",
    "ReportConcernToLead",
    "EndShift",
    "GetHandover",
)
RULES: dict[str, Access] = {
    f"/{SERVICE}/ReportMessage": REPORTERS,
    f"/{SERVICE}/RaiseConcern": REPORTERS,
    f"/{SERVICE}/GetSupportStatus": EVERYONE,
    **{f"/{SERVICE}/{name}": STAFF for name in CASE_WORK},
    f"/{SERVICE}/AssignCase": roles("safeguarding_lead"),
    f"/{SERVICE}/NameSafeguardingLead": roles("org_admin"),
    f"/{SERVICE}/UpdateOrganisationSettings": roles("org_admin", "safeguarding_lead"),
    f"/{SERVICE}/GetAccountRestrictions": roles("moderator", "safeguarding_lead", "org_admin"),
    f"/{SERVICE}/GetOrganisationSettings": roles("moderator", "safeguarding_lead", "org_admin"),
}


def case_key_wrapping(env: Env) -> bytes | None:
    """`HEARTH_SAFETY_CASE_KEY_WRAPPING`: 32 bytes, base64, sealing each case key in its
    bucket (as identity's subject keys are), so read access to NATS opens no report."""
    configured = env.raw("HEARTH_CASE_KEY_WRAPPING")
    if not configured:
        return None
    try:
        key = base64.b64decode(configured, validate=True)
    except binascii.Error:
        key = b""
    if len(key) != 32:
        raise ConfigError("HEARTH_SAFETY_CASE_KEY_WRAPPING must be 32 bytes, base64")
    return key


def build(config: RuntimeConfig) -> ServiceParts:
    env = Env(config.environ, "safety")
    app = Safety(config.application_env(), case_key_wrapping=case_key_wrapping(env))
    settings = FollowSettings.from_env(env)
    upstream_env = config.application_env()
    followers = [
        StreamFollower(
            app, env.text("HEARTH_IDENTITY_APP", "identity"), upstream_env, settings=settings
        ),
        StreamFollower(
            app, env.text("HEARTH_MESSAGING_APP", "messaging"), upstream_env, settings=settings
        ),
    ]
    # Overdue cases escalate on their own: a sweep every HEARTH_SAFETY_SWEEP_SECONDS.
    interval = env.seconds("HEARTH_SWEEP_SECONDS", 30.0)
    stopping = threading.Event()

    def sweep() -> None:
        while not stopping.wait(interval):
            try:
                app.escalate_overdue()
            except Exception:  # an outage: the next sweep tries again
                continue

    sweeper = threading.Thread(target=sweep, name="safety-overdue-sweep", daemon=True)
    sweeper.start()
    return ServiceParts(
        name="safety",
        servicers=[(safety_pb2_grpc.add_SafetyServiceServicer_to_server, SafetyServicer(app))],
        service_names=[SERVICE],
        rules=RULES,
        applications=[app],
        revocations=app.revocations,
        followers=followers,
        on_stop=[stopping.set],
    )
