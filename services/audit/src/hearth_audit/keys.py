"""The audit service's secrets: its checkpoint signing key and its pseudonym key.

Both come from configuration (Kubernetes Secrets in production). In development, when unset,
they are generated once and kept under the data directory, as the session key is.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from hearth_crypto.checkpoint import NoteError, NoteSigner
from hearth_runtime.config import ConfigError, Env, RuntimeConfig
from hearth_runtime.secret_files import development_secret

DEFAULT_ORIGIN = "hearth.local/audit"


def checkpoint_signer(config: RuntimeConfig) -> NoteSigner:
    """HEARTH_AUDIT_CHECKPOINT_KEY: a note private key, PRIVATE+KEY+<origin>+<id>+<key>."""
    env = Env(config.environ, "audit")
    spec = env.raw("HEARTH_AUDIT_CHECKPOINT_KEY")
    if spec is None:
        origin = env.text("HEARTH_AUDIT_ORIGIN", DEFAULT_ORIGIN)
        spec = (
            development_secret(
                config.environ,
                config.data_dir / "keys" / "audit-checkpoint.key",
                lambda: NoteSigner.generate(origin).private_key().encode(),
                variable="HEARTH_AUDIT_CHECKPOINT_KEY",
            )
            .decode()
            .strip()
        )
    try:
        return NoteSigner.from_private_key(spec)
    except NoteError as e:
        raise ConfigError(f"HEARTH_AUDIT_CHECKPOINT_KEY is not a note private key: {e}") from e


def pseudonym_key(config: RuntimeConfig) -> bytes:
    """HEARTH_AUDIT_PSEUDONYM_KEY: base64 of at least 32 random bytes."""
    spec = Env(config.environ, "audit").raw("HEARTH_AUDIT_PSEUDONYM_KEY")
    if spec is None:
        spec = (
            development_secret(
                config.environ,
                config.data_dir / "keys" / "audit-pseudonym.key",
                lambda: base64.b64encode(secrets.token_bytes(32)),
                variable="HEARTH_AUDIT_PSEUDONYM_KEY",
            )
            .decode()
            .strip()
        )
    try:
        key = base64.b64decode(spec, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) < 32:
        raise ConfigError("HEARTH_AUDIT_PSEUDONYM_KEY is not base64 of at least 32 bytes")
    return key
