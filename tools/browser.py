"""The browser the console's tests drive: Debian's Chromium, never a download of Playwright's.

`--ensure` installs the Debian package `chromium` with apt-get when it is missing and we are
root on Debian (as `make test` does, like `image-tools` for buildah), or says what is missing
and exits non-zero. The browser tests fail with the same reason when it is missing: they are
never skipped.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

CHROMIUM = "/usr/bin/chromium"
PACKAGE = "chromium"


def chromium() -> str | None:
    """The system Chromium's path, or None when it is not installed."""
    return CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")


def ensure() -> str:
    found = chromium()
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise SystemExit(
            "chromium is not installed and this is not a root Debian machine: install the "
            f"Debian package {PACKAGE} (the console's browser tests need it)"
        )
    print(f"installing {PACKAGE} with apt-get", file=sys.stderr, flush=True)
    environ = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for args in (["update", "-qq"], ["install", "-y", "-qq", "--no-install-recommends", PACKAGE]):
        subprocess.run(["apt-get", *args], check=True, env=environ, stdout=subprocess.DEVNULL)
    found = chromium()
    if not found:
        raise SystemExit(f"apt-get installed {PACKAGE} but {CHROMIUM} is not there")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ensure", action="store_true", help="install chromium when missing")
    args = parser.parse_args()
    print(ensure() if args.ensure else (chromium() or "chromium is not installed"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
