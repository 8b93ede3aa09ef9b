"""How the runtime builds the identity service (entry point `hearth.services: identity`)."""

from __future__ import annotations

import base64
import binascii

from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.access import ANY_SESSION, PUBLIC, Access, roles
from hearth_runtime.admin import OPERATOR
from hearth_runtime.config import ConfigError, Env, RuntimeConfig
from hearth_runtime.follow import FollowSettings, StreamFollower
from hearth_runtime.server import ServiceParts
from hearth_runtime.sessions import parse_signing_key

from .application import Identity
from .passkeys import DEVELOPMENT_RP, RelyingParty
from .privacy import HouseRules
from .servicer import IdentityServicer

SERVICE = identity_pb2.DESCRIPTOR.services_by_name["IdentityService"].full_name
ORG_ADMIN = roles("org_admin")
RULES: dict[str, Access] = {
    f"/{SERVICE}/{method}": access
    for method, access in {
        "RegisterAccount": PUBLIC,
        "BeginLogin": PUBLIC,
        "CompleteLogin": PUBLIC,
        "BeginPasskeyEnrolment": PUBLIC,
        "CompletePasskeyEnrolment": PUBLIC,
        "BeginPasskeyLogin": PUBLIC,
        "CompletePasskeyLogin": PUBLIC,
        # Staff only, checked by the servicer so that the refusal says NOT_STAFF.
        "BeginPasskeyRegistration": ANY_SESSION,
        "CompletePasskeyRegistration": ANY_SESSION,
        "GetAccount": ANY_SESSION,
        "AddDevice": ANY_SESSION,
        "RemoveDevice": ANY_SESSION,
        "RenewSession": ANY_SESSION,
        "GetHouseRules": ANY_SESSION,
        "AcceptHouseRules": ANY_SESSION,
        "RecordConsent": ANY_SESSION,
        "ExportMyData": ANY_SESSION,
        "EraseAccount": ANY_SESSION,
        "InviteStaff": roles("org_admin", OPERATOR),
        "CreateOrganisation": ORG_ADMIN,
        "AddOrganisationMember": ORG_ADMIN,
        "VetPractitioner": ORG_ADMIN,
        "ConfirmGuardianLink": ORG_ADMIN,
        "ConsentToGuardianLink": roles("guardian", "child", "young_person"),
        "RecordGuardianConsent": roles("guardian"),
        "ApproveContact": roles("guardian"),
    }.items()
}
HOUSE_RULES = (
    "Be kind. Keep yourself and others safe: do not share where you live or go to school, "
    "and tell someone you trust, or call Childline on 0800 1111, if anything worries you. "
    "Reports are read by trained staff."
)


def wrapping_key(env: Env) -> bytes | None:
    """HEARTH_SUBJECT_KEY_WRAPPING: base64 of 32 bytes that seal the stored subject keys."""
    raw = env.raw("HEARTH_SUBJECT_KEY_WRAPPING")
    if raw is None:
        return None
    try:
        key = base64.b64decode(raw, validate=True)
    except binascii.Error:
        key = b""
    if len(key) != 32:
        raise ConfigError("HEARTH_SUBJECT_KEY_WRAPPING is not base64 of a 32-byte key")
    return key


def relying_party(env: Env) -> RelyingParty:
    """The WebAuthn RP id and the origins passkey ceremonies may happen on (the console's)."""
    origins = env.text("HEARTH_WEBAUTHN_ORIGINS", ",".join(DEVELOPMENT_RP.origins))
    return RelyingParty(
        rp_id=env.text("HEARTH_WEBAUTHN_RP_ID", DEVELOPMENT_RP.rp_id),
        origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
        name=env.text("HEARTH_WEBAUTHN_RP_NAME", DEVELOPMENT_RP.name),
    )


def build(config: RuntimeConfig) -> ServiceParts:
    env = Env(config.environ, "identity")
    if not config.session_signing_key:
        raise ConfigError("HEARTH_SESSION_SIGNING_KEY is not set: identity signs session tokens")
    app = Identity(
        env=config.application_env(),
        signer=parse_signing_key(config.session_signing_key),
        house_rules=HouseRules(
            version=env.whole("HEARTH_HOUSE_RULES_VERSION", 1, minimum=1),
            text=env.text("HEARTH_HOUSE_RULES_TEXT", HOUSE_RULES),
        ),
        session_lifetime=env.whole("HEARTH_SESSION_LIFETIME", 900, minimum=30, maximum=86400),
        challenge_lifetime=env.number("HEARTH_LOGIN_CHALLENGE_LIFETIME", 60.0, minimum=1.0),
        invitation_lifetime=env.whole("HEARTH_INVITATION_LIFETIME", 7 * 86400, minimum=60),
        subject_key_wrapping=wrapping_key(env),
        relying_party=relying_party(env),
    )
    followers = []
    if env.flag("HEARTH_FOLLOW_AGE", True):
        followers.append(
            StreamFollower(
                app, "age", config.application_env(), settings=FollowSettings.from_env(env)
            )
        )
    # The safety team's restrictions, shown to staff with the account.
    if env.flag("HEARTH_FOLLOW_SAFETY", True):
        followers.append(
            StreamFollower(
                app,
                env.text("HEARTH_SAFETY_APP", "safety"),
                config.application_env(),
                settings=FollowSettings.from_env(env),
            )
        )
    return ServiceParts(
        name="identity",
        servicers=[
            (identity_pb2_grpc.add_IdentityServiceServicer_to_server, IdentityServicer(app))
        ],
        service_names=[SERVICE],
        rules=RULES,
        applications=[app],
        revocations=app.revocations,
        followers=followers,
    )
