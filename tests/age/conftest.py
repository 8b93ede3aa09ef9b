"""The age service (and identity, whose events it follows) on the session's nats-server, with
issuer keys made once per session."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hearth_age.domain import MethodClass
from hearth_age.keys import Epochs, key_file
from hearth_crypto import blind_rsa
from hearth_crypto.age_band import AgeBand
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from tests.conftest import stream_environ, unique_name
from tests.support.platform import running

EPOCH_SECONDS = 90 * 86400


@pytest.fixture(scope="session")
def age_key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Issuer keys shared by every age test (generating twelve RSA keys per module is slow),
    plus one key of the epoch before this one: the issuer's key for tokens now expired."""
    directory = tmp_path_factory.mktemp("age-keys")
    past = Epochs(EPOCH_SECONDS).of(time.time()) - 1
    path = key_file(directory, AgeBand.AGE_13_15, MethodClass.DOCUMENT, past)
    path.write_bytes(blind_rsa.PrivateKey.generate().to_pem())
    return directory


def age_environ(prefix: str, key_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **stream_environ(prefix, "identity", "age"),
        "HEARTH_AGE_KEY_DIR": str(key_dir),
        "HEARTH_AGE_EPOCH_SECONDS": str(EPOCH_SECONDS),
        **extra,
    }


@pytest.fixture(scope="module")
def platform(
    nats_server: EmbeddedNats, tmp_path_factory: pytest.TempPathFactory, age_key_dir: Path
) -> Iterator[Platform]:
    environ = age_environ(unique_name("a"), age_key_dir)
    with running(nats_server, tmp_path_factory, "platform", environ, ["identity", "age"]) as p:
        yield p
