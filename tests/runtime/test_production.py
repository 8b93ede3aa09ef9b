"""`HEARTH_ENV=production` refuses generated development keys, each named in the error, and
starts when real ones are configured (nothing is generated under the data directory)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from hearth_audit.keys import checkpoint_signer, pseudonym_key
from hearth_crypto.checkpoint import NoteSigner
from hearth_messaging.service import relay_key
from hearth_runtime.config import ConfigError, Env, RuntimeConfig
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from hearth_runtime.sessions import SessionSigner, format_signing_key
from hearth_safety.service import pack_signer
from tests.conftest import stream_environ, unique_name

PRODUCTION = {"HEARTH_ENV": "production"}
KEY = base64.b64encode(b"k" * 32).decode()


def test_hearth_up_refuses_a_generated_session_signing_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"production refuses .*HEARTH_SESSION_SIGNING_KEY"):
        Platform(tmp_path, environ=PRODUCTION)
    assert not (tmp_path / "keys").exists()


@pytest.mark.parametrize(
    ("named", "keep"),
    [
        ("HEARTH_AUDIT_CHECKPOINT_KEY", checkpoint_signer),
        ("HEARTH_AUDIT_PSEUDONYM_KEY", pseudonym_key),
    ],
)
def test_audit_refuses_generated_keys(tmp_path: Path, named: str, keep: object) -> None:
    config = RuntimeConfig.from_env("audit", {**PRODUCTION, "HEARTH_DATA_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match=f"production refuses .*{named}"):
        keep(config)  # type: ignore[operator]
    assert not (tmp_path / "keys").exists()


def test_messaging_refuses_a_generated_franking_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"production refuses .*HEARTH_MESSAGING_FRANKING_KEY"):
        relay_key(Env(PRODUCTION, "messaging"), tmp_path)
    assert not list(tmp_path.iterdir())


def test_safety_refuses_a_generated_pack_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"production refuses .*HEARTH_SAFETY_PACK_KEY"):
        pack_signer(Env(PRODUCTION, "safety"), tmp_path)
    assert not list(tmp_path.iterdir())
    configured = pack_signer(Env({**PRODUCTION, "HEARTH_SAFETY_PACK_KEY": KEY}, "safety"), tmp_path)
    assert configured.public_key == bytes(SigningKey(b"k" * 32).verify_key)
    with pytest.raises(ConfigError, match="32-byte Ed25519 seed"):
        pack_signer(Env({"HEARTH_SAFETY_PACK_KEY": "c2hvcnQ="}, "safety"), tmp_path)


def test_production_starts_with_configured_keys(nats_server: EmbeddedNats, tmp_path: Path) -> None:
    signer = SessionSigner("prod-1", SigningKey.generate())
    environ = {
        **stream_environ(unique_name("prod"), "identity", "audit", "messaging"),
        **PRODUCTION,
        "HEARTH_SESSION_SIGNING_KEY": format_signing_key(signer),
        "HEARTH_AUDIT_CHECKPOINT_KEY": NoteSigner.generate("prod.example/audit").private_key(),
        "HEARTH_AUDIT_PSEUDONYM_KEY": KEY,
        "HEARTH_AUDIT_FOLLOW": "identity,messaging",
        "HEARTH_MESSAGING_FRANKING_KEY": KEY,
    }
    platform = Platform(
        tmp_path,
        services=["identity", "messaging", "audit"],
        environ=environ,
        nats_url=nats_server.url,
    ).start()
    try:
        assert sorted(platform.hosts) == ["audit", "identity", "messaging"]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["endpoints.json"]
    finally:
        platform.stop()
