"""Development secrets kept in files, and the guard that keeps them out of production.

When a key is not configured, a service in development generates it once and keeps it under
the data directory. `keep_secret` is the one way that is done: the secret is written owner-only
(0600) to a scratch file, flushed, then hard-linked into place, so a reader never sees half a
secret and two processes starting at once agree on one (the first link wins; the other reads
it). `development_secret` adds the guard: with `HEARTH_ENV=production` a generated key is
refused, naming the variable that configures the real one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path

from .config import ConfigError, Env

ENVIRONMENTS = ("development", "production")


def in_production(environ: Mapping[str, str]) -> bool:
    """`HEARTH_ENV=production` (default `development`)."""
    return Env(environ).choice("HEARTH_ENV", "development", ENVIRONMENTS) == "production"


def refuse_in_production(environ: Mapping[str, str], what: str, remedy: str) -> None:
    """Stop a production start that would use a development stand-in (`what`)."""
    if in_production(environ):
        raise ConfigError(f"HEARTH_ENV=production refuses {what}: {remedy}")


def keep_secret(path: Path, make: Callable[[], bytes]) -> bytes:
    """The secret kept at `path`, made with `make()` and written once if there is none."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    secret = make()
    scratch = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.partial")
    descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(secret)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(scratch, path)  # atomic, and refuses to replace a secret already kept
        except FileExistsError:
            return path.read_bytes()
    finally:
        scratch.unlink(missing_ok=True)
    return secret


def development_secret(
    environ: Mapping[str, str], path: Path, make: Callable[[], bytes], *, variable: str
) -> bytes:
    """A development secret at `path` for when `variable` is unset; refused in production."""
    refuse_in_production(environ, f"a generated development key for {variable}", f"set {variable}")
    return keep_secret(path, make)
