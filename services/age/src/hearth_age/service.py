"""How the runtime builds the age service (entry point `hearth.services: age`)."""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from nacl.signing import SigningKey, VerifyKey

from hearth_proto.hearth.age.v1 import age_pb2, age_pb2_grpc
from hearth_runtime.access import ANY_SESSION, roles
from hearth_runtime.config import ConfigError, Env, RuntimeConfig
from hearth_runtime.follow import FollowSettings, StreamFollower
from hearth_runtime.server import ServiceParts

from .application import AgeAssurance, AgeSettings
from .keys import Epochs, Keyring
from .servicer import AgeServicer
from .verifiers import BrightnessEstimator, SignedTestDocumentVerifier

SERVICE = age_pb2.DESCRIPTOR.services_by_name["AgeService"].full_name
VOUCHERS = ("practitioner", "guardian")
RULES = {
    f"/{SERVICE}/GetIssuerKeys": ANY_SESSION,
    f"/{SERVICE}/StartVerification": ANY_SESSION,
    f"/{SERVICE}/SubmitDocument": ANY_SESSION,
    f"/{SERVICE}/SubmitFaceImage": ANY_SESSION,
    f"/{SERVICE}/Vouch": roles(*VOUCHERS),
    f"/{SERVICE}/IssueTokens": ANY_SESSION,
    f"/{SERVICE}/GetRedemptionChallenge": ANY_SESSION,
    f"/{SERVICE}/RedeemToken": ANY_SESSION,
}
DEV_AUTHORITY = "hearth-dev-authority"
EPOCH_DAYS = 90


def build(config: RuntimeConfig) -> ServiceParts:
    env = Env(config.environ)
    key_dir = Path(env.text("HEARTH_AGE_KEY_DIR", str(config.data_dir / "keys" / "age")))
    keyring = Keyring(
        key_dir,
        Epochs(env.whole("HEARTH_AGE_EPOCH_SECONDS", EPOCH_DAYS * 86400, minimum=1)),
        generate=env.flag("HEARTH_AGE_GENERATE_KEYS", True),
    )
    app = AgeAssurance(
        keyring=keyring,
        secret=service_secret(env, key_dir),
        documents=SignedTestDocumentVerifier(document_authorities(env, key_dir)),
        estimator=BrightnessEstimator(),
        settings=AgeSettings(
            max_batch=env.whole("HEARTH_AGE_MAX_BATCH", 30, minimum=1, maximum=1000),
            estimation_buffer=env.number("HEARTH_AGE_ESTIMATION_BUFFER", 2.0),
        ),
        env=config.application_env(),
    )
    try:
        app.publish_current_keys()
    except BaseException:
        app.close()
        raise
    return ServiceParts(
        name="age",
        servicers=[(age_pb2_grpc.add_AgeServiceServicer_to_server, AgeServicer(app))],
        service_names=[SERVICE],
        rules=RULES,
        applications=[app],
        # Identity's PractitionerVetted and GuardianLinked say who may vouch for whom.
        followers=[
            StreamFollower(
                app,
                "identity",
                config.application_env(),
                settings=FollowSettings.from_env(Env(config.environ, "age")),
            )
        ],
    )


def _dev_secret_file(path: Path, make: bytes) -> bytes:
    """Development only: a 32-byte secret generated once and kept under the data dir."""
    if path.exists():
        return base64.b64decode(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it just now
        return base64.b64decode(path.read_text().strip())
    with os.fdopen(fd, "w") as out:
        out.write(base64.b64encode(make).decode())
    return make


def service_secret(env: Env, key_dir: Path) -> bytes:
    """MAC key for redemption challenges and verification capabilities."""
    raw = env.raw("HEARTH_AGE_SECRET")
    if raw is None:
        return _dev_secret_file(key_dir / "service-secret.key", os.urandom(32))
    try:
        secret = base64.b64decode(raw, validate=True)
    except binascii.Error:
        raise ConfigError("HEARTH_AGE_SECRET is not base64") from None
    if len(secret) < 32:
        raise ConfigError("HEARTH_AGE_SECRET must be at least 32 bytes")
    return secret


def dev_authority_key(key_dir: Path) -> SigningKey:
    """The development test issuing authority (its private key is for tests and the demo)."""
    return SigningKey(
        _dev_secret_file(key_dir / "document-authority.seed", bytes(SigningKey.generate()))
    )


def document_authorities(env: Env, key_dir: Path) -> dict[str, VerifyKey]:
    """`name:base64(Ed25519 public key),...`; development: a generated test authority."""
    spec = env.raw("HEARTH_AGE_DOCUMENT_AUTHORITIES")
    if spec is None:
        return {DEV_AUTHORITY: dev_authority_key(key_dir).verify_key}
    found: dict[str, VerifyKey] = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, encoded = item.partition(":")
        try:
            found[name] = VerifyKey(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            raise ConfigError(
                f"HEARTH_AGE_DOCUMENT_AUTHORITIES entry {name!r} is not name:base64(32-byte key)"
            ) from None
    if not found:
        raise ConfigError("HEARTH_AGE_DOCUMENT_AUTHORITIES names no authority")
    return found
