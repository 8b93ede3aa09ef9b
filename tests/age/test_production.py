"""`HEARTH_ENV=production`: the age service refuses every development stand-in, naming the
variable that configures the real one, and starts with real configuration: mounted issuer
keys, a configured secret, a plugged-in estimator (`module:factory`), documents turned off."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import grpc
import pytest
from nacl.signing import SigningKey

from hearth_age.keys import Epochs, Keyring
from hearth_age.service import build
from hearth_proto.hearth.age.v1 import age_pb2, types_pb2
from hearth_runtime.config import ConfigError, Env, RuntimeConfig
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from hearth_runtime.sessions import SessionSigner, format_signing_key
from hearth_sdk.age import synthetic_face
from tests.age.conftest import EPOCH_SECONDS, age_environ
from tests.age.support import age_client
from tests.conftest import unique_name
from tests.support.status import refused

SECRET = base64.b64encode(b"s" * 32).decode()


class FixedEstimator:
    """What a real estimator plugs in as: here it always says 40."""

    name = "estimation/test-fixed"

    def estimate(self, image: bytes) -> float:
        return 40.0


def fixed_estimator(env: Env) -> FixedEstimator:
    """The `module:factory` that HEARTH_AGE_ESTIMATOR names; it gets the service's Env."""
    return FixedEstimator()


def production(key_dir: Path) -> dict[str, str]:
    return {
        "HEARTH_ENV": "production",
        "HEARTH_AGE_KEY_DIR": str(key_dir),
        "HEARTH_AGE_EPOCH_SECONDS": str(EPOCH_SECONDS),
        "HEARTH_AGE_GENERATE_KEYS": "false",
        "HEARTH_AGE_SECRET": SECRET,
        "HEARTH_AGE_DOCUMENT_VERIFIER": "off",
        "HEARTH_AGE_ESTIMATOR": f"{__name__}:fixed_estimator",
    }


@pytest.fixture(scope="module")
def mounted_keys(age_key_dir: Path) -> Path:
    """Issuer keys of the current epoch, as a production Secret would hold them."""
    Keyring(age_key_dir, Epochs(EPOCH_SECONDS), generate=True).all_current(time.time())
    return age_key_dir


@pytest.mark.parametrize(
    ("unset", "named"),
    [
        ("HEARTH_AGE_GENERATE_KEYS", "HEARTH_AGE_GENERATE_KEYS"),
        ("HEARTH_AGE_SECRET", "HEARTH_AGE_SECRET"),
        ("HEARTH_AGE_DOCUMENT_VERIFIER", "HEARTH_AGE_DOCUMENT_VERIFIER"),
        ("HEARTH_AGE_ESTIMATOR", "HEARTH_AGE_ESTIMATOR"),
    ],
)
def test_production_refuses_each_development_stand_in(
    mounted_keys: Path, unset: str, named: str
) -> None:
    environ = {k: v for k, v in production(mounted_keys).items() if k != unset}
    with pytest.raises(ConfigError, match=f"HEARTH_ENV=production refuses .*{named}"):
        build(RuntimeConfig.from_env("age", environ))


def test_a_plugged_verifier_that_does_not_import_is_named(mounted_keys: Path) -> None:
    environ = {**production(mounted_keys), "HEARTH_AGE_ESTIMATOR": "no.such.module:factory"}
    with pytest.raises(ConfigError, match=r"HEARTH_AGE_ESTIMATOR='no\.such\.module:factory'"):
        build(RuntimeConfig.from_env("age", environ))


def test_production_starts_with_real_configuration(
    nats_server: EmbeddedNats, tmp_path: Path, mounted_keys: Path
) -> None:
    signer = SessionSigner("prod-1", SigningKey.generate())
    environ = {
        **age_environ(unique_name("prod"), mounted_keys),
        **production(mounted_keys),
        "HEARTH_SESSION_SIGNING_KEY": format_signing_key(signer),
    }
    platform = Platform(
        tmp_path / "platform", services=["age"], environ=environ, nats_url=nats_server.url
    ).start()
    try:
        assert platform.signer.key_id == "prod-1"  # the configured key, none generated
        assert not (tmp_path / "platform" / "keys").exists()
        client = age_client(platform, tmp_path)
        estimated = client.start_verification(types_pb2.METHOD_CLASS_ESTIMATION)
        decision = client.submit_face_image(estimated, synthetic_face(10))
        assert decision.band == types_pb2.AGE_BAND_18_PLUS  # the plugged estimator decided
        documented = client.start_verification(types_pb2.METHOD_CLASS_DOCUMENT)
        request = age_pb2.SubmitDocumentRequest(
            verification_id=documented, document=b"doc", signature=bytes(64)
        )
        details = refused(
            grpc.StatusCode.FAILED_PRECONDITION,
            client.stub.SubmitDocument,
            request,
            metadata=client.metadata,
        )
        assert "document verification is not offered" in details
    finally:
        platform.stop()
