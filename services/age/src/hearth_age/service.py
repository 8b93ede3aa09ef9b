"""How the runtime builds the age service (entry point `hearth.services: age`)."""

from __future__ import annotations

import base64
import binascii
import importlib
import os
import typing
from collections.abc import Callable
from pathlib import Path

from nacl.signing import SigningKey, VerifyKey

from hearth_proto.hearth.age.v1 import age_pb2, age_pb2_grpc
from hearth_runtime.access import ANY_SESSION, roles
from hearth_runtime.config import ConfigError, Env, RuntimeConfig
from hearth_runtime.follow import FollowSettings, StreamFollower
from hearth_runtime.secret_files import development_secret, keep_secret, refuse_in_production
from hearth_runtime.server import ServiceParts

from .application import AgeAssurance, AgeSettings
from .keys import Epochs, Keyring
from .servicer import AgeServicer
from .verifiers import (
    AgeEstimator,
    BrightnessEstimator,
    DocumentVerifier,
    NotOffered,
    SignedTestDocumentVerifier,
)

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
DEVELOPMENT = "development"
EPOCH_DAYS = 90


def build(config: RuntimeConfig) -> ServiceParts:
    env = Env(config.environ)
    key_dir = Path(env.text("HEARTH_AGE_KEY_DIR", str(config.data_dir / "keys" / "age")))
    generate = env.flag("HEARTH_AGE_GENERATE_KEYS", True)
    if generate:
        refuse_in_production(
            config.environ,
            "generated age issuer keys",
            f"put the issuer keys in HEARTH_AGE_KEY_DIR ({key_dir}) and set "
            "HEARTH_AGE_GENERATE_KEYS=false",
        )
    keyring = Keyring(
        key_dir,
        Epochs(env.whole("HEARTH_AGE_EPOCH_SECONDS", EPOCH_DAYS * 86400, minimum=1)),
        generate=generate,
    )
    app = AgeAssurance(
        keyring=keyring,
        secret=service_secret(env, key_dir),
        documents=document_verifier(env, key_dir),
        estimator=age_estimator(env),
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
        revocations=app.revocations,
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


def _plugged(
    env: Env, variable: str, off: object, development: Callable[[], object], what: str, fix: str
) -> object:
    """`variable` is `development`, `off`, or the `module:factory` of a real part (called with
    the service's Env); production refuses the development part (`what`), saying `fix`."""
    spec = env.text(variable, DEVELOPMENT)
    if spec == "off":
        return off
    if spec == DEVELOPMENT:
        refuse_in_production(env.environ, what, fix)
        return development()
    module, _, attribute = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError, ValueError):
        raise ConfigError(
            f"{variable}={spec!r} is not {DEVELOPMENT}, off, or an importable module:factory"
        ) from None
    built: object = factory(env)
    return built


def document_verifier(env: Env, key_dir: Path) -> DocumentVerifier:
    """HEARTH_AGE_DOCUMENT_VERIFIER: `development` (signed test documents), `off`, or the
    `module:factory` of a real verifier; production refuses the development one."""
    built = _plugged(
        env,
        "HEARTH_AGE_DOCUMENT_VERIFIER",
        NotOffered("document verification"),
        lambda: SignedTestDocumentVerifier(document_authorities(env, key_dir)),
        "the development document verifier (signed test documents)",
        "set HEARTH_AGE_DOCUMENT_VERIFIER to a real verifier's module:factory, or off",
    )
    return typing.cast(DocumentVerifier, built)


def age_estimator(env: Env) -> AgeEstimator:
    """HEARTH_AGE_ESTIMATOR: `development` (the brightness estimator), `off`, or the
    `module:factory` of a real estimator; production refuses the brightness estimator."""
    built = _plugged(
        env,
        "HEARTH_AGE_ESTIMATOR",
        NotOffered("age estimation"),
        BrightnessEstimator,
        "the brightness age estimator (development only)",
        "set HEARTH_AGE_ESTIMATOR to a real estimator's module:factory, or off",
    )
    return typing.cast(AgeEstimator, built)


def service_secret(env: Env, key_dir: Path) -> bytes:
    """MAC key for redemption challenges and verification capabilities."""
    raw = env.raw("HEARTH_AGE_SECRET")
    if raw is None:
        kept = development_secret(
            env.environ,
            key_dir / "service-secret.key",
            lambda: base64.b64encode(os.urandom(32)),
            variable="HEARTH_AGE_SECRET",
        )
        return base64.b64decode(kept.strip())
    try:
        secret = base64.b64decode(raw, validate=True)
    except binascii.Error:
        raise ConfigError("HEARTH_AGE_SECRET is not base64") from None
    if len(secret) < 32:
        raise ConfigError("HEARTH_AGE_SECRET must be at least 32 bytes")
    return secret


def dev_authority_key(key_dir: Path) -> SigningKey:
    """The development test issuing authority (its private key is for tests and the demo)."""
    kept = keep_secret(
        key_dir / "document-authority.seed",
        lambda: base64.b64encode(bytes(SigningKey.generate())),
    )
    return SigningKey(base64.b64decode(kept.strip()))


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
