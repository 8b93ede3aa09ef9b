"""`make image`: build the Hearth container image without a daemon.

The base root filesystem is made by `mmdebstrap` from Debian packages and committed as
`localhost/hearth-base:<key>`, the key a hash of everything that shapes it (suite, mirror,
package list), so it is made once per machine; its tarball is also kept under
`deploy/.cache/` so that a fresh buildah store only re-imports it. `buildah build` then runs
`deploy/Containerfile` with chroot isolation (no daemon, no user namespaces needed); the
image a rebuild replaces is removed, so repeated builds do not fill the disk.

`--ensure-tools` installs buildah and mmdebstrap with apt-get when they are missing and we are
root, or says what is missing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import ssl
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTAINERFILE = ROOT / "deploy" / "Containerfile"
CACHE = ROOT / "deploy" / ".cache"
IMAGE = "localhost/hearth"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
# grpcio needs libstdc++.
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates", "libstdc++6")
# Documentation, manuals and translations are never read in a container.
DPKG_OPTIONS = tuple(
    f"path-exclude=/usr/share/{path}/*" for path in ("doc", "man", "info", "locale")
)
TOOLS = {"buildah": "buildah", "mmdebstrap": "mmdebstrap"}  # command: Debian package


class ImageError(RuntimeError):
    """The image could not be built, or the tools to build it are missing."""


def version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def image_ref() -> str:
    """The image `make image` builds; the manifests name the same version."""
    return f"{IMAGE}:{version()}"


def missing_tools() -> list[str]:
    return [command for command in TOOLS if shutil.which(command) is None]


def ensure_tools() -> None:
    """Install buildah and mmdebstrap with apt-get when missing (root only)."""
    missing = missing_tools()
    if not missing:
        return
    packages = [TOOLS[c] for c in missing]
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ImageError(
            f"{', '.join(missing)} not installed and this is not a root Debian machine: "
            f"install the Debian package(s) {' '.join(packages)}"
        )
    print(f"installing {' '.join(packages)} with apt-get", file=sys.stderr, flush=True)
    environ = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for args in (["update", "-qq"], ["install", "-y", "-qq", "--no-install-recommends", *packages]):
        subprocess.run(["apt-get", *args], check=True, env=environ, stdout=subprocess.DEVNULL)


def base_key() -> str:
    shape = {"suite": SUITE, "mirror": MIRROR, "packages": BASE_PACKAGES, "dpkg": DPKG_OPTIONS}
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=True, text=True, **kwargs)  # type: ignore[call-overload, no-any-return]


def _image_exists(ref: str) -> bool:
    found = subprocess.run(
        ["buildah", "inspect", "--type", "image", ref],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return found.returncode == 0


def base_image() -> str:
    """The base image, made from the cached tarball, or by mmdebstrap when there is none."""
    ref = f"localhost/hearth-base:{base_key()}"
    if _image_exists(ref):
        return ref
    tarball = CACHE / f"base-{base_key()}.tar"
    if not tarball.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = tarball.with_suffix(".partial.tar")
        options = [f"--dpkgopt={o}" for o in DPKG_OPTIONS]
        args = [
            "mmdebstrap", "--quiet", "--variant=essential",
            f"--include={','.join(BASE_PACKAGES)}", *options,
            SUITE, str(partial), MIRROR,
        ]  # fmt: skip
        _run(args)
        partial.rename(tarball)
    container = _run(["buildah", "from", "scratch"], capture_output=True).stdout.strip()
    try:
        _run(["buildah", "add", "--quiet", container, str(tarball), "/"], capture_output=True)
        _run(["buildah", "commit", "--quiet", "--rm", container, ref], capture_output=True)
    except BaseException:
        subprocess.run(["buildah", "rm", container], capture_output=True)
        raise
    return ref


def ca_bundle() -> str:
    """The CA bundle this machine trusts, for the build stage's downloads from PyPI."""
    configured = os.environ.get("SSL_CERT_FILE") or ssl.get_default_verify_paths().cafile
    if not configured or not Path(configured).exists():
        raise ImageError("no CA bundle found: set SSL_CERT_FILE to one")
    return configured


def revision() -> str:
    found = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"],
        capture_output=True,
        text=True,
    )
    return found.stdout.strip() or "unknown"


def build(ref: str | None = None) -> str:
    """Build the image; returns its reference."""
    ref = ref or image_ref()
    base = base_image()
    previous = _image_id(ref)
    args = [
        "buildah", "build", "--quiet", "--layers=false", "--isolation", "chroot",
        "--network", "host",
        "--file", str(CONTAINERFILE),
        "--build-arg", f"BASE={base}",
        "--build-arg", f"VERSION={version()}",
        "--build-arg", f"REVISION={revision()}",
        "--secret", f"id=cacert,src={ca_bundle()}",
        "--tag", ref,
        str(ROOT),
    ]  # fmt: skip
    _run(args)
    if previous and previous != _image_id(ref):  # the image this tag named before
        subprocess.run(["buildah", "rmi", previous], capture_output=True)
    return ref


def _image_id(ref: str) -> str:
    found = subprocess.run(
        ["buildah", "inspect", "--type", "image", "--format", "{{.FromImageID}}", ref],
        capture_output=True,
        text=True,
    )
    return found.stdout.strip() if found.returncode == 0 else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/image.py", description=__doc__)
    parser.add_argument("--ensure-tools", action="store_true", help="install buildah/mmdebstrap")
    parser.add_argument("--tag", help=f"image reference (default {image_ref()})")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        ensure_tools()
        if args.ensure_tools:
            return 0
        ref = build(args.tag)
    except (ImageError, subprocess.CalledProcessError) as e:
        print(f"image: {e}", file=sys.stderr)
        return 1
    print(f"built {ref} in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
