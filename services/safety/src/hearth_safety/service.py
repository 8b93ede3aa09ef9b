"""How the runtime builds the safety service (entry point `hearth.services: safety`)."""

from __future__ import annotations

import base64
import binascii
import os
import threading
from pathlib import Path

from hearth_proto.hearth.safety.v1 import safety_pb2, safety_pb2_grpc
from hearth_runtime.access import Access, roles
from hearth_runtime.config import ConfigError, Env, RuntimeConfig
from hearth_runtime.follow import FollowSettings, StreamFollower
from hearth_runtime.secret_files import development_secret
from hearth_runtime.server import ServiceParts

from .application import Safety
from .packs import PackSigner
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
    "AddCaseNote",
    "ReadCaseNotes",
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
    f"/{SERVICE}/PublishPack": roles("org_admin"),
    f"/{SERVICE}/GetPack": EVERYONE,
    f"/{SERVICE}/GetPackKeys": EVERYONE,
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


def pack_signer(env: Env, data_dir: Path) -> PackSigner:
    """`HEARTH_SAFETY_PACK_KEY`: the pack signing key, a 32-byte Ed25519 seed, base64; kept
    under the data dir in development. Rotating it is configuring a new one: the keys recorded
    before stay in the log (`GetPackKeys`), so the packs they signed still verify."""
    configured = env.raw("HEARTH_PACK_KEY")
    if configured:
        try:
            seed = base64.b64decode(configured, validate=True)
        except binascii.Error:
            seed = b""
        if len(seed) != 32:
            raise ConfigError("HEARTH_SAFETY_PACK_KEY must be a 32-byte Ed25519 seed, base64")
        return PackSigner(seed)
    return PackSigner(
        development_secret(
            env.environ,
            data_dir / "keys" / "safety-pack-signing.key",
            lambda: os.urandom(32),
            variable="HEARTH_SAFETY_PACK_KEY",
        )
    )


def build(config: RuntimeConfig) -> ServiceParts:
    env = Env(config.environ, "safety")
    app = Safety(
        config.application_env(),
        case_key_wrapping=case_key_wrapping(env),
        pack_signer=pack_signer(env, config.data_dir),
        # Reports of people in no organisation go to the platform's own moderators, if set.
        platform_organisation=env.text("HEARTH_PLATFORM_ORGANISATION", ""),
    )
    try:
        app.publish_pack_key()
    except BaseException:
        app.close()
        raise
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
