"""Development secrets: written once, owner-only, whole; racing starts agree on one secret."""

from __future__ import annotations

import os
import secrets
import stat
import threading
from pathlib import Path

import pytest

from hearth_runtime.config import ConfigError
from hearth_runtime.secret_files import development_secret, in_production, keep_secret


def test_a_secret_is_made_once_and_kept_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "one.key"
    made = keep_secret(path, lambda: b"first")
    assert made == b"first"
    assert keep_secret(path, lambda: b"second") == b"first"  # kept, not made again
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(os.listdir(path.parent)) == ["one.key"]  # no scratch file left behind


def test_racing_starts_agree_on_one_whole_secret(tmp_path: Path) -> None:
    path = tmp_path / "raced.key"
    start = threading.Barrier(8)
    seen: list[bytes] = []

    def racer() -> None:
        start.wait()
        seen.append(keep_secret(path, lambda: secrets.token_bytes(4096)))

    threads = [threading.Thread(target=racer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 and len(set(seen)) == 1
    assert len(seen[0]) == 4096 and path.read_bytes() == seen[0]
    assert os.listdir(tmp_path) == ["raced.key"]


def test_production_refuses_a_generated_secret_naming_its_variable(tmp_path: Path) -> None:
    environ = {"HEARTH_ENV": "production"}
    with pytest.raises(ConfigError, match=r"HEARTH_ENV=production .* set HEARTH_X_KEY"):
        development_secret(environ, tmp_path / "x.key", lambda: b"x", variable="HEARTH_X_KEY")
    assert not (tmp_path / "x.key").exists()
    assert development_secret({}, tmp_path / "x.key", lambda: b"x", variable="HEARTH_X_KEY")


def test_hearth_env_is_development_or_production() -> None:
    assert not in_production({})
    assert in_production({"HEARTH_ENV": "production"})
    with pytest.raises(ConfigError, match="HEARTH_ENV"):
        in_production({"HEARTH_ENV": "prod"})
